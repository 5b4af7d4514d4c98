"""Customer sign-in: a one-time link bound to the customer id, turned into a customer session."""

from __future__ import annotations

from datetime import datetime

from rapport.access.links import SIGN_IN_TTL, issue_token, redeem_token
from rapport.access.ports import AccessStore
from rapport.access.principals import CustomerSession
from rapport.access.sessions import open_session
from rapport.respond.outbox import OutboxAction, OutboxStore, enqueue_action


def sign_in_token(store: AccessStore, secret: str, customer_id: str, now: datetime) -> tuple[str, datetime]:
    """A signed token for ``customer_id``'s one-time sign-in link (15 minutes), and when it expires."""
    return issue_token(store, secret, "customer_sign_in", now, SIGN_IN_TTL, customer_id=customer_id)


def redeem_sign_in(store: AccessStore, secret: str, token: str, now: datetime) -> tuple[CustomerSession, str]:
    """Spend a sign-in link: the customer's session and its signed cookie value (InvalidInput when refused)."""
    row = redeem_token(store, secret, "customer_sign_in", token, now)
    session_id, cookie = open_session(store, secret, "customer", now, row["customer_id"])
    return CustomerSession(row["customer_id"], session_id), cookie


def send_sign_in_link(
    outbox: OutboxStore,
    accounts: AccessStore,
    secret: str,
    customer_id: str,
    channel: str,
    public_url: str,
    now: datetime,
    client_key: str | None = None,
) -> tuple[OutboxAction, bool]:
    """Queue a one-time sign-in link as an outbox action (kind ``sign_in_link``): the firm's systems deliver it,
    Rapport never mails. The same ``client_key`` again returns the first action; returns (action, created)."""
    token, expires = sign_in_token(accounts, secret, customer_id, now)
    url = f"{public_url.rstrip('/')}/me/sign-in/{token}"
    key = f"sign_in_link:{customer_id}:{client_key or token[-32:]}"
    payload = {"url": url, "expires_at": expires.isoformat()}
    action = enqueue_action(outbox, customer_id, "sign_in_link", channel, payload, now, key, now)
    return action, action.payload.get("url") == url
