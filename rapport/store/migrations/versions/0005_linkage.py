"""Linkage: which profiles probabilistic linkage has compared, and the review queue of proposed merges.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from rapport.store.tables import BigId, JSONType, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "linkage_state",
        sa.Column("customer_id", sa.String(32), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("linked_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "linkage_reviews",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("other_id", sa.String(32), nullable=False),
        sa.Column("match_probability", sa.Float, nullable=False),
        sa.Column("fields", JSONType, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("decided_at", UTCDateTime, nullable=True),
        sa.Column("merge_id", BigId, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_linkage_reviews_customer_id", "linkage_reviews", ["customer_id"])
    op.create_index("ix_linkage_reviews_other_id", "linkage_reviews", ["other_id"])
    op.create_index("ux_linkage_reviews_pair", "linkage_reviews", ["customer_id", "other_id"], unique=True)
    op.create_index("ix_linkage_reviews_status", "linkage_reviews", ["status"])
    op.create_table(
        "linkage_review_values",
        sa.Column("review_id", BigId, primary_key=True),
        sa.Column("customer_id", sa.String(32), primary_key=True),
        sa.Column("attributes", JSONType, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("linkage_review_values")
    op.drop_table("linkage_reviews")
    op.drop_table("linkage_state")
