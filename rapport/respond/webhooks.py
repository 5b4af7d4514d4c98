"""Delivering outbox actions to the firm's systems as signed webhooks, retried with back-off, dead-lettered at last.

Each POST carries the action as JSON and three headers:

- ``Rapport-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the shared secret>`` (Stripe's
  scheme: the timestamp inside the signed text stops replays; receivers check it with ``verify_signature``);
- ``Idempotency-Key``: the action's key, the same on every retry, so the receiver acts on it once;
- ``Rapport-Attempt``: 1 for the first try, 2 for the first retry, …

A 2xx answer delivers the action. Anything else (another status, a refused connection, a timeout) is retried after
``backoff_seconds * 2**(attempt - 1)``; after ``max_attempts`` tries the action is dead (the dead letter), kept with
its last error for an operator to inspect.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from rapport.errors import InvalidInput
from rapport.respond import audit
from rapport.respond.outbox import OPEN, OutboxAction, OutboxStore

SIGNATURE_HEADER = "Rapport-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
ATTEMPT_HEADER = "Rapport-Attempt"


class Transport(Protocol):
    """Posts a body; returns the HTTP status, or raises OSError when no answer came."""

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int: ...


class HttpTransport:
    """The real transport (httpx), one connection pool for a delivery run."""

    def __init__(self) -> None:
        import httpx

        self._httpx = httpx
        self._client = httpx.Client()

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        try:
            return self._client.post(url, content=body, headers=headers, timeout=timeout).status_code
        except self._httpx.HTTPError as exc:
            raise OSError(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self._client.close()


class DeliveryStore(OutboxStore, Protocol):
    def lease_due_actions(
        self, now: datetime, skip_channels: Any, worker: str, lease_until: datetime, limit: int
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class WebhookPolicy:
    """Where and how actions are delivered (from the settings: webhook_url, webhook_secret, …)."""

    url: str
    secret: str
    max_attempts: int = 5
    backoff_seconds: float = 30.0
    timeout_seconds: float = 10.0
    pull_channels: tuple[str, ...] = ("app", "store")

    @classmethod
    def from_settings(cls, settings: Any) -> WebhookPolicy:
        return cls(
            url=settings.webhook_url,
            secret=settings.webhook_secret,
            max_attempts=int(settings.webhook_max_attempts),
            backoff_seconds=float(settings.webhook_backoff_seconds),
            timeout_seconds=float(settings.webhook_timeout_seconds),
            pull_channels=tuple(settings.pull_channels),
        )

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed try."""
        return timedelta(seconds=self.backoff_seconds * 2 ** (attempts - 1))


@dataclass(frozen=True)
class Delivery:
    """One try at delivering one action: delivered, to be retried (when), or dead."""

    action_id: str
    attempt: int
    outcome: str  # delivered | retry | dead
    status_code: int | None
    error: str | None
    next_attempt_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "action_id": self.action_id,
            "attempt": self.attempt,
            "outcome": self.outcome,
            "status_code": self.status_code,
            "error": self.error,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
        }


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Rapport-Signature`` header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, body: bytes, header: str, now: datetime, tolerance_seconds: float = 300) -> bool:
    """True when ``header`` signs ``body`` under ``secret`` and its timestamp is within the tolerance of ``now``."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not parts.get("t", "").isdigit() or "v1" not in parts:
        return False
    timestamp = int(parts["t"])
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        return False
    expected = signature(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts["v1"])


def webhook_body(action: OutboxAction) -> bytes:
    """The JSON the receiver gets: the same bytes on every retry."""
    data = {k: v for k, v in action.to_dict().items() if k not in ("status", "attempts", "delivered_at", "last_error")}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()


def deliver_due(
    store: DeliveryStore,
    policy: WebhookPolicy,
    now: datetime,
    transport: Transport,
    worker: str = "deliverer",
    limit: int = 100,
) -> list[Delivery]:
    """Deliver every due action on a push channel once (the pull channels wait to be listed)."""
    if not policy.url:
        raise InvalidInput("No webhook URL is configured; set RAPPORT_WEBHOOK_URL (and RAPPORT_WEBHOOK_SECRET).")
    if not policy.secret:
        raise InvalidInput("No webhook secret is configured; set RAPPORT_WEBHOOK_SECRET so receivers can verify.")
    lease_until = now + timedelta(seconds=policy.timeout_seconds * 2 + 30)
    leased = store.lease_due_actions(now, policy.pull_channels, worker, lease_until, limit)
    return [deliver_action(store, OutboxAction.from_row(row), policy, now, transport) for row in leased]


def deliver_action(
    store: OutboxStore, action: OutboxAction, policy: WebhookPolicy, now: datetime, transport: Transport
) -> Delivery:
    """One POST of one action, and its bookkeeping: delivered, retry later, or dead."""
    body = webhook_body(action)
    attempt = action.attempts + 1
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(policy.secret, body, int(now.timestamp())),
        IDEMPOTENCY_HEADER: action.idempotency_key,
        ATTEMPT_HEADER: str(attempt),
    }
    status: int | None = None
    try:
        status = transport.post(policy.url, body, headers, policy.timeout_seconds)
        error = None if 200 <= status < 300 else f"HTTP {status}"
    except OSError as exc:
        error = str(exc) or type(exc).__name__
    if error is None:
        _close(store, action, now, "delivered", {"attempts": attempt, "delivered_at": now})
        return Delivery(action.id, attempt, "delivered", status, None, None)
    if attempt >= policy.max_attempts:
        _close(store, action, now, "dead", {"attempts": attempt, "last_error": error})
        return Delivery(action.id, attempt, "dead", status, error, None)
    retry_at = now + policy.backoff(attempt)
    values = {"attempts": attempt, "last_error": error, "next_attempt_at": retry_at, "lease_until": None}
    store.claim_action(action.id, [OPEN], values)
    return Delivery(action.id, attempt, "retry", status, error, retry_at)


def _close(store: OutboxStore, action: OutboxAction, now: datetime, status: str, values: dict[str, Any]) -> None:
    """The action is delivered or dead for good: record it, and tell the customer's audit log."""
    details = {"kind": action.kind, "channel": action.channel, **values}
    step = audit.entry(action.customer_id, now, "deliverer", ("outbox_action", action.id), status, **details)
    store.claim_action(action.id, [OPEN], {"status": status, **values}, step)
