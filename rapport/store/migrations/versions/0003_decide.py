"""Decide: the decision log, outcomes, consents (with history), control levels, contact policies, contact log.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from rapport.store.tables import BigId, JSONType, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("touchpoint", sa.String(32), nullable=False),
        sa.Column("category", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("experience", sa.String(32), nullable=True),
        sa.Column("action", JSONType, nullable=True),
        sa.Column("reasons", JSONType, nullable=False),
        sa.Column("model_versions", JSONType, nullable=False),
        sa.Column("need", JSONType, nullable=True),
        sa.Column("situation", JSONType, nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_decisions_customer_time", "decisions", ["customer_id", "created_at"])
    op.create_table(
        "decision_outcomes",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("decision_id", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("details", JSONType, nullable=True),
    )
    op.create_index("ix_decision_outcomes_customer_id", "decision_outcomes", ["customer_id"])
    op.create_index(
        "ux_decision_outcomes_decision_outcome", "decision_outcomes", ["decision_id", "outcome"], unique=True
    )
    op.create_table(
        "consents",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_consents_customer_purpose", "consents", ["customer_id", "purpose", "id"])
    op.create_table(
        "control_levels",
        sa.Column("customer_id", sa.String(32), primary_key=True),
        sa.Column("category", sa.String(200), primary_key=True),
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("set_at", UTCDateTime, nullable=False),
        sa.Column("evidence", JSONType, nullable=True),
    )
    op.create_table(
        "contact_policies",
        sa.Column("customer_id", sa.String(32), primary_key=True),
        sa.Column("policy", JSONType, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "contact_log",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("mandatory", sa.Boolean, nullable=False),
        sa.Column("action_key", sa.String(200), nullable=True, unique=True),
    )
    op.create_index("ix_contact_log_customer_at", "contact_log", ["customer_id", "at"])


def downgrade() -> None:
    for name in ("contact_log", "contact_policies", "control_levels", "consents", "decision_outcomes", "decisions"):
        op.drop_table(name)
