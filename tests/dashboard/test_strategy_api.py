"""GET /v1/strategy/matrix: the same 20 cells as the CLI, behind a read key."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from rapport.api.app import create_app
from rapport.demo.strategy import demo_setup
from rapport.store.store import Store


def test_the_api_serves_the_matrix_and_a_cell(demo: tuple[Store, dict[str, Any]]) -> None:
    store, report = demo
    app = create_app(store)
    app.state.strategy_setup = demo_setup()
    headers = {"Authorization": f"Bearer {report['read_key']}"}
    with TestClient(app) as client:
        assert client.get("/v1/strategy/matrix").status_code == 401
        found = client.get("/v1/strategy/matrix", headers=headers).json()
        assert len(found["cells"]) == 20
        coach = next(c for c in found["cells"] if (c["experience"], c["architecture"]) == ("coach_behavior",
                                                                                         "connected_retailer"))  # fmt: skip
        assert coach["named"] and coach["decisions"] > 0
        cell = client.get("/v1/strategy/matrix/cells/coach_behavior/connected_retailer", headers=headers).json()
        assert cell["decisions"] == coach["decisions"]
        assert sum(c["decisions"] for c in cell["customer_list"]) == coach["decisions"]
        wrong = client.get("/v1/strategy/matrix", params={"segment": "printer_ownr"}, headers=headers)
        assert wrong.status_code == 400 and "printer_owners" in wrong.json()["message"]
        assert client.get("/v1/strategy/matrix/cells/coach/retailer", headers=headers).status_code == 422
