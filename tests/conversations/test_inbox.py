"""The inbox on both stores: one thread per customer, the issue Need it raises, replies through the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rapport.conversations import service, thread
from rapport.decide.engine import decide
from rapport.decide.situations import Situation
from rapport.errors import Conflict, InvalidInput, PayloadTooLarge
from rapport.store.conversations import SqlConversationStore, messages_for_voice
from rapport.store.needs import write_needs
from tests.decide.conftest import NOW, customer, need


def test_every_channel_joins_one_thread_and_a_retry_is_one_message(inbox: SqlConversationStore) -> None:
    cid = customer(inbox, "thread")
    first = service.write_from_me(inbox, cid, "  My toner arrived broken.  ", NOW, "form-1")
    assert first.opened and first.created and first.message.body == "My toner arrived broken."
    again = service.write_from_me(inbox, cid, "My toner arrived broken.", NOW, "form-1")
    assert not again.created and again.message.id == first.message.id, "a resent form is the same message"
    note = service.forward(
        inbox, cid, body="Called: wants a replacement.", channel="call_centre", kind="note", author="staff",
        author_ref="agent-7", external_id="call-1", now=NOW + timedelta(minutes=5),
    )  # fmt: skip
    mail = service.forward(
        inbox, cid, body="Any news?", channel="email", kind="email", author="customer", external_id="mail-1",
        now=NOW + timedelta(minutes=9),
    )  # fmt: skip
    assert {note.conversation_id, mail.conversation_id} == {first.conversation_id}
    assert not note.opened and not mail.opened
    [conversation] = thread.thread_of(inbox, cid)
    assert [m.channel for m in conversation.messages] == ["me", "call_centre", "email"]
    assert conversation.awaiting_reply
    assert [c.id for c in thread.inbox(inbox)] == [conversation.id]


def test_bad_messages_are_refused_and_store_nothing(inbox: SqlConversationStore) -> None:
    cid = customer(inbox, "refused")
    with pytest.raises(PayloadTooLarge, match="limit is 8,000"):
        service.write_from_me(inbox, cid, "x" * (thread.MAX_MESSAGE_CHARS + 1), NOW, None)
    with pytest.raises(InvalidInput, match="Attachments are not accepted"):
        service.forward(
            inbox, cid, body="see file", channel="email", kind="email", author="customer", now=NOW,
            attachments=[{"name": "photo.jpg"}],
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="empty"):
        service.write_from_me(inbox, cid, "   ", NOW, None)
    assert thread.thread_of(inbox, cid) == []


def test_an_open_conversation_is_an_issue_need_that_stops_sales_nudges(inbox: SqlConversationStore) -> None:
    cid = customer(inbox, "issue")
    write_needs(inbox.engine, cid, [need(cid, due_in_days=0.0)], NOW, "test")
    posted = service.write_from_me(inbox, cid, "Where is my refund?", NOW, None)
    issues = [n for n in inbox.read_needs(cid) if n.kind == "issue"]
    assert [n.evidence["ticket_id"] for n in issues] == [posted.conversation_id]
    decision = decide(inbox, cid, Situation("app_open"), NOW + timedelta(minutes=1))
    assert decision.need is not None and decision.need.kind == "issue"
    assert decision.status == "nothing_now" and decision.action is None, "no sales nudge while it is open"
    assert any("open issue" in r for r in decision.reasons)
    assert service.close(inbox, posted.conversation_id, "staff:1", NOW + timedelta(hours=1))
    assert not service.close(inbox, posted.conversation_id, "staff:1", NOW + timedelta(hours=2)), "closing twice"
    assert [n for n in inbox.read_needs(cid) if n.kind == "issue"] == []
    reopened = service.write_from_me(inbox, cid, "One more thing.", NOW + timedelta(hours=3), None)
    assert reopened.opened and reopened.conversation_id != posted.conversation_id
    assert [c.status for c in thread.thread_of(inbox, cid)] == ["open", "closed"]


def test_a_staff_reply_goes_out_through_the_outbox(inbox: SqlConversationStore) -> None:
    cid = customer(inbox, "reply")
    asked = service.forward(
        inbox, cid, body="Is the printer covered?", channel="email", kind="email", author="customer", now=NOW
    )
    answered = service.reply(inbox, asked.conversation_id, "staff:ana", "Yes, for two years.", NOW, "r-1")
    retried = service.reply(inbox, asked.conversation_id, "staff:ana", "Yes, for two years.", NOW, "r-1")
    assert retried.message.id == answered.message.id and not retried.created
    assert answered.message.channel == "email", "answered on the channel the customer wrote on"
    [action] = inbox.actions_of(cid, ["pending"])
    assert action["kind"] == "conversation_reply" and action["payload"]["text"] == "Yes, for two years."
    assert answered.message.outbox_action_id == action["id"]
    conversation = thread.get_conversation(inbox, asked.conversation_id)
    assert not conversation.awaiting_reply and conversation.messages[-1].author == "staff"
    service.close(inbox, asked.conversation_id, "staff:ana", NOW)
    with pytest.raises(Conflict, match="closed"):
        service.reply(inbox, asked.conversation_id, "staff:ana", "And another thing", NOW)


def test_messages_for_voice_reads_every_message_in_order(inbox: SqlConversationStore) -> None:
    cid = customer(inbox, "voice")
    bodies = [f"message {n}" for n in range(5)]
    for n, body in enumerate(bodies):
        service.write_from_me(inbox, cid, body, NOW + timedelta(seconds=n), None)
    everything = list(messages_for_voice(inbox.engine, batch=2))
    assert [m["body"] for m in everything] == bodies
    rest = list(messages_for_voice(inbox.engine, (everything[1]["recorded_at"], everything[1]["id"]), batch=2))
    assert [m["body"] for m in rest] == bodies[2:]


def test_erasure_removes_the_conversations(inbox: SqlConversationStore) -> None:
    cid = customer(inbox, "erase-me")
    service.write_from_me(inbox, cid, "Please forget me.", NOW, None)
    report = inbox.erase(cid)
    assert report["removed"]["conversation_messages"] == 1 and report["removed"]["conversations"] == 1
    assert list(messages_for_voice(inbox.engine)) == []


def test_what_the_customer_writes_is_a_voice_item_linked_to_them(inbox: SqlConversationStore) -> None:
    cid = customer(inbox, "heard")
    first = service.write_from_me(inbox, cid, "The toner you sent is broken and support never answers.", NOW, "f-1")
    service.write_from_me(inbox, cid, "The toner you sent is broken and support never answers.", NOW, "f-1")
    service.reply(inbox, first.conversation_id, "agent-1", "Sorry, a new one is on its way.", NOW, None)
    items = inbox.voice.customer_items(cid, NOW - timedelta(days=1))
    assert [(i["source"], i["external_id"]) for i in items] == [("conversation", first.message.id)]  # once, no reply
    assert items[0]["label"] == "negative"
