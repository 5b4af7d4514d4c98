"""A conversation: one thread per customer, fed from /me, forwarded e-mails, call-centre notes and chat transcripts.

A customer has at most one open conversation; every message on any channel joins it, and a message after it was
closed opens the next one. While a conversation is open it is an *issue* Need (see rapport.conversations.issue),
so Decide puts service before selling. Messages are plain text: attachments are refused, and a message longer than
``MAX_MESSAGE_CHARS`` is refused whole, so nothing is stored half.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, get_args

from rapport.errors import InvalidInput, NotFound, PayloadTooLarge

MAX_MESSAGE_CHARS = 8_000
Author = Literal["customer", "staff"]
MessageKind = Literal["message", "note", "email", "chat_transcript", "reply"]
FORWARDED_KINDS: tuple[str, ...] = ("note", "email", "chat_transcript", "message")
AUTHORS: tuple[str, ...] = get_args(Author)
# What the firm forwards, and on which channel it came in.
FORWARDED_CHANNELS: tuple[str, ...] = ("email", "call_centre", "chat", "app", "store", "sms", "social")


@dataclass(frozen=True)
class Message:
    """One message of a conversation."""

    id: str
    conversation_id: str
    customer_id: str
    author: Author
    author_ref: str | None
    channel: str
    kind: str
    body: str
    occurred_at: datetime
    recorded_at: datetime
    client_key: str | None = None
    outbox_action_id: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Message:
        values: dict[str, Any] = {name: row.get(name) for name in cls.__dataclass_fields__}
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "customer_id": self.customer_id,
            "author": self.author,
            "author_ref": self.author_ref,
            "channel": self.channel,
            "kind": self.kind,
            "body": self.body,
            "occurred_at": self.occurred_at.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "outbox_action_id": self.outbox_action_id,
        }


@dataclass(frozen=True)
class Conversation:
    """A thread and its messages, oldest first."""

    id: str
    customer_id: str
    status: Literal["open", "closed"]
    opened_at: datetime
    updated_at: datetime
    last_author: str
    closed_at: datetime | None = None
    closed_by: str | None = None
    messages: tuple[Message, ...] = field(default=())

    @property
    def awaiting_reply(self) -> bool:
        """The customer spoke last in an open conversation: the firm owes an answer."""
        return self.status == "open" and self.last_author == "customer"

    @classmethod
    def from_row(cls, row: dict[str, Any], messages: Sequence[dict[str, Any]] = ()) -> Conversation:
        values: dict[str, Any] = {name: row.get(name) for name in cls.__dataclass_fields__ if name != "messages"}
        return cls(**values, messages=tuple(Message.from_row(m) for m in messages))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "status": self.status,
            "opened_at": self.opened_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "closed_by": self.closed_by,
            "last_author": self.last_author,
            "awaiting_reply": self.awaiting_reply,
            "messages": [m.to_dict() for m in self.messages],
        }


@dataclass(frozen=True)
class Posted:
    """What adding a message did: the message, its conversation, and whether it was new or opened the thread."""

    message: Message
    conversation_id: str
    created: bool
    opened: bool


@dataclass(frozen=True)
class NewMessage:
    """A message to add, before it has an id."""

    author: Author
    channel: str
    kind: str
    body: str
    occurred_at: datetime
    author_ref: str | None = None
    client_key: str | None = None


class ConversationRows(Protocol):
    """Where conversations are kept (rapport.store.conversations implements it)."""

    def append_message(
        self, customer_id: str, message: NewMessage, now: datetime, conversation_id: str | None = None
    ) -> tuple[dict[str, Any], bool, bool]:
        """Add to ``conversation_id`` (which must be open) or to the open conversation (opening one if none); a
        known client key returns the first message."""
        ...

    def conversation_row(self, conversation_id: str) -> dict[str, Any] | None: ...

    def message_rows(self, conversation_ids: Sequence[str]) -> list[dict[str, Any]]: ...

    def conversation_rows_of(self, customer_id: str) -> list[dict[str, Any]]: ...

    def conversation_rows(self, status: str | None, limit: int) -> list[dict[str, Any]]: ...

    def close_conversation_row(self, conversation_id: str, by: str, now: datetime) -> bool: ...

    def set_message_action(self, message_id: str, action_id: str) -> None: ...


def checked_body(body: str, attachments: Sequence[Any] = ()) -> str:
    """The message text, trimmed; refuses attachments, empty text and text past the limit."""
    if attachments:
        raise InvalidInput(
            f"Attachments are not accepted ({len(attachments)} sent): put the words in the message text and keep "
            "files in your own system."
        )
    text = body.strip() if isinstance(body, str) else ""
    if not text:
        raise InvalidInput("The message is empty: write what you would like to tell us.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise PayloadTooLarge(
            f"The message is {len(text):,} characters; the limit is {MAX_MESSAGE_CHARS:,}. Shorten it or send it in "
            "parts."
        )
    return text


def thread_of(store: ConversationRows, customer_id: str) -> list[Conversation]:
    """The customer's conversations with their messages, newest conversation first."""
    rows = store.conversation_rows_of(customer_id)
    return _with_messages(store, rows)


def get_conversation(store: ConversationRows, conversation_id: str, customer_id: str | None = None) -> Conversation:
    """One conversation with its messages; ``customer_id`` (when given) must own it, or it is not found."""
    row = store.conversation_row(conversation_id)
    if row is None or (customer_id is not None and row["customer_id"] != customer_id):
        raise NotFound(f"No conversation {conversation_id!r}; GET /v1/customers/{{id}}/conversations lists them.")
    return _with_messages(store, [row])[0]


def inbox(store: ConversationRows, status: str | None = "open", limit: int = 200) -> list[Conversation]:
    """Conversations for staff, those awaiting a reply first, then the most recently active (messages included)."""
    if status not in (None, "open", "closed"):
        raise InvalidInput(f"Conversation status {status!r} is unknown; use open or closed.")
    found = _with_messages(store, store.conversation_rows(status, limit))
    return sorted(found, key=lambda c: (not c.awaiting_reply, -c.updated_at.timestamp()))


def _with_messages(store: ConversationRows, rows: list[dict[str, Any]]) -> list[Conversation]:
    messages: dict[str, list[dict[str, Any]]] = {}
    for message in store.message_rows([r["id"] for r in rows]):
        messages.setdefault(message["conversation_id"], []).append(message)
    return [Conversation.from_row(r, messages.get(r["id"], [])) for r in rows]
