"""Dashboard look-ups: customers' name search keys (backfilled from the stored events' name traits), the
ingestion rejections (none were kept before: the table starts empty), and events indexed by (channel, received_at)
for the operations page's counts, in place of 0011's (received_at, channel).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

from rapport.customers.names import event_name_keys
from rapport.store.tables import BigId, JSONType, NameKey, UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_CHUNK = 5000


def upgrade() -> None:
    names = op.create_table(
        "customer_names",
        sa.Column("customer_id", sa.String(32), primary_key=True),
        sa.Column("name_key", NameKey, primary_key=True),
    )
    op.create_index("ix_customer_names_key", "customer_names", ["name_key", "customer_id"])
    _backfill_names(names)
    op.create_table(
        "ingestion_rejections",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_ingestion_rejections_at", "ingestion_rejections", ["at"])
    op.create_index("ix_events_channel_received", "events", ["channel", "received_at"])
    op.drop_index("ix_events_received_channel", table_name="events")


def _backfill_names(names: sa.Table) -> None:
    """Every stored event's name traits, as ingestion would have kept them (idempotent: keys are inserted once)."""
    conn = op.get_bind()
    events = sa.table("events", sa.column("customer_id", sa.String), sa.column("traits", JSONType),
                      sa.column("context", JSONType))  # fmt: skip
    query = sa.select(events.c.customer_id, events.c.traits, events.c.context).where(
        sa.or_(events.c.traits.isnot(None), events.c.context.isnot(None))
    )
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(names).on_conflict_do_nothing(index_elements=["customer_id", "name_key"])
    pending: set[tuple[str, str]] = set()
    for customer_id, traits, context in conn.execute(query):
        pending.update((customer_id, key) for key in event_name_keys(traits, context))
        if len(pending) >= _CHUNK:
            conn.execute(insert, [{"customer_id": c, "name_key": k} for c, k in sorted(pending)])
            pending.clear()
    if pending:
        conn.execute(insert, [{"customer_id": c, "name_key": k} for c, k in sorted(pending)])


def downgrade() -> None:
    op.create_index("ix_events_received_channel", "events", ["received_at", "channel"])
    op.drop_index("ix_events_channel_received", table_name="events")
    op.drop_index("ix_ingestion_rejections_at", table_name="ingestion_rejections")
    op.drop_table("ingestion_rejections")
    op.drop_index("ix_customer_names_key", table_name="customer_names")
    op.drop_table("customer_names")
