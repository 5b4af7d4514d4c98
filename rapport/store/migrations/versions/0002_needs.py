"""Needs: each customer's recognised needs, refreshed by `rapport recognize` and by ingested events.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from rapport.store.tables import JSONType, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "needs",
        sa.Column("customer_id", sa.String(32), primary_key=True),
        sa.Column("need_key", sa.String(440), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("item", sa.String(200), nullable=True),
        sa.Column("category", sa.String(200), nullable=True),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("evidence", JSONType, nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("computed_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_needs_due_at", "needs", ["due_at"])


def downgrade() -> None:
    op.drop_table("needs")
