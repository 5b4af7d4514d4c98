"""Conversations: one thread per customer (the inbox), and its messages.

Revision ID: 0009
Revises: 0008 (0006 on its own branch; access adds 0008)
"""

import sqlalchemy as sa
from alembic import op

from rapport.store.tables import UTCDateTime

revision = "0009"
down_revision = "0008"  # the lead relinks the chain at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("open_for", sa.String(32), nullable=True, unique=True),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("closed_at", UTCDateTime, nullable=True),
        sa.Column("closed_by", sa.String(64), nullable=True),
        sa.Column("last_author", sa.String(16), nullable=False),
    )
    op.create_index("ix_conversations_customer_id", "conversations", ["customer_id"])
    op.create_index("ix_conversations_status_updated", "conversations", ["status", "updated_at"])
    op.create_table(
        "conversation_messages",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("conversation_id", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("author_ref", sa.String(320), nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("client_key", sa.String(300), nullable=True, unique=True),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("outbox_action_id", sa.String(32), nullable=True),
    )
    op.create_index("ix_conversation_messages_conversation_id", "conversation_messages", ["conversation_id"])
    op.create_index("ix_conversation_messages_customer_id", "conversation_messages", ["customer_id"])
    op.create_index("ix_conversation_messages_recorded", "conversation_messages", ["recorded_at", "id"])


def downgrade() -> None:
    op.drop_table("conversation_messages")
    op.drop_table("conversations")
