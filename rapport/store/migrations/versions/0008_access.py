"""Access: staff accounts, one-time tokens, sessions, the access log, generated secrets, API key rotations.

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from rapport.store.tables import BigId, UTCDateTime

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("password_set_at", UTCDateTime, nullable=True),
        sa.Column("failed_sign_ins", sa.Integer, nullable=False),
        sa.Column("locked_until", UTCDateTime, nullable=True),
    )
    op.create_table(
        "access_tokens",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(32), nullable=True),
        sa.Column("staff_id", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_access_tokens_customer", "access_tokens", ["customer_id"])
    op.create_table(
        "access_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.String(32), nullable=True),
        sa.Column("staff_id", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_access_sessions_customer", "access_sessions", ["customer_id"])
    op.create_table(
        "access_log_entries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("principal_kind", sa.String(16), nullable=False),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("principal_name", sa.String(400), nullable=False),
        sa.Column("what", sa.String(400), nullable=False),
    )
    op.create_index("ix_access_log_entries_customer", "access_log_entries", ["customer_id", "id"])
    op.create_table(
        "access_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "api_key_rotations",
        sa.Column("key_id", sa.String(16), primary_key=True),
        sa.Column("successor_id", sa.String(16), nullable=False),
        sa.Column("rotated_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "api_key_rotations",
        "access_secrets",
        "access_log_entries",
        "access_sessions",
        "access_tokens",
        "staff_accounts",
    ):
        op.drop_table(name)
