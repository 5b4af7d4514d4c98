"""The demo's access section: a staff admin's set-password link and the customer's sign-in link both work."""

from __future__ import annotations

from rapport.demo.access import DEMO_ADMIN, demo_access
from tests.access.conftest import PASSWORD, Site, csrf_of


def test_demo_access_links_work_and_a_second_run_gives_fresh_ones(site: Site) -> None:
    first = demo_access(site.store, site.alice)
    assert first["staff_email"] == DEMO_ADMIN and first["customer_id"] == site.alice
    assert first["sign_in_url"].startswith("http://127.0.0.1:8000/me/sign-in/")
    browser = site.client()
    signed_in = browser.get(first["sign_in_url"].removeprefix("http://127.0.0.1:8000"), follow_redirects=False)
    assert signed_in.status_code == 303 and browser.get("/me").status_code == 200
    second = demo_access(site.store, site.alice)  # the demo ran before on this store
    assert second["set_password_url"] != first["set_password_url"]
    path = second["set_password_url"].removeprefix("http://127.0.0.1:8000")
    staff = site.client()
    set_page = staff.post(path, data={"password": PASSWORD, "csrf_token": csrf_of(staff.get(path).text)})
    assert set_page.status_code == 200 and "Password set" in set_page.text
    actions = site.key_client("read").get(f"/v1/customers/{site.alice}/actions", params={"channel": "app"})
    assert actions.status_code == 200  # the links went out through the outbox (email: a push channel)
    assert demo_access(site.store, None).keys() == {
        "staff_email",
        "staff_role",
        "set_password_url",
        "staff_sign_in_url",
    }
