"""Staff accounts and customer links through the real pages: each bad input gets a clear answer, changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from rapport.access.customers import redeem_sign_in, sign_in_token
from rapport.access.staff import MAX_FAILED_SIGN_INS, create_staff, sign_in_staff
from rapport.api.access import CUSTOMER_COOKIE, STAFF_COOKIE, AppAccess
from rapport.errors import Conflict, InvalidInput, TooManyRequests, Unauthorized
from rapport.store.tables import access_sessions, outbox_actions, staff_accounts
from tests.access.conftest import PASSWORD, Site, csrf_of


def _sessions(site: Site) -> int:
    with site.store.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(access_sessions))


def test_staff_create_set_password_and_sign_in_through_the_pages(site: Site) -> None:
    access = AppAccess.over(site.store)
    member, token = create_staff(access.accounts, access.secret, " New.Agent@Firm.example ", "agent", datetime.now(UTC))
    assert member.email == "new.agent@firm.example" and member.role == "agent"
    client = site.client()
    page = client.get(f"/staff/set-password/{token}")
    assert page.status_code == 200 and 'autocomplete="new-password"' in page.text
    short = client.post(f"/staff/set-password/{token}", data={"password": "short", "csrf_token": csrf_of(page.text)})
    assert short.status_code == 400 and "12 to 200 characters" in short.text  # the link is not spent by a bad form
    done = client.post(f"/staff/set-password/{token}", data={"password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert done.status_code == 200 and "Password set" in done.text
    again = client.post(f"/staff/set-password/{token}", data={"password": "x" * 20, "csrf_token": csrf_of(page.text)})
    assert again.status_code == 400 and "used already" in again.text
    with pytest.raises(Unauthorized):
        sign_in_staff(access.accounts, member.email, "x" * 20, datetime.now(UTC))  # the reused link changed nothing

    sign_in = client.get("/staff/sign-in?next=/v1/customers/" + site.alice)
    form = {"email": member.email, "password": PASSWORD, "csrf_token": csrf_of(sign_in.text), "next": "//evil.example"}
    response = client.post("/staff/sign-in", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"  # never sent to another site
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{STAFF_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get(f"/v1/customers/{site.alice}").status_code == 200  # an agent reads one customer
    assert client.get("/v1/identity/reviews").status_code == 403  # but not the reviews (read_reviews)
    with pytest.raises(Conflict, match="exists already"):
        create_staff(access.accounts, access.secret, member.email, "admin", datetime.now(UTC))
    with pytest.raises(InvalidInput, match="Unknown role"):
        create_staff(access.accounts, access.secret, "x@firm.example", "owner", datetime.now(UTC))


def test_wrong_password_gets_the_page_back_and_repeated_failures_lock_out(site: Site) -> None:
    client = site.client()
    token = csrf_of(client.get("/staff/sign-in").text)
    email = site.staff_emails["agent"]
    for _ in range(MAX_FAILED_SIGN_INS):
        wrong = client.post("/staff/sign-in", data={"email": email, "password": "wrong" * 3, "csrf_token": token})
        assert wrong.status_code == 401 and "wrong" in wrong.text and f'value="{email}"' in wrong.text
    locked = client.post("/staff/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert locked.status_code == 429 and "locked until" in locked.text and int(locked.headers["Retry-After"]) > 60
    assert STAFF_COOKIE not in locked.headers.get("set-cookie", "") and _sessions(site) == 0
    unknown = client.post(
        "/staff/sign-in", data={"email": "nobody@firm.example", "password": "x" * 12, "csrf_token": token}
    )
    assert unknown.status_code == 401 and "wrong" in unknown.text  # same answer as a wrong password

    access = AppAccess.over(site.store)
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert sign_in_staff(access.accounts, email, PASSWORD, later).email == email  # the lock-out ends
    with site.store.engine.connect() as conn:
        row = conn.execute(select(staff_accounts).where(staff_accounts.c.email == email)).one()
    assert row.failed_sign_ins == 0 and row.locked_until is None


def test_lock_out_with_the_clock(site: Site) -> None:
    access = AppAccess.over(site.store)
    email, now = site.staff_emails["analyst"], datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    for minute in range(MAX_FAILED_SIGN_INS):
        with pytest.raises(Unauthorized):
            sign_in_staff(access.accounts, email, "not the password", now + timedelta(minutes=minute))
    with pytest.raises(TooManyRequests, match="locked until 10:19:00") as refused:
        sign_in_staff(access.accounts, email, PASSWORD, now + timedelta(minutes=5))
    assert refused.value.retry_after == 14 * 60 + 1
    assert sign_in_staff(access.accounts, email, PASSWORD, now + timedelta(minutes=19)).role == "analyst"


def test_form_posts_without_a_valid_csrf_token_are_refused_and_change_nothing(site: Site) -> None:
    client = site.client()
    client.get("/staff/sign-in")
    form = {"email": site.staff_emails["admin"], "password": PASSWORD}
    for token in (None, "forged", csrf_of(site.client().get("/staff/sign-in").text)):  # none, made up, another's
        response = client.post("/staff/sign-in", data={**form, **({"csrf_token": token} if token else {})})
        assert response.status_code == 403 and "CSRF" in response.text and "Nothing was changed" in response.text
    assert _sessions(site) == 0
    staff = site.staff_client("admin")
    out = staff.post("/staff/sign-out", data={}, follow_redirects=False)  # sign-out needs the token too
    assert out.status_code == 403 and staff.get(f"/v1/customers/{site.alice}").status_code == 200


def test_a_cookie_session_writing_through_the_api_needs_the_csrf_header(site: Site) -> None:
    client = site.customer_client(site.alice)
    body = {"consents": {"contact:email": True}, "source": "web"}
    refused = client.put(f"/v1/customers/{site.alice}/consents", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    token = csrf_of(client.get("/me").text)
    ok = client.put(f"/v1/customers/{site.alice}/consents", json=body, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200, ok.text
    consents = client.get(f"/v1/customers/{site.alice}/consents").json()
    assert [c["purpose"] for c in consents["history"]] == ["contact:email"]


def test_customer_sign_in_link_through_the_outbox_works_once(site: Site) -> None:
    firm = site.key_client("decide")
    issued = firm.post(f"/v1/customers/{site.alice}/sign-in-links", json={"channel": "email"})
    assert issued.status_code == 201, issued.text
    action = issued.json()
    assert action["kind"] == "sign_in_link" and action["channel"] == "email" and action["status"] == "pending"
    url = action["payload"]["url"]
    assert url.startswith("http://127.0.0.1:8000/me/sign-in/")
    assert site.key_client("read").post(f"/v1/customers/{site.alice}/sign-in-links").status_code == 403
    retried = firm.post(f"/v1/customers/{site.bob}/sign-in-links", headers={"Idempotency-Key": "k1"})
    again = firm.post(f"/v1/customers/{site.bob}/sign-in-links", headers={"Idempotency-Key": "k1"})
    assert retried.status_code == 201 and again.status_code == 200 and again.json()["id"] == retried.json()["id"]
    with site.store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(outbox_actions)) == 2

    browser = site.client()
    path = url.removeprefix("http://127.0.0.1:8000")
    signed_in = browser.get(path, follow_redirects=False)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/me"
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith(f"{CUSTOMER_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert browser.get("/me").status_code == 200
    assert browser.get(f"/v1/customers/{site.alice}/consents").status_code == 200

    other = site.client()
    reused = other.get(path, follow_redirects=False)
    assert reused.status_code == 400 and "used already" in reused.text
    assert CUSTOMER_COOKIE not in reused.headers.get("set-cookie", "")
    assert other.get("/me", follow_redirects=False).headers["location"] == "/me/sign-in"
    altered = other.get(path[:-3] + "abc", follow_redirects=False)
    assert altered.status_code == 400 and "not valid" in altered.text
    assert _sessions(site) == 1


def test_an_expired_link_is_refused_and_a_link_is_bound_to_its_customer(site: Site) -> None:
    access = AppAccess.over(site.store)
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    token, expires = sign_in_token(access.accounts, access.secret, site.alice, now)
    assert expires == now + timedelta(minutes=15)
    with pytest.raises(InvalidInput, match="expired at 10:15 UTC"):
        redeem_sign_in(access.accounts, access.secret, token, now + timedelta(minutes=15))
    session, _cookie = redeem_sign_in(access.accounts, access.secret, token, now + timedelta(minutes=14))
    assert session.customer_id == site.alice  # the expired try did not spend it
    client = site.client()
    old = client.get(site.sign_in_url(site.bob, datetime.now(UTC) - timedelta(minutes=16)), follow_redirects=False)
    assert old.status_code == 400 and "expired" in old.text
    assert CUSTOMER_COOKIE not in old.headers.get("set-cookie", "")
    with pytest.raises(InvalidInput, match="not valid"):  # signed by another secret
        redeem_sign_in(
            access.accounts, "another-secret", sign_in_token(access.accounts, access.secret, site.bob, now)[0], now
        )


def test_forged_and_ended_sessions_are_refused(site: Site) -> None:
    client = site.client()
    client.cookies.set(CUSTOMER_COOKIE, "forged.value")
    refused = client.get(f"/v1/customers/{site.alice}/consents")
    assert refused.status_code == 401 and "not valid" in refused.json()["message"]
    assert client.get("/me", follow_redirects=False).headers["location"] == "/me/sign-in"
    client.cookies.set(STAFF_COOKIE, "forged.value")
    assert client.get("/", follow_redirects=False).status_code in (303, 404)

    customer = site.customer_client(site.alice)
    cookie = customer.cookies.get(CUSTOMER_COOKIE)
    token = csrf_of(customer.get("/me").text)
    assert customer.post("/me/sign-out", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    replay = site.client()
    replay.cookies.set(CUSTOMER_COOKIE, cookie)
    ended = replay.get(f"/v1/customers/{site.alice}/consents")
    assert ended.status_code == 401 and "ended" in ended.json()["message"]


def test_the_generated_secret_is_kept_in_the_store(site: Site) -> None:
    first, second = AppAccess.over(site.store), AppAccess.over(site.store)
    assert first.secret == second.secret and len(first.secret) > 40
    configured = AppAccess.over(
        type(site.store)(site.store.settings.with_overrides(session_secret="s" * 40), site.store.engine)
    )
    assert configured.secret == "s" * 40
