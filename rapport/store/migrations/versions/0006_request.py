"""Request: the catalogue with stock (what may be offered) and the trained offer models.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from rapport.store.tables import JSONType, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_items",
        sa.Column("sku", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(400), nullable=True),
        sa.Column("category", sa.String(200), nullable=True),
        sa.Column("price", sa.Float, nullable=True),
        sa.Column("on_hand", sa.Integer, nullable=False),
        sa.Column("deliverable_via", sa.String(64), nullable=True),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "offer_models",
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("trained_at", UTCDateTime, nullable=False),
        sa.Column("summary", JSONType, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_offer_models_trained_at", "offer_models", ["trained_at"])


def downgrade() -> None:
    op.drop_table("offer_models")
    op.drop_table("catalogue_items")
