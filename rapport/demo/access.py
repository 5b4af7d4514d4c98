"""The demo's two doors: a staff admin account and a sign-in link for the toner customer (the one with a mandate)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rapport.access.customers import send_sign_in_link
from rapport.access.staff import create_staff, reset_link_token
from rapport.api.access import AppAccess
from rapport.errors import Conflict
from rapport.store.decisions import SqlDecisionStore
from rapport.store.store import Store

DEMO_ADMIN = "admin@demo.rapport.example"


def demo_access(store: Store, customer_id: str | None, now: datetime | None = None) -> dict[str, Any]:
    """A staff admin with a one-time set-password link, and a customer sign-in link sent through the outbox."""
    at = now or datetime.now(UTC)
    access = AppAccess.over(store)
    base = store.settings.public_url.rstrip("/")
    try:
        _member, token = create_staff(access.accounts, access.secret, DEMO_ADMIN, "admin", at)
    except Conflict:  # the demo ran on this store before: a fresh link for the same account
        token = reset_link_token(access.accounts, access.secret, DEMO_ADMIN, at)
    report: dict[str, Any] = {
        "staff_email": DEMO_ADMIN,
        "staff_role": "admin",
        "set_password_url": f"{base}/staff/set-password/{token}",
        "staff_sign_in_url": f"{base}/staff/sign-in",
    }
    if customer_id:
        outbox = SqlDecisionStore.over(store)
        action, _created = send_sign_in_link(
            outbox, access.accounts, access.secret, customer_id, "email", base, at, f"demo-{at.isoformat()}"
        )
        report |= {
            "customer_id": customer_id,
            "sign_in_url": action.payload["url"],
            "expires_at": action.payload["expires_at"],
        }
    return report
