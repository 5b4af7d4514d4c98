"""The store as the inbox sees it: conversations and their messages, on SQLite and PostgreSQL.

``SqlConversationStore`` is the decision store (needs, outbox, contact policy, identity) with the conversation reads
and writes added, so the inbox's services get everything they touch from one object. ``messages_for_voice`` is the
read voice-of-customer analysis uses.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from rapport.conversations.thread import NewMessage
from rapport.errors import Conflict, NotFound
from rapport.store.decisions import SqlDecisionStore
from rapport.store.store import Store
from rapport.store.tables import conversation_messages, conversations, customers

_ATTEMPTS = 3  # two posts racing to open the customer's conversation: the loser retries and joins the winner's


class SqlConversationStore(SqlDecisionStore):
    """A decision store with the conversation tables."""

    @classmethod
    def over(cls, store: Store) -> SqlConversationStore:
        if isinstance(store, SqlConversationStore):
            return store
        return cls(store.settings, engine=store.engine)

    def append_message(
        self, customer_id: str, message: NewMessage, now: datetime, conversation_id: str | None = None
    ) -> tuple[dict[str, Any], bool, bool]:
        """Add the message to ``conversation_id`` (which must be open) or to the customer's open conversation,
        opening one when none is; returns (the stored message, whether it is new, whether it opened the thread).
        A client key already stored returns the first message unchanged."""
        for attempt in range(_ATTEMPTS):
            if message.client_key is not None:
                found = self._one(conversation_messages, "client_key", message.client_key)
                if found is not None:
                    return found, False, False
            try:
                return self._append(customer_id, message, now, conversation_id)
            except IntegrityError:
                if attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # the loop returns or raises

    def _append(
        self, customer_id: str, message: NewMessage, now: datetime, conversation_id: str | None
    ) -> tuple[dict[str, Any], bool, bool]:
        opened = False
        with self.engine.begin() as conn:
            if conversation_id is None:
                current = conn.scalar(select(conversations.c.id).where(conversations.c.open_for == customer_id))
                if current is None:
                    current, opened = f"conv_{uuid.uuid4().hex[:24]}", True
                    conn.execute(
                        conversations.insert().values(
                            id=current,
                            customer_id=customer_id,
                            status="open",
                            open_for=customer_id,
                            opened_at=now,
                            updated_at=now,
                            last_author=message.author,
                        )
                    )
            else:
                status = conn.scalar(select(conversations.c.status).where(conversations.c.id == conversation_id))
                if status is None:
                    raise NotFound(f"No conversation {conversation_id!r}.")
                if status != "open":
                    raise Conflict(f"Conversation {conversation_id} is closed; it takes no more messages.")
                current = conversation_id
            row = {
                "id": f"msg_{uuid.uuid4().hex[:24]}",
                "conversation_id": current,
                "customer_id": customer_id,
                "author": message.author,
                "author_ref": message.author_ref,
                "channel": message.channel,
                "kind": message.kind,
                "body": message.body,
                "client_key": message.client_key,
                "occurred_at": message.occurred_at,
                "recorded_at": now,
                "outbox_action_id": None,
            }
            conn.execute(conversation_messages.insert().values(**row))
            conn.execute(
                update(conversations)
                .where(conversations.c.id == current)
                .values(updated_at=now, last_author=message.author)
            )
        return row, True, opened

    def conversation_row(self, conversation_id: str) -> dict[str, Any] | None:
        return self._one(conversations, "id", conversation_id)

    def message_rows(self, conversation_ids: Sequence[str]) -> list[dict[str, Any]]:
        if not conversation_ids:
            return []
        query = (
            select(conversation_messages)
            .where(conversation_messages.c.conversation_id.in_(list(conversation_ids)))
            .order_by(conversation_messages.c.occurred_at, conversation_messages.c.recorded_at)
        )
        return self._rows(query)

    def conversation_rows_of(self, customer_id: str) -> list[dict[str, Any]]:
        """The profile's conversations (those of records merged into it included), newest first."""
        members = select(customers.c.id).where(customers.c.canonical_id == customer_id).scalar_subquery()
        query = (
            select(conversations)
            .where(conversations.c.customer_id.in_(members) | (conversations.c.customer_id == customer_id))
            .order_by(conversations.c.opened_at.desc(), conversations.c.id)
        )
        return self._rows(query)

    def conversation_rows(self, status: str | None, limit: int) -> list[dict[str, Any]]:
        query = select(conversations)
        if status is not None:
            query = query.where(conversations.c.status == status)
        return self._rows(query.order_by(conversations.c.updated_at.desc(), conversations.c.id).limit(limit))

    def close_conversation_row(self, conversation_id: str, by: str, now: datetime) -> bool:
        query = (
            update(conversations)
            .where(conversations.c.id == conversation_id, conversations.c.status == "open")
            .values(status="closed", open_for=None, closed_at=now, closed_by=by[:64], updated_at=now)
        )
        with self.engine.begin() as conn:
            return conn.execute(query).rowcount == 1

    def set_message_action(self, message_id: str, action_id: str) -> None:
        query = (
            update(conversation_messages)
            .where(conversation_messages.c.id == message_id)
            .values(outbox_action_id=action_id)
        )
        with self.engine.begin() as conn:
            conn.execute(query)


def messages_for_voice(
    engine: Engine, after: tuple[datetime, str] | None = None, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """Every conversation message in the order it was recorded, from just after ``after`` = (recorded_at, id).

    Voice-of-customer analysis reads this: each row has id, customer_id, conversation_id, author, channel, kind,
    body, occurred_at and recorded_at; the message id is stable, a natural external id for idempotent recording.
    """
    cursor = after
    while True:
        query = select(conversation_messages).order_by(conversation_messages.c.recorded_at, conversation_messages.c.id)
        if cursor is not None:
            at, last = cursor
            query = query.where(
                (conversation_messages.c.recorded_at > at)
                | ((conversation_messages.c.recorded_at == at) & (conversation_messages.c.id > last))
            )
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query.limit(batch))]
        yield from rows
        if len(rows) < batch:
            return
        cursor = (rows[-1]["recorded_at"], rows[-1]["id"])
