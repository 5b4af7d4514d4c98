""" "Why did I get this?" on the customer's page: a contact without a decision, its settings one click away."""

from __future__ import annotations

import re
from datetime import timedelta

from rapport.respond.automatic import get_automatic_order, schedule_automatic_order
from rapport.respond.mandates import create_mandate
from rapport.respond.outbox import acknowledge
from rapport.respond.scheduler import run_due
from rapport.store.decisions import SqlDecisionStore
from tests.access.conftest import Site, csrf_of, site  # noqa: F401 (site is a fixture)
from tests.decide.conftest import TONER_MANDATE
from tests.respond.conftest import T0, consenting_customer


def test_the_why_page_explains_an_automatic_order_notice_and_cancels_it_in_one_click(site: Site) -> None:  # noqa: F811
    rs = SqlDecisionStore(site.store.settings.with_overrides(quiet_hours=""), engine=site.store.engine)
    cid = consenting_customer(rs, "page-notice", "app")
    mandate = create_mandate(rs, cid, TONER_MANDATE, T0 - timedelta(hours=1))
    order = schedule_automatic_order(rs, cid, mandate.id, "TON-305", 2, T0, "toner runs out in 3 days")
    [step] = run_due(rs, T0)
    acknowledge(rs, cid, step.detail["notice_action_id"], T0, "app")  # the app showed the notice

    client = site.customer_client(cid)
    page = client.get("/me/why").text
    assert "We told you about an automatic order: 2 x TON-305 for" in page
    assert "Your mandate for toner (at most 100.00 EUR an order, 200.00 a month) scheduled this order." in page
    assert "You can cancel until 03 Mar 2026, 10:00 UTC" in page
    assert f'action="/me/mandates/{mandate.id}/revoke"' in page
    cancel = f"/me/automatic-orders/{order.id}/cancel"
    assert f'action="{cancel}"' in page and "Not like this?" in page
    assert 'action="/me/why/not-like-this"' not in page, "a contact has no decision whose outcome could be recorded"

    done = client.post(cancel, data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert get_automatic_order(rs, cid, order.id).status == "cancelled"
    after = client.get("/me/why").text
    assert "It was cancelled" in after and f'action="{cancel}"' not in after

    bob_page = site.customer_client(site.bob).get("/me/why").text
    assert "TON-305" not in bob_page and not re.search(r'id="contact-', bob_page), "another customer sees nothing"
