"""Security headers, body size limits and rate limits, on the live app over a real store."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from rapport.api.app import create_app
from rapport.store.store import Store
from tests.access.conftest import Site, csrf_of


def test_security_headers_on_pages_and_api(site: Site) -> None:
    client = site.client()
    for path in ("/staff/sign-in", "/health", f"/v1/customers/{site.alice}"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "strict-transport-security" not in headers  # plain http: no HSTS
    tls = site.client(base_url="https://testserver")
    assert tls.get("/health").headers["strict-transport-security"].startswith("max-age=31536000")
    css = client.get("/static/rapport.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_bodies_over_the_limit_get_413_and_change_nothing(site: Site) -> None:
    client = site.client()
    token = csrf_of(client.get("/staff/sign-in").text)
    form = {"email": site.staff_emails["admin"], "password": "x" * 70_000, "csrf_token": token}
    too_big = client.post("/staff/sign-in", data=form, follow_redirects=False)
    assert too_big.status_code == 413 and "limit here is 65536 bytes" in too_big.json()["message"]
    assert "set-cookie" not in too_big.headers
    writer = site.key_client("write")
    batch = {"batch": [{"type": "track", "userId": "alice", "event": "x", "properties": {"p": "y" * 1000}}] * 600}
    response = writer.post("/v1/batch", content=json.dumps(batch), headers={"Content-Type": "application/json"})
    assert response.status_code == 413

    def chunks():  # no Content-Length: the limit holds while the body streams in
        for _ in range(80):
            yield b"a" * 1024

    streamed = client.post(
        "/me/sign-out", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert streamed.status_code == 413


def test_ingestion_is_rate_limited_per_key_with_retry_after(store: Store) -> None:
    from rapport.store.keys import create_key

    limited = Store(store.settings.with_overrides(ingest_rate_per_second=2), engine=store.engine)
    one, two = (create_key(store.engine, ["write"], name)[1] for name in ("one", "two"))
    event = {"type": "track", "userId": "u1", "event": "Viewed"}
    with TestClient(create_app(limited)) as client:
        answers = [client.post("/v1/track", json={**event, "messageId": f"m{i}"}, auth=(one, "")) for i in range(6)]
        codes = [a.status_code for a in answers]
        assert codes[:4] == [200] * 4 and 429 in codes[4:], codes  # a burst of twice the rate, then 429
        refused = next(a for a in answers if a.status_code == 429)
        assert int(refused.headers["Retry-After"]) >= 1 and "Too many requests from key" in refused.json()["message"]
        assert client.post("/v1/track", json={**event, "messageId": "other"}, auth=(two, "")).status_code == 200


def test_sign_in_is_rate_limited_per_address(site: Site) -> None:
    limited = Store(site.store.settings.with_overrides(sign_in_per_minute=3), engine=site.store.engine)
    with TestClient(create_app(limited)) as client:
        token = csrf_of(client.get("/staff/sign-in").text)
        form = {"email": "nobody@firm.example", "password": "x" * 12, "csrf_token": token}
        codes = [client.post("/staff/sign-in", data=form).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        link = client.get("/me/sign-in/anything")
        assert link.status_code == 429 and int(link.headers["Retry-After"]) >= 1 and "Too many" in link.text


def test_a_nul_character_anywhere_is_refused_alike_on_both_stores(site: Site) -> None:
    admin = site.key_client("admin")
    order = {"customer_id": "\x00t%", "lines": [{"sku": "TON-305", "quantity": 1}]}
    body = admin.post("/v1/orders", json=order)
    assert body.status_code == 400 and "NUL character" in body.json()["message"]
    assert admin.get("/v1/customers/%00x").status_code == 400
    assert admin.get("/v1/customers/lookup", params={"email": "a\x00@b.de"}).status_code == 400
    assert admin.get(f"/v1/customers/{site.alice}").status_code == 200
