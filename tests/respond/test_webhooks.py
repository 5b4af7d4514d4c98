"""Actions leave the building as signed webhooks to a real local receiver: retried, deduplicated, dead-lettered."""

from __future__ import annotations

import json
from datetime import timedelta

from rapport.respond.outbox import acknowledge, enqueue_action, get_action, pending_actions, withdraw_pending
from rapport.respond.webhooks import HttpTransport, WebhookPolicy, deliver_due, verify_signature
from rapport.store.decisions import SqlDecisionStore
from tests.respond.conftest import T0, customer_with_history
from tests.respond.receiver import running_receiver

SECRET = "whsec_test"


def _policy(url: str, attempts: int = 4) -> WebhookPolicy:
    return WebhookPolicy(url, SECRET, max_attempts=attempts, backoff_seconds=60, timeout_seconds=5)


def _nudge(rs: SqlDecisionStore, customer: str, key: str = "nudge-1", channel: str = "email") -> str:
    payload = {"type": "nudge", "message": "Your toner looks likely to run out around 9 March."}
    return enqueue_action(rs, customer, "nudge", channel, payload, T0, key).id


def test_the_webhook_is_signed_with_hmac_sha256_over_timestamp_and_body(rs: SqlDecisionStore) -> None:
    customer = customer_with_history(rs)
    action_id = _nudge(rs, customer)
    with running_receiver([200]) as receiver:
        transport = HttpTransport()
        deliveries = deliver_due(rs, _policy(receiver.url), T0, transport)
        transport.close()
    assert [d.outcome for d in deliveries] == ["delivered"]
    ((headers, body),) = receiver.requests
    assert verify_signature(SECRET, body, headers["Rapport-Signature"], T0)
    assert not verify_signature("another secret", body, headers["Rapport-Signature"], T0)
    assert not verify_signature(SECRET, body.replace(b"9 March", b"1 April"), headers["Rapport-Signature"], T0)
    assert not verify_signature(SECRET, body, headers["Rapport-Signature"], T0 + timedelta(minutes=10))  # replayed
    assert headers["Idempotency-Key"] == "nudge-1"
    sent = json.loads(body)
    assert (sent["id"], sent["customer_id"], sent["kind"], sent["payload"]["type"]) == (
        action_id,
        customer,
        "nudge",
        "nudge",
    )
    assert get_action(rs, action_id).status == "delivered"


def test_a_receiver_failing_twice_gets_the_action_once_with_the_same_key_after_back_off(rs: SqlDecisionStore) -> None:
    customer = customer_with_history(rs)
    action_id = _nudge(rs, customer)
    policy = _policy("", 4)
    with running_receiver([500, 503, 200]) as receiver:
        policy = _policy(receiver.url, 4)
        transport = HttpTransport()
        outcomes = [d.outcome for d in deliver_due(rs, policy, T0, transport)]
        assert deliver_due(rs, policy, T0 + timedelta(seconds=59), transport) == []  # backing off: 60 s
        outcomes += [d.outcome for d in deliver_due(rs, policy, T0 + timedelta(seconds=60), transport)]
        assert deliver_due(rs, policy, T0 + timedelta(seconds=179), transport) == []  # then 120 s
        outcomes += [d.outcome for d in deliver_due(rs, policy, T0 + timedelta(seconds=180), transport)]
        assert deliver_due(rs, policy, T0 + timedelta(hours=1), transport) == []  # delivered: never again
        transport.close()
    assert outcomes == ["retry", "retry", "delivered"]
    assert [h["Idempotency-Key"] for h, _ in receiver.requests] == ["nudge-1"] * 3
    assert [h["Rapport-Attempt"] for h, _ in receiver.requests] == ["1", "2", "3"]
    assert len({body for _, body in receiver.requests}) == 1  # the same body every time
    assert receiver.accepted == ["nudge-1"]
    action = get_action(rs, action_id)
    assert (action.status, action.attempts) == ("delivered", 3)


def test_a_receiver_always_failing_puts_the_action_in_the_dead_letter(rs: SqlDecisionStore) -> None:
    customer = customer_with_history(rs)
    action_id = _nudge(rs, customer)
    with running_receiver([500]) as receiver:
        policy, transport, at = _policy(receiver.url, 3), HttpTransport(), T0
        outcomes = []
        for _ in range(5):
            found = deliver_due(rs, policy, at, transport)
            outcomes += [d.outcome for d in found]
            at += timedelta(hours=1)
        transport.close()
    assert outcomes == ["retry", "retry", "dead"]
    assert len(receiver.requests) == 3 and receiver.accepted == []
    action = get_action(rs, action_id)
    assert (action.status, action.last_error) == ("dead", "HTTP 500")
    assert [row["id"] for row in rs.actions_in("dead", 10)] == [action_id]


def test_a_refused_connection_is_retried_like_an_error_status(rs: SqlDecisionStore) -> None:
    customer = customer_with_history(rs)
    action_id = _nudge(rs, customer)
    with running_receiver([200]) as receiver:
        closed_url = receiver.url
    transport = HttpTransport()
    (delivery,) = deliver_due(rs, _policy(closed_url), T0, transport)
    transport.close()
    assert delivery.outcome == "retry" and delivery.status_code is None and "Connect" in (delivery.error or "")
    assert get_action(rs, action_id).attempts == 1


def test_pull_channels_list_their_due_actions_and_acknowledge_them_once(rs: SqlDecisionStore) -> None:
    customer = customer_with_history(rs)
    now_id = _nudge(rs, customer, "app-now", channel="app")
    later = enqueue_action(rs, customer, "offer", "app", {"type": "offer"}, T0 + timedelta(hours=3), "app-later")
    again = enqueue_action(rs, customer, "offer", "app", {"type": "changed"}, T0, "app-later")
    assert again.id == later.id and again.payload == {"type": "offer"}  # the same key returns the first
    assert [a.id for a in pending_actions(rs, customer, ["app", "store"], T0)] == [now_id]
    with running_receiver([200]) as receiver:
        transport = HttpTransport()
        assert deliver_due(rs, _policy(receiver.url), T0 + timedelta(hours=4), transport) == []  # pulled, not pushed
        transport.close()
    first = acknowledge(rs, customer, now_id, T0 + timedelta(minutes=5), by="app")
    assert acknowledge(rs, customer, now_id, T0 + timedelta(minutes=9), by="app").delivered_at == first.delivered_at
    assert [a.id for a in pending_actions(rs, customer, ["app"], T0 + timedelta(hours=3))] == [later.id]
    withdrawn = withdraw_pending(rs, customer, "app", T0 + timedelta(hours=1), "consent contact:app withdrawn")
    assert [a.id for a in withdrawn] == [later.id]
    assert pending_actions(rs, customer, ["app"], T0 + timedelta(hours=5)) == []


def test_two_deliverers_at_once_send_each_action_once(rs: SqlDecisionStore) -> None:
    import threading

    customer = customer_with_history(rs)
    keys = [f"n-{i}" for i in range(8)]
    for key in keys:
        _nudge(rs, customer, key)
    with running_receiver([200]) as receiver:
        barrier = threading.Barrier(2)

        def work(worker: str) -> None:
            transport = HttpTransport()
            barrier.wait()
            deliver_due(rs, _policy(receiver.url), T0, transport, worker=worker, limit=8)
            transport.close()

        threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(h["Idempotency-Key"] for h, _ in receiver.requests) == sorted(keys)
