"""Every read of one customer's data by staff or a server key is in that customer's access log."""

from __future__ import annotations

from datetime import UTC, datetime

from rapport.access.principals import ServerKey, StaffMember
from rapport.store.access import access_log, record_access
from rapport.store.store import Store
from tests.access.conftest import Site


def test_record_and_read_the_access_log(store: Store) -> None:
    at = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    record_access(store.engine, "c1", StaffMember("stf_1", "agent@firm.example", "agent"), "GET /v1/x", at)
    record_access(store.engine, "c1", ServerKey("k1", ("read",), "crm"), "GET /v1/y", at)
    record_access(store.engine, "c2", ServerKey("k1", ("read",), "crm"), "GET /v1/z", at)
    found = access_log(store.engine, "c1")
    assert [(r.principal_kind, r.principal_name, r.what) for r in found] == [
        ("server_key", "server key k1 (crm)", "GET /v1/y"),
        ("staff", "staff agent@firm.example (agent)", "GET /v1/x"),
    ]
    assert found[0].at == at


def test_staff_and_key_reads_are_logged_the_customers_own_are_not(site: Site) -> None:
    site.key_client("read").get(f"/v1/customers/{site.alice}/consents")
    site.staff_client("agent").get(f"/v1/customers/{site.alice}")
    customer = site.customer_client(site.alice)
    customer.get(f"/v1/customers/{site.alice}/orders")
    log = customer.get(f"/v1/customers/{site.alice}/access-log").json()["access_log"]
    assert [(e["principal_kind"], e["what"]) for e in log] == [
        ("staff", "GET /v1/customers/{customer_id}"),
        ("server_key", "GET /v1/customers/{customer_id}/consents"),
    ]
    assert "agent@firm.example" in log[0]["principal_name"]
    assert (
        site.key_client("read").get(f"/v1/customers/{site.bob}/access-log").json()["access_log"][0]["principal_kind"]
        == "server_key"
    )
    assert customer.get(f"/v1/customers/{site.bob}/access-log").status_code == 404
