"""The staff dashboard in a real browser (Playwright driving Debian's Chromium) against a real server on the demo
store: each page's figures against the API's and the services', undo a merge from the 360 page, confirm a linkage
review, an agent refused an export. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import func, select

from rapport.access.staff import create_staff, set_password
from rapport.api.access import AppAccess
from rapport.api.app import create_app
from rapport.customers.linkage.ports import Review
from rapport.customers.service import merge_history
from rapport.demo.strategy import demo_setup
from rapport.store.customer360 import hurting_customers
from rapport.store.linkage import linkage_store
from rapport.store.operations import operations
from rapport.store.store import Store
from rapport.store.tables import ingestion_rejections
from tests.live_server import serving

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
PASSWORD = "correct horse battery staple"


@dataclass
class Site:
    url: str
    store: Store
    read_key: str
    write_key: str
    browser: Browser
    timings: dict[str, float]

    def page_as(self, role: str, width: int = 1280) -> Page:
        page = self.browser.new_page(viewport={"width": width, "height": 900})
        page.goto(f"{self.url}/staff/sign-in")
        page.fill("#email", f"{role}@dashboard.example")
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Sign in')")
        page.wait_for_url(f"{self.url}/")
        return page

    def open(self, page: Page, path: str) -> Any:
        started = time.perf_counter()
        response = page.goto(f"{self.url}{path}")
        self.timings[path.split("?")[0]] = round((time.perf_counter() - started) * 1000, 1)
        return response

    def api(self, path: str, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.read_key}"}
        response = httpx.get(f"{self.url}{path}", params=params, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def site(demo: tuple[Store, dict[str, Any]]) -> Iterator[Site]:
    store, report = demo
    access = AppAccess.over(store)
    now = datetime.now(UTC)
    for role in ("agent", "analyst", "admin"):
        _member, token = create_staff(access.accounts, access.secret, f"{role}@dashboard.example", role, now)
        set_password(access.accounts, access.secret, token, PASSWORD, now)
    app = create_app(store)
    app.state.strategy_setup = demo_setup()
    with serving(app) as url, sync_playwright() as playwright:
        ARTIFACTS.mkdir(exist_ok=True)
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        made = Site(url, store, report["read_key"], report["write_key"], browser, {})
        yield made
        browser.close()
    (ARTIFACTS / "dashboard_timings_ms.json").write_text(json.dumps(made.timings, indent=2))


def _period() -> str:
    return (datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=28)).isoformat()


def _figure(page: Page, scope: str, name: str) -> str:
    return page.locator(f"{scope} [data-figure='{name}']").first.inner_text().strip()


def test_the_matrix_page_shows_the_apis_figures_and_drills_down(site: Site) -> None:
    page = site.page_as("analyst")
    site.open(page, "/staff/matrix")
    api = site.api("/v1/strategy/matrix", since=_period())
    assert page.locator("td.cell").count() == 20
    for cell in api["cells"]:
        scope = f"td[data-experience='{cell['experience']}'][data-architecture='{cell['architecture']}']"
        shown = page.locator(scope)
        assert cell["state"].replace("threat", "rival threat") in shown.inner_text().lower()
        if cell["decisions"] or cell["orders"] or cell["automatic_executed"] or cell["automatic_cancelled"]:
            assert _figure(page, scope, "decisions") == str(cell["decisions"])
            assert _figure(page, scope, "customers") == str(cell["customers"])
            assert _figure(page, scope, "revenue") == f"{cell['revenue']:,.2f}"
            assert _figure(page, scope, "complaints") == str(cell["complaints"])
    busiest = max(api["cells"], key=lambda c: c["decisions"])
    assert busiest["decisions"] > 0
    page.screenshot(path=str(ARTIFACTS / "dashboard-matrix.png"), full_page=True)
    page.click(f"td[data-experience='{busiest['experience']}'][data-architecture='{busiest['architecture']}'] a")
    page.wait_for_url(f"**/staff/matrix/{busiest['experience']}/{busiest['architecture']}**")
    cell = site.api(f"/v1/strategy/matrix/cells/{busiest['experience']}/{busiest['architecture']}", since=_period())
    assert _figure(page, "#cell-figures", "decisions") == str(cell["decisions"])
    assert _figure(page, "#cell-figures", "orders") == str(cell["orders"])
    assert page.locator("#cell-customers tbody tr").count() == min(len(cell["customer_list"]), 200)
    segment = site.api("/v1/strategy/matrix", since=_period(), segment="printer_owners")
    site.open(page, "/staff/matrix?segment=printer_owners")
    coach = next(c for c in segment["cells"] if c["experience"] == busiest["experience"]
                 and c["architecture"] == busiest["architecture"])  # fmt: skip
    scope = f"td[data-experience='{coach['experience']}'][data-architecture='{coach['architecture']}']"
    if coach["decisions"]:
        assert _figure(page, scope, "decisions") == str(coach["decisions"])
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the matrix scrolls inside its box
    site.open(page, "/staff/matrix")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.screenshot(path=str(ARTIFACTS / "dashboard-matrix-phone.png"))
    page.close()


def test_home_and_operations_show_the_services_figures(site: Site) -> None:
    page = site.page_as("admin")
    site.open(page, "/")
    api = site.api("/v1/strategy/matrix", since=_period())
    assert _figure(page, "", "decisions") == str(sum(c["decisions"] for c in api["cells"]))
    assert page.locator("#hurting-list li").count() == len(hurting_customers(site.store, datetime.now(UTC)))
    bad = [{"type": "track", "messageId": f"bad-{i}", "userId": "u-collector-bug"} for i in range(3)]
    sent = httpx.post(
        f"{site.url}/v1/batch", json={"batch": bad}, headers={"Authorization": f"Bearer {site.write_key}"}
    )
    assert sent.status_code == 400 and len(sent.json()["rejected"]) == 3  # the collector gets its clear errors
    site.open(page, "/staff/operations")
    ops = operations(site.store, datetime.now(UTC))
    with site.store.engine.connect() as conn:
        recorded = conn.scalar(select(func.sum(ingestion_rejections.c.count)))
    assert _figure(page, "", "rejected") == str(ops["ingestion"]["rejected_total"]) == str(recorded)
    assert recorded >= 3 and page.locator("#rejections tbody tr").count() == len(ops["ingestion"]["reasons"])
    assert "track needs a non-empty event name" in page.locator("#rejections").inner_text()
    assert _figure(page, "", "events") == str(ops["ingestion"]["total"])
    assert _figure(page, "", "deferred") == str(sum(ops["contact_pressure"]["deferred"]))
    assert _figure(page, "", "dead") == str(len(ops["webhooks"]["dead_letter"]))
    assert page.locator("svg[role='img']").count() >= 8
    assert page.locator("#models tbody tr").count() == len(ops["models"])
    page.screenshot(path=str(ARTIFACTS / "dashboard-operations.png"), full_page=True)
    page.close()


def _merged_customer(store: Store) -> tuple[str, dict[str, Any], str]:
    """A profile joined from several records by stitching, its latest applied merge, and its name."""
    profiles = sorted(store.profile_identifiers())
    for cid in profiles:
        merges = [m for m in merge_history(store, cid) if m["status"] == "applied" and m["reason"] == "stitch"]
        page_name = store.event_rows(store.members(cid))
        names = [r["traits"] for r in page_name if r.get("traits") and r["traits"].get("last_name")]
        if merges and names:
            return cid, merges[-1], f"{names[-1]['first_name']} {names[-1]['last_name']}"
    raise AssertionError("the demo has stitched profiles")


def test_undo_a_merge_from_the_360_page(site: Site) -> None:
    cid, merge, name = _merged_customer(site.store)
    page = site.page_as("agent")  # agents help customers: they may undo a wrong merge
    site.open(page, "/staff/customers")
    page.fill("#q", name)
    page.click("button:has-text('Search')")
    if "/staff/customers/" not in page.url:  # several people share the name: pick ours
        page.click(f"#search-results a:has-text('{cid}')")
    page.wait_for_url(f"**/staff/customers/{cid}")
    assert page.locator("h1").inner_text().startswith(name)
    site.timings["/staff/customers/{id}"] = _time(site, page, f"/staff/customers/{cid}")
    page.screenshot(path=str(ARTIFACTS / "dashboard-360.png"))
    assert page.locator("#h-conversations").count() == 1 and page.locator("#h-voice").count() == 1
    page.click(f"tr[data-merge='{merge['id']}'] a:has-text('Undo')")
    assert "Undo merge" in page.locator("h1").inner_text()
    page.fill("#reason", "two different people at one address")
    page.click("button:has-text('Yes, undo')")
    page.wait_for_url(f"**/staff/customers/{cid}?notice=*")
    assert f"Merge {merge['id']} undone" in page.locator(".notice").inner_text()
    assert "undone" in page.locator(f"tr[data-merge='{merge['id']}'] .status").inner_text()
    stored = next(m for m in merge_history(site.store, merge["survivor_id"]) if m["id"] == merge["id"])
    assert stored["status"] == "undone" and stored["undo_reason"] == "two different people at one address"
    assert "merge undone" in page.locator("#consents").inner_text()  # the audit entry, on the page
    assert "agent@dashboard.example" in page.locator("#access-log").inner_text()
    page.close()


def _time(site: Site, page: Page, path: str) -> float:
    started = time.perf_counter()
    page.goto(f"{site.url}{path}")
    return round((time.perf_counter() - started) * 1000, 1)


def test_confirm_a_linkage_review_from_the_360_page(site: Site) -> None:
    profiles = sorted(site.store.profile_identifiers())
    one, other = profiles[10], profiles[11]
    review = Review(0, one, other, 0.81, {"last_name": {"level": "exact"}}, "pending", datetime.now(UTC),
                    attributes={one: {"last_name": "Test"}, other: {"last_name": "Test"}})  # fmt: skip
    with linkage_store(site.store).transaction() as tx:
        review_id = tx.add_review(review)
    page = site.page_as("admin")
    site.open(page, f"/staff/customers/{other}")
    assert page.locator(f"article[data-review='{review_id}']").count() == 1
    page.fill(f"article[data-review='{review_id}'] input[name='note']", "same person, checked by phone")
    page.click(f"article[data-review='{review_id}'] button:has-text('Confirm')")
    page.wait_for_url(f"**/staff/customers/{other}?notice=*")
    assert f"Review {review_id} confirmed" in page.locator(".notice").inner_text()
    decided = linkage_store(site.store).reviews("confirmed", 1000)
    assert any(r.id == review_id and r.merge_id is not None for r in decided)
    assert site.store.canonical_id(one) == site.store.canonical_id(other)
    page.close()


def test_an_agent_is_refused_an_export_and_an_analyst_gets_no_write(site: Site) -> None:
    agent = site.page_as("agent")
    assert agent.locator("a:has-text('Export')").count() == 0
    assert agent.locator("a[href='/staff/matrix']").count() >= 1  # the matrix is no export: agents see it
    assert site.open(agent, "/staff/matrix").status == 200
    assert agent.locator("a.export").count() == 0
    response = site.open(agent, "/staff/matrix.csv")
    assert response.status == 403 and "analyst or admin" in agent.content()
    assert site.open(agent, "/staff/operations").status == 403
    agent.close()
    analyst = site.page_as("analyst")
    with analyst.expect_download() as download:
        analyst.goto(f"{site.url}/staff/matrix")
        analyst.click("a.export")
    assert download.value.suggested_filename == "matrix.csv"
    cid, merge, _name = _merged_customer(site.store)
    site.open(analyst, f"/staff/customers/{cid}")
    assert analyst.locator("a:has-text('Undo')").count() == 0
    assert analyst.locator("button:has-text('Confirm')").count() == 0
    assert site.open(analyst, f"/staff/customers/{cid}/merges/{merge['id']}/undo").status == 403
    analyst.close()
