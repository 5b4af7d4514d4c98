"""The customer's pages and the staff inbox in a real browser (Debian's Chromium driven by Playwright).

One customer, one flow: sign in with a one-time link, change a control level, withdraw and re-grant a consent,
cancel an upcoming automatic order, ask "why did I get this?" and say "not like this", export the data, send a
message; a staff member answers it from the inbox, and the customer sees the reply. Screenshots go to
tests/artifacts/ (ignored by git).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from rapport.access.staff import create_staff, set_password
from rapport.api.access import AppAccess
from rapport.api.app import create_app
from rapport.decide import consent, control
from rapport.decide.engine import decide
from rapport.decide.situations import Situation
from rapport.respond import automatic
from rapport.respond.mandates import MandateTerms, create_mandate
from rapport.store.conversations import SqlConversationStore
from rapport.store.keys import create_key
from rapport.store.store import Store
from tests.decide.conftest import customer, need, store_needs, toner_order
from tests.live_server import serving

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
STAFF_EMAIL, STAFF_PASSWORD = "ana@firm.example", "a long staff passphrase 42"


@pytest.fixture
def served(store: Store) -> Iterator[tuple[str, Store]]:
    """The app on a free local port, in a thread, over the test store."""
    with serving(create_app(store)) as url:
        yield url, store


def _customer_with_everything(store: Store) -> tuple[str, str]:
    """A toner customer with a reminder sent by e-mail and an upcoming automatic order: (customer, order id)."""
    inbox = SqlConversationStore(store.settings.with_overrides(quiet_hours=""), engine=store.engine)
    now = datetime.now(UTC)
    cid = customer(inbox, "browser", orders=[toner_order(2), toner_order(1)], at=now - timedelta(days=60))
    store_needs(inbox, cid, need(cid, now=now))
    for purpose in ("contact:email", "automatic_execution"):
        consent.record_consent(inbox, cid, purpose, True, "shop", now - timedelta(days=1))
    control.set_control_level(inbox, cid, "toner", "remind_me", now)
    reminder = decide(inbox, cid, Situation("need_due"), now)
    assert reminder.status == "act", reminder.reasons
    terms = MandateTerms("category", "toner", per_order_cap=200.0, monthly_cap=400.0, notice_hours=24,
                         cancel_window_hours=24)  # fmt: skip
    mandate = create_mandate(inbox, cid, terms, now)
    order = automatic.schedule_automatic_order(inbox, cid, mandate.id, "TONER-BK-305", 1, now, "toner runs low")
    return cid, order.id


def _sign_in_path(base: str, store: Store, cid: str) -> str:
    """A one-time link asked for the way the firm does: through the API, received in the outbox action."""
    _, key = create_key(store.engine, ["decide"], "firm app")
    answer = httpx.post(f"{base}/v1/customers/{cid}/sign-in-links", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 201, answer.text
    return urlparse(answer.json()["payload"]["url"]).path


def _staff(store: Store) -> None:
    access = AppAccess.over(store)
    now = datetime.now(UTC)
    _member, token = create_staff(access.accounts, access.secret, STAFF_EMAIL, "agent", now)
    set_password(access.accounts, access.secret, token, STAFF_PASSWORD, now)


def _submit(page: Page, button: str) -> None:
    page.get_by_role("button", name=button).first.click()
    page.wait_for_load_state()


def test_a_customer_takes_control_and_hears_back_from_staff(served: tuple[str, Store]) -> None:
    base, store = served
    cid, order_id = _customer_with_everything(store)
    seen = SqlConversationStore.over(store)  # the test reads what the pages changed through the store
    path = _sign_in_path(base, store, cid)
    _staff(store)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        me = browser.new_page(viewport={"width": 1100, "height": 900})
        me.goto(base + path)
        expect(me.get_by_role("heading", level=1)).to_have_text("My page")
        me.screenshot(path=str(ARTIFACTS / "me-overview.png"), full_page=True)

        me.goto(f"{base}/me/controls")
        me.screenshot(path=str(ARTIFACTS / "preference-centre.png"), full_page=True)
        section = me.get_by_role("region", name="Toner")
        section.get_by_label("Show me options").check()
        section.get_by_role("button", name="Save level for Toner").click()
        expect(me.get_by_role("status")).to_contain_text("Toner: \u201cShow me options\u201d from now on.")
        assert control.control_level(seen, cid, "toner") == ("show_me_options", "explicit")

        me.goto(f"{base}/me/consents")
        _submit(me, "Withdraw for E-mail")
        expect(me.get_by_role("status")).to_contain_text("E-mail: withdrawn")
        assert not consent.has_consent(seen, cid, "contact:email", datetime.now(UTC))
        _submit(me, "Give consent for E-mail")
        expect(me.get_by_role("status")).to_contain_text("E-mail: given")
        assert consent.has_consent(seen, cid, "contact:email", datetime.now(UTC))

        me.goto(f"{base}/me/mandates")
        _submit(me, "Cancel this order of TONER-BK-305")
        expect(me.get_by_role("status")).to_contain_text("is cancelled")
        assert automatic.get_automatic_order(seen, cid, order_id).status == "cancelled"

        me.goto(f"{base}/me/why")
        expect(me.get_by_role("heading", name="We sent you a reminder about TONER-BK-305 on email.")).to_be_visible()
        me.get_by_label("Too many reminders").check()
        _submit(me, "Not like this")
        expect(me.get_by_role("status")).to_contain_text("At most 1 contacts per 7 days")
        _submit(me, "Apply this setting")
        expect(me.get_by_role("status")).to_contain_text("Done: At most 1 contacts per 7 days")

        me.goto(f"{base}/me/data")
        with me.expect_download() as download:
            me.get_by_role("link", name="Download everything as JSON").click()
        exported = json.loads(Path(download.value.path()).read_text())
        assert exported["customer_id"] == cid and exported["tables"]["consents"]

        me.goto(f"{base}/me/inbox")
        me.get_by_label("Your message").fill("My new toner leaves streaks. What can I do?")
        _submit(me, "Send")
        expect(me.get_by_role("status")).to_contain_text("Sent.")

        staff = browser.new_page()
        staff.goto(f"{base}/staff/inbox")
        staff.get_by_label("E-mail address").fill(STAFF_EMAIL)
        staff.get_by_label("Password").fill(STAFF_PASSWORD)
        _submit(staff, "Sign in")
        staff.get_by_role("link", name=cid).click()
        expect(staff.get_by_role("complementary")).to_contain_text("TONER-BK-305")  # the customer's context
        staff.get_by_label("Your reply").fill("Run the cleaning cycle once; if it persists we send a new one.")
        _submit(staff, "Send reply")
        expect(staff.get_by_role("status")).to_contain_text("Reply sent through the outbox.")
        staff.screenshot(path=str(ARTIFACTS / "staff-conversation.png"), full_page=True)

        me.reload()
        expect(me.locator(".message.from-staff")).to_contain_text("Run the cleaning cycle once")
        me.screenshot(path=str(ARTIFACTS / "me-inbox.png"), full_page=True)
        browser.close()
    pending = seen.actions_of(cid, ["pending"])
    assert [a["kind"] for a in pending if a["kind"] == "conversation_reply"] == ["conversation_reply"]
