"""Repeat: preference prompts (what learning asks or suggests) and the nudge bandit's counts.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from rapport.store.tables import JSONType, UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "preference_prompts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("prompt_key", sa.String(300), nullable=False, unique=True),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("category", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("details", JSONType, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_preference_prompts_customer", "preference_prompts", ["customer_id", "status"])
    op.create_table(
        "bandit_counts",
        sa.Column("bandit", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(32), primary_key=True),
        sa.Column("arm", sa.String(200), primary_key=True),
        sa.Column("successes", sa.Float, nullable=False),
        sa.Column("failures", sa.Float, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bandit_counts")
    op.drop_table("preference_prompts")
