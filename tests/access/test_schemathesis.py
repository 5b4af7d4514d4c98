"""Schemathesis against the live app (ASGI) for every operation of the OpenAPI schema: 0 server errors, 0 responses
that break the schema (status codes, content types, headers, bodies), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.access.conftest import Site
from tests.access.test_matrix import ARTIFACTS

EXAMPLES = 10  # per operation: the whole run stays within a minute or two on a loaded machine
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_every_operation_with_schemathesis(site: Site) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", site.app)
    headers = {"Authorization": f"Bearer {site.keys['admin']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: list[str] = []
    cases = 0

    def exercise(operation: Any) -> None:
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def run(data: Any) -> None:
            nonlocal cases
            case = data.draw(operation.as_strategy())
            cases += 1
            try:
                case.call_and_validate(headers=headers, checks=CHECKS)
            except Exception as exc:  # one line per failing case; the run goes on to the next
                failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:400]}")

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:600]}")

    for operation in operations:
        exercise(operation)

    ARTIFACTS.mkdir(exist_ok=True)
    summary = {"store": site.store.dialect, "operations": len(operations), "cases": cases, "failures": len(failures)}
    (ARTIFACTS / f"schemathesis_{site.store.dialect}.json").write_text(json.dumps(summary, indent=2))
    assert len(operations) >= 38 and cases >= len(operations)
    assert failures == [], "\n".join(sorted(set(failures))[:40])
