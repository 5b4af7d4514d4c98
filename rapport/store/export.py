"""The person's rows for export, table by table, streamed from the database (no table is read whole)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, Table, or_, select

from rapport.store.erasure import customer_tables
from rapport.store.tables import customers, events, identifiers, merges, metadata

# What is the firm's machinery rather than the person's data: linkage bookkeeping and secrets (hashes, tokens).
_SKIPPED_PREFIXES = ("linkage_",)
_SKIPPED_COLUMN_SUFFIXES = ("_hash", "token", "secret", "claimed_by", "leased_by", "lease_until")
_YIELD_PER = 500


class SqlExportSource:
    """Reads one profile's rows from every table that holds a person: the foundation tables and every later one."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def export_tables(self) -> list[str]:
        later = [t.name for t in reversed(customer_tables()) if not t.name.startswith(_SKIPPED_PREFIXES)]
        return ["customers", "identifiers", "merges", "events", *later]

    def export_columns(self, table: str) -> list[str]:
        return [c.name for c in _table(table).columns if not c.name.endswith(_SKIPPED_COLUMN_SUFFIXES)]

    def export_rows(self, table: str, customer_id: str) -> Iterator[dict[str, Any]]:
        found = _table(table)
        members = select(customers.c.id).where(customers.c.canonical_id == customer_id)
        columns = [found.c[name] for name in self.export_columns(table)]
        query = select(*columns)
        if found is customers:
            query = query.where(customers.c.canonical_id == customer_id)
        elif found is merges:
            query = query.where(or_(merges.c.survivor_id.in_(members), merges.c.merged_id.in_(members)))
        else:
            query = query.where(found.c.customer_id.in_(members))
        order = [c for c in (found.primary_key.columns if found is not identifiers else [identifiers.c.first_seen])]
        if found is events:
            order = [events.c.timestamp, events.c.id]
        with self.engine.connect().execution_options(stream_results=True, yield_per=_YIELD_PER) as conn:
            for row in conn.execute(query.order_by(*order)):
                yield dict(row._mapping)


def _table(name: str) -> Table:
    return metadata.tables[name]
