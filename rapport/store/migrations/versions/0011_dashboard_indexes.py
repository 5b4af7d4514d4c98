"""Dashboard indexes: events by (received_at, channel), the covering index of the operations page's ingestion counts.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_received_channel", "events", ["received_at", "channel"])


def downgrade() -> None:
    op.drop_index("ix_events_received_channel", table_name="events")
