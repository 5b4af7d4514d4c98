"""The voice routes over HTTP on both stores: record (idempotent, write scope), topics, alerts, a customer's voice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rapport.voice.service import refit_topics, scan_alerts
from tests.decide.conftest import customer
from tests.voice.conftest import Api

NOW = datetime.now(UTC)


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_post_voice_records_once_and_links_through_an_identifier(api: Api) -> None:
    cid = customer(api.store, "vera")  # type: ignore[arg-type]
    body = {
        "items": [
            {"source": "reviews", "external_id": "r-1", "time": (NOW - timedelta(hours=2)).isoformat(),
             "text": "Awful. The parcel never arrived and support hung up on me.", "identifiers": {"email": "vera@example.org"}},
            {"source": "reviews", "external_id": "r-2", "time": NOW.isoformat(), "text": "Lovely coffee pods.",
             "author": "@someone"},
        ]
    }  # fmt: skip
    assert api.client.post("/v1/voice", json=body).status_code == 401
    assert api.client.post("/v1/voice", json=body, headers=_auth(api.read)).status_code == 403
    first = api.client.post("/v1/voice", json=body, headers=_auth(api.write))
    again = api.client.post("/v1/voice", json=body, headers=_auth(api.write))
    assert first.status_code == 200, first.text
    assert (first.json()["stored"], first.json()["linked"], first.json()["issue_needs"]) == (2, 1, 1)
    assert (again.json()["stored"], again.json()["duplicates"]) == (0, 2)
    voice = api.client.get(f"/v1/customers/{cid}/voice", headers=_auth(api.read)).json()
    assert [i["external_id"] for i in voice["items"]] == ["r-1"] and voice["items"][0]["label"] == "negative"
    needs = api.client.get(f"/v1/customers/{cid}/needs", headers=_auth(api.read)).json()["needs"]
    assert [n["kind"] for n in needs] == ["issue"] and "never arrived" in needs[0]["evidence"]["reason"]
    naive = {"items": [{**body["items"][0], "time": "2026-01-01T10:00:00"}]}
    assert api.client.post("/v1/voice", json=naive, headers=_auth(api.write)).status_code == 422
    assert api.client.get("/v1/customers/nobody/voice", headers=_auth(api.read)).status_code == 404


def test_topics_and_a_burst_of_complaints_raise_an_alert_with_examples(api: Api) -> None:
    start = NOW - timedelta(days=60)
    texts = ["The printer toner cartridge leaks", "Coffee pods taste stale", "Invoice charged twice on my card"]
    items = [
        {"source": "tickets", "external_id": f"t-{day}-{k}", "time": (start + timedelta(days=day, hours=k)).isoformat(),
         "text": f"{texts[k % 3]} (ticket {day}-{k})"}
        for day in range(60) for k in range(3)
    ]  # fmt: skip
    items += [  # the burst: many more toner complaints in the last four days
        {"source": "tickets", "external_id": f"b-{day}-{k}", "time": (start + timedelta(days=day, hours=k)).isoformat(),
         "text": f"The printer toner cartridge leaks everywhere (burst {day}-{k})"}
        for day in range(56, 60) for k in range(8)
    ]  # fmt: skip
    for chunk in range(0, len(items), 500):
        assert (
            api.client.post(
                "/v1/voice", json={"items": items[chunk : chunk + 500]}, headers=_auth(api.write)
            ).status_code
            == 200
        )
    refit_topics(api.store, n_topics=3)
    topics = api.client.get("/v1/voice/topics", headers=_auth(api.read)).json()["topics"]
    assert any("toner" in t["label"] for t in topics)
    raised = scan_alerts(api.store, NOW)
    scan_alerts(api.store, NOW)  # scanning again keeps the history without repeating the alert
    alerts = api.client.get("/v1/voice/alerts", headers=_auth(api.read)).json()["alerts"]
    assert len(alerts) == len(raised) >= 1
    toner = [a for a in alerts if "toner" in a["examples"]["topic"] and a["signal"] == "volume"]
    assert toner and toner[0]["observed"] > 2 * toner[0]["baseline"]
    assert all("toner" in e["text"] for e in toner[0]["examples"]["items"])
