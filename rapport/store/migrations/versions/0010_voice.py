"""Voice: voice items (unique on source and external id), topics, emerging-issue alerts and fitted voice models.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from rapport.store.tables import BigId, JSONType, UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voice_items",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author", sa.String(200), nullable=True),
        sa.Column("customer_id", sa.String(32), nullable=True),
        sa.Column("sentiment", sa.Float, nullable=False),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("aspects", JSONType, nullable=False),
        sa.Column("topic_id", sa.Integer, nullable=True),
        sa.Column("received_at", UTCDateTime, nullable=False),
    )
    op.create_index("ux_voice_items_source_external", "voice_items", ["source", "external_id"], unique=True)
    op.create_index("ix_voice_items_at", "voice_items", ["at"])
    op.create_index("ix_voice_items_customer", "voice_items", ["customer_id"])
    op.create_index("ix_voice_items_topic_at", "voice_items", ["topic_id", "at"])
    op.create_table(
        "voice_topics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("terms", JSONType, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("fitted_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "voice_alerts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("topic_id", sa.Integer, nullable=False),
        sa.Column("signal", sa.String(16), nullable=False),
        sa.Column("period_start", UTCDateTime, nullable=False),
        sa.Column("raised_at", UTCDateTime, nullable=False),
        sa.Column("observed", sa.Float, nullable=False),
        sa.Column("baseline", sa.Float, nullable=False),
        sa.Column("examples", JSONType, nullable=False),
    )
    op.create_index(
        "ux_voice_alerts_topic_signal_period", "voice_alerts", ["topic_id", "signal", "period_start"], unique=True
    )
    op.create_table(
        "voice_models",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("trained_at", UTCDateTime, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("voice_models")
    op.drop_table("voice_alerts")
    op.drop_table("voice_topics")
    op.drop_table("voice_items")
