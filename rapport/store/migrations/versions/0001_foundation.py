"""Foundation: customers, identifiers, merges, events, erasure, API keys.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from rapport.store.tables import BigId, JSONType, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta", sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text, nullable=False)
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("merged_into", sa.String(32), nullable=True),
        sa.Column("canonical_id", sa.String(32), nullable=False),
    )
    op.create_index("ix_customers_canonical_id", "customers", ["canonical_id"])
    op.create_table(
        "identifiers",
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(320), primary_key=True),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("first_seen", UTCDateTime, nullable=False),
        sa.Column("shared", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_identifiers_customer_id", "identifiers", ["customer_id"])
    op.create_table(
        "identifier_sightings",
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(320), primary_key=True),
        sa.Column("customer_id", sa.String(32), primary_key=True),
    )
    op.create_table(
        "merges",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("survivor_id", sa.String(32), nullable=False),
        sa.Column("merged_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("evidence", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("undone_at", UTCDateTime, nullable=True),
        sa.Column("undo_reason", sa.Text, nullable=True),
    )
    op.create_index("ix_merges_survivor_id", "merges", ["survivor_id"])
    op.create_index("ix_merges_merged_id", "merges", ["merged_id"])
    op.create_table(
        "merge_evidence",
        sa.Column("merge_id", BigId, primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(320), primary_key=True),
    )
    op.create_index("ix_merge_evidence_identifier", "merge_evidence", ["kind", "value"])
    op.create_table(
        "events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(200), nullable=False, unique=True),
        sa.Column("customer_id", sa.String(32), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("timestamp", UTCDateTime, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("user_id", sa.String(256), nullable=True),
        sa.Column("anonymous_id", sa.String(256), nullable=True),
        sa.Column("properties", JSONType, nullable=True),
        sa.Column("traits", JSONType, nullable=True),
        sa.Column("context", JSONType, nullable=True),
    )
    op.create_index("ix_events_customer_time", "events", ["customer_id", "timestamp"])
    op.create_table(
        "erased_identifiers",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("erased_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "erasures",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("subject_hash", sa.String(64), nullable=False),
        sa.Column("erased_at", UTCDateTime, nullable=False),
        sa.Column("report", JSONType, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
    )


def downgrade() -> None:
    for table in (
        "api_keys",
        "erasures",
        "erased_identifiers",
        "events",
        "merge_evidence",
        "merges",
        "identifier_sightings",
    ):
        op.drop_table(table)
    for table in ("identifiers", "customers", "meta"):
        op.drop_table(table)
