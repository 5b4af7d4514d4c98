"""The inbox's services, shared by the API, the /me pages, the staff pages and the demo.

Posting opens the customer's conversation when none is open, and an open conversation is an *issue* Need: its
opening and closing are recorded as "Ticket Opened" / "Ticket Resolved" events (the complaint signals Recognize
already reads), and the customer's needs are refreshed at once, so no sales nudge goes out while it is open.
A staff reply goes out through the outbox like any action (Rapport sends no mail itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from rapport.config import Settings
from rapport.conversations.thread import (
    FORWARDED_CHANNELS,
    FORWARDED_KINDS,
    ConversationRows,
    Message,
    NewMessage,
    Posted,
    checked_body,
    get_conversation,
)
from rapport.customers.ingestion import ingest
from rapport.decide.contact_policy import ContactStore, policy_of
from rapport.errors import Conflict, InvalidInput
from rapport.recognize.refresh import NeedSource, refresh_customer_needs
from rapport.respond.orders import _identity as event_identity
from rapport.respond.outbox import OutboxStore, enqueue_action

ISSUE_TOPIC = "open conversation"
REPLY_KIND = "conversation_reply"
# Channels a reply can go back on (through the outbox); a message that came in elsewhere is answered on the
# customer's first preferred channel.
REPLY_CHANNELS = ("email", "sms", "push", "app")


class InboxStore(ConversationRows, OutboxStore, NeedSource, ContactStore, Protocol):
    """Everything the inbox reads and writes (rapport.store.conversations.SqlConversationStore)."""

    @property
    def settings(self) -> Settings: ...

    def ingest_transaction(self) -> Any: ...

    def identity_of(self, customer_id: str) -> list[tuple[str, str]]: ...


def write_from_me(store: InboxStore, customer_id: str, body: str, now: datetime, client_key: str | None) -> Posted:
    """The customer writes from their own pages; a resent form (same ``client_key``) is the same message."""
    message = NewMessage("customer", "me", "message", checked_body(body), now, None, _key("me", client_key))
    return post_message(store, customer_id, message, now)


def forward(
    store: InboxStore,
    customer_id: str,
    *,
    body: str,
    channel: str,
    kind: str,
    author: str,
    now: datetime,
    occurred_at: datetime | None = None,
    author_ref: str | None = None,
    external_id: str | None = None,
    source: str = "api",
    attachments: Sequence[Any] = (),
) -> Posted:
    """The firm forwards an e-mail, a call-centre note or a chat transcript into the customer's conversation.

    ``external_id`` (the firm's own id of the e-mail, call or chat) makes a retry return the first message.
    """
    if channel not in FORWARDED_CHANNELS:
        raise InvalidInput(f"Channel {channel!r} is unknown; use one of {', '.join(FORWARDED_CHANNELS)}.")
    if kind not in FORWARDED_KINDS:
        raise InvalidInput(f"Message kind {kind!r} is unknown; use one of {', '.join(FORWARDED_KINDS)}.")
    if author not in ("customer", "staff"):
        raise InvalidInput(f"Author {author!r} is unknown; use customer or staff.")
    if occurred_at is not None and occurred_at.tzinfo is None:
        raise InvalidInput(f"occurred_at {occurred_at.isoformat()} has no time zone; send it in UTC ('…Z').")
    text = checked_body(body, attachments)
    message = NewMessage(
        author,  # type: ignore[arg-type]
        channel,
        kind,
        text,
        occurred_at or now,
        author_ref,
        _key(source, external_id),
    )
    return post_message(store, customer_id, message, now)


def post_message(store: InboxStore, customer_id: str, message: NewMessage, now: datetime) -> Posted:
    """Add ``message`` to the customer's open conversation, opening one (and its issue Need) if none is open."""
    row, created, opened = store.append_message(customer_id, message, now)
    posted = Posted(Message.from_row(row), row["conversation_id"], created, opened)
    if opened:
        _record_issue(store, customer_id, posted.conversation_id, "Ticket Opened", now, message.channel)
    if created and message.author == "customer":
        _hear(store, customer_id, posted.message)
    return posted


def _hear(store: InboxStore, customer_id: str, message: Message) -> None:
    """What the customer wrote is a voice item too (source "conversation"), linked through their own identifiers,
    so sentiment, topics and emerging issues read the inbox like tickets and reviews."""
    from rapport.voice.items import IDENTIFIER_KINDS
    from rapport.voice.service import record_voice_items

    identifiers: dict[str, str] = {}
    for kind, value in store.identity_of(customer_id):
        if kind in IDENTIFIER_KINDS:
            identifiers.setdefault(kind, value)
    item = {
        "source": "conversation",
        "external_id": message.id,
        "time": message.occurred_at,
        "text": message.body,
        "identifiers": identifiers,
    }
    record_voice_items(store, [item], now=message.recorded_at)  # type: ignore[arg-type]  # a Store has .voice


def reply(
    store: InboxStore,
    conversation_id: str,
    staff_ref: str,
    body: str,
    now: datetime,
    client_key: str | None = None,
) -> Posted:
    """A staff member answers; the answer joins the thread and goes out through the outbox (webhook or pull)."""
    conversation = get_conversation(store, conversation_id)
    if conversation.status != "open":
        raise Conflict(
            f"Conversation {conversation_id} is closed; the customer's next message opens a new one, or write to "
            "them through POST /v1/conversations."
        )
    channel = reply_channel(store, conversation.customer_id, conversation.messages)
    message = NewMessage("staff", channel, "reply", checked_body(body), now, staff_ref, _key("reply", client_key))
    row, created, _opened = store.append_message(conversation.customer_id, message, now, conversation_id)
    sent = Message.from_row(row)
    payload = {
        "conversation_id": conversation_id,
        "message_id": sent.id,
        "text": sent.body,
        "from": "staff",
    }
    action = enqueue_action(
        store, conversation.customer_id, REPLY_KIND, sent.channel, payload, now, f"conversation-reply:{sent.id}", now
    )
    if sent.outbox_action_id != action.id:
        store.set_message_action(sent.id, action.id)
        row = {**row, "outbox_action_id": action.id}
    return Posted(Message.from_row(row), conversation_id, created, False)


def close(store: InboxStore, conversation_id: str, by: str, now: datetime) -> bool:
    """Close the conversation (its issue Need ends); closing a closed one changes nothing and answers False."""
    conversation = get_conversation(store, conversation_id)
    if not store.close_conversation_row(conversation_id, by, now):
        return False
    _record_issue(store, conversation.customer_id, conversation_id, "Ticket Resolved", now, "rapport")
    return True


def reply_channel(store: ContactStore, customer_id: str, messages: Sequence[Message]) -> str:
    """The channel the customer last wrote on, when a reply can go back on it; else their first preferred one."""
    for message in reversed(messages):
        if message.author == "customer":
            if message.channel in REPLY_CHANNELS:
                return message.channel
            break
    preferred = [c for c in policy_of(store, customer_id).preferred_channels if c in REPLY_CHANNELS]
    return preferred[0] if preferred else "app"


def _record_issue(
    store: InboxStore, customer_id: str, conversation_id: str, name: str, now: datetime, via: str
) -> None:
    """The conversation's opening or closing as a complaint-signal event, then the customer's needs refreshed."""
    step = "opened" if name == "Ticket Opened" else "resolved"
    event: dict[str, Any] = {
        "type": "track",
        "event": name,
        "messageId": f"rapport-conversation-{conversation_id}-{step}",
        "timestamp": now.isoformat(),
        "context": {"channel": "rapport"},
        "properties": {"ticket_id": conversation_id, "topic": ISSUE_TOPIC, "via": via},
    }
    event.update(event_identity(store, customer_id))  # type: ignore[arg-type]
    ingest(store, [event], store.settings, source="rapport")
    refresh_customer_needs(store, customer_id, now)


def _key(source: str, external_id: str | None) -> str | None:
    if external_id is None:
        return None
    if not external_id or len(external_id) > 200:
        raise InvalidInput(f"The message's id {external_id!r} must be 1 to 200 characters.")
    return f"{source}:{external_id}"
