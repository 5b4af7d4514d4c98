"""Respond: orders, mandates, automatic orders, the customer's audit log and the outbox.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from rapport.store.tables import BigId, JSONType, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("client_key", sa.String(200), nullable=True, unique=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lines", JSONType, nullable=False),
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("address_ref", sa.String(200), nullable=True),
        sa.Column("payment_ref", sa.String(200), nullable=True),
        sa.Column("architecture", sa.String(32), nullable=False),
        sa.Column("fulfilment", JSONType, nullable=False),
        sa.Column("placed_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_orders_customer_time", "orders", ["customer_id", "placed_at"])
    op.create_table(
        "mandates",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("client_key", sa.String(200), nullable=True, unique=True),
        sa.Column("scope_kind", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("per_order_cap", sa.Float, nullable=False),
        sa.Column("monthly_cap", sa.Float, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("notice_hours", sa.Float, nullable=False),
        sa.Column("cancel_window_hours", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_mandates_customer_id", "mandates", ["customer_id"])
    _automatic_orders()
    op.create_table(
        "audit_log",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("details", JSONType, nullable=False),
    )
    op.create_index("ix_audit_log_customer", "audit_log", ["customer_id", "id"])
    _outbox()


def _automatic_orders() -> None:
    op.create_table(
        "automatic_orders",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("mandate_id", sa.String(32), nullable=False),
        sa.Column("sku", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price", sa.Float, nullable=False),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("cap_month", sa.String(7), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("notify_at", UTCDateTime, nullable=False),
        sa.Column("notified_at", UTCDateTime, nullable=True),
        sa.Column("execute_after", UTCDateTime, nullable=True),
        sa.Column("executed_at", UTCDateTime, nullable=True),
        sa.Column("cancelled_at", UTCDateTime, nullable=True),
        sa.Column("cancel_reason", sa.Text, nullable=True),
        sa.Column("notice_action_id", sa.String(32), nullable=True),
        sa.Column("order_id", sa.String(32), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_automatic_orders_customer_id", "automatic_orders", ["customer_id"])
    op.create_index("ix_automatic_orders_mandate_status", "automatic_orders", ["mandate_id", "status"])
    op.create_index("ix_automatic_orders_status_notify", "automatic_orders", ["status", "notify_at"])


def _outbox() -> None:
    op.create_table(
        "outbox_actions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("idempotency_key", sa.String(300), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("send_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("lease_until", UTCDateTime, nullable=True),
        sa.Column("leased_by", sa.String(64), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("delivered_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_outbox_status_next", "outbox_actions", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_customer_status", "outbox_actions", ["customer_id", "status"])


def downgrade() -> None:
    for table in ("outbox_actions", "audit_log", "automatic_orders", "mandates", "orders"):
        op.drop_table(table)
