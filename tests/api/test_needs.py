"""GET /v1/customers/{id}/needs: stored needs, a refresh on request, and the errors."""

from __future__ import annotations

from rapport.recognize.refresh import refresh_all_needs
from tests.api.conftest import Api
from tests.recognize.test_refresh import NOW, firm_history, send


def test_needs_route_reads_and_refreshes(api: Api) -> None:
    send(api.store, firm_history())
    refresh_all_needs(api.store, NOW)
    auth = (api.read, "")
    body = api.client.get("/v1/customers/user_id:ana/needs", auth=auth).json()
    assert {n["kind"] for n in body["needs"]} >= {"depletion", "replenish"}
    assert all(n["evidence"]["reason"] for n in body["needs"])
    dues = [n["due_at"] for n in body["needs"]]
    assert dues == sorted(dues)
    fresh = api.client.get(
        "/v1/customers/ana/needs", params={"refresh": "true", "at": "2026-07-15T00:00:00Z"}, auth=auth
    )
    assert fresh.status_code == 200
    assert "depletion" in {n["kind"] for n in fresh.json()["needs"]}, "the toner is overdue by July"
    assert api.client.get("/v1/customers/nobody/needs", auth=auth).status_code == 404
    assert api.client.get("/v1/customers/ana/needs", auth=(api.write, "")).status_code == 403
    assert (
        api.client.get("/v1/customers/ana/needs", params={"refresh": "true", "at": "2026-07-15"}, auth=auth).status_code
        == 422
    )
