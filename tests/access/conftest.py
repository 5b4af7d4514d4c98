"""Access fixtures: an app over a real store (SQLite and PostgreSQL) with a key of each scope, a staff member of
each role, two customers, and helpers that sign in through the real pages and links."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rapport.access.customers import sign_in_token
from rapport.access.principals import STAFF_ROLES
from rapport.access.staff import create_staff, set_password
from rapport.api.access import AppAccess
from rapport.api.app import create_app
from rapport.customers.identifiers import Identifier
from rapport.customers.ingestion import ingest
from rapport.store.keys import SCOPES, create_key
from rapport.store.store import Store

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: str) -> str:
    found = _TOKEN.search(page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def add_customer(store: Store, user: str) -> str:
    event = {
        "type": "identify",
        "userId": user,
        "messageId": f"id-{user}",
        "timestamp": "2026-03-01T10:00:00Z",
        "traits": {"email": f"{user}@example.com", "name": user.title()},
    }
    report = ingest(store, [event], store.settings)
    assert report.stored == 1, report.rejected
    return store.customer_by_identifier(Identifier("user_id", user))


@dataclass
class Site:
    app: Any
    store: Store
    keys: dict[str, str]
    staff_emails: dict[str, str]
    alice: str
    bob: str
    clients: list[TestClient] = field(default_factory=list)

    def client(self, **kwargs: Any) -> TestClient:
        made = TestClient(self.app, **kwargs)
        made.__enter__()
        self.clients.append(made)
        return made

    def key_client(self, scope: str) -> TestClient:
        return self.client(headers={"Authorization": f"Bearer {self.keys[scope]}"})

    def staff_client(self, role: str) -> TestClient:
        client = self.client()
        token = csrf_of(client.get("/staff/sign-in").text)
        form = {"email": self.staff_emails[role], "password": PASSWORD, "csrf_token": token, "next": "/me"}
        signed_in = client.post("/staff/sign-in", data=form, follow_redirects=False)
        assert signed_in.status_code == 303, signed_in.text
        return client

    def sign_in_url(self, customer_id: str, now: datetime | None = None) -> str:
        access = AppAccess.over(self.store)
        token, _ = sign_in_token(access.accounts, access.secret, customer_id, now or datetime.now(UTC))
        return f"/me/sign-in/{token}"

    def customer_client(self, customer_id: str) -> TestClient:
        client = self.client()
        response = client.get(self.sign_in_url(customer_id), follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/me", response.text
        client.get("/me")  # the CSRF cookie, as a browser would have it
        return client


def make_site(store: Store) -> Iterator[Site]:
    keys = {scope: create_key(store.engine, [scope], f"test-{scope}")[1] for scope in SCOPES}
    access = AppAccess.over(store)
    now = datetime.now(UTC)
    emails = {}
    for role in STAFF_ROLES:
        member, token = create_staff(access.accounts, access.secret, f"{role}@firm.example", role, now)
        set_password(access.accounts, access.secret, token, PASSWORD, now)
        emails[role] = member.email
    site = Site(create_app(store), store, keys, emails, add_customer(store, "alice"), add_customer(store, "bob"))
    yield site
    for client in site.clients:
        client.__exit__(None, None, None)


@pytest.fixture
def site(store: Store) -> Iterator[Site]:
    yield from make_site(store)


def same_but_id(one: dict[str, Any], other: dict[str, Any], one_id: str, other_id: str) -> bool:
    """Whether two error bodies are identical once each names its own id the same way."""
    return str(one).replace(one_id, "ID") == str(other).replace(other_id, "ID")
