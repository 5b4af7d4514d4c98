"""The authorisation matrix: every route of the app (read from ``app.routes``, so a new route cannot escape), by
every kind of principal, by another customer's ids.

Each route must name what it needs (``require``, ``customer_scope``, ``staff_page``, ``customer_page``) or be
marked public. A customer session reaching another customer gets the 404 an unknown id gets, word for word; staff
roles and key scopes get exactly what the permission table says.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from rapport.access.permissions import CUSTOMER_PERMISSIONS, STAFF_PERMISSIONS, Permission, allows
from rapport.access.principals import STAFF_ROLES, ServerKey, StaffMember
from rapport.api.app import create_app
from rapport.store.keys import SCOPES
from rapport.store.store import Store
from tests.access.conftest import Site, csrf_of, same_but_id

# FastAPI's own documentation routes: the schema and its viewers, open by design.
DOCUMENTATION = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@dataclass(frozen=True)
class Guard:
    kind: str  # permission | page_staff | page_customer | public
    permission: Permission | None = None
    scoped: bool = False
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    guard: Guard | None


def _calls(route: APIRoute) -> Iterator[Any]:
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        yield dependant.call
        pending.extend(dependant.dependencies)


def guard_of(route: APIRoute) -> Guard | None:
    if getattr(route.endpoint, "public", False):
        return Guard("public")
    for call in _calls(route):
        if getattr(call, "permission", None) is not None:
            return Guard("permission", call.permission, call.scoped)
        if getattr(call, "roles", None):
            return Guard("page_staff", roles=tuple(call.roles))
        if getattr(call, "customer_page", False):
            return Guard("page_customer")
    return None


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every method and path the app answers, with the guard it names (None: it names none)."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            assert context.path == "/static", f"a mount {context.path} escapes the matrix; serve it through routes"
            continue
        if context.path in DOCUMENTATION:
            continue
        assert isinstance(route, APIRoute), f"{context.path} is a bare Starlette route; make it an APIRoute"
        for method in sorted((context.methods or set()) - {"HEAD"}):
            found.append(Endpoint(method, context.path, guard_of(route)))
    return found


def test_every_route_names_its_authorisation(site: Site) -> None:
    unguarded = [f"{e.method} {e.path}" for e in endpoints(site.app) if e.guard is None]
    assert unguarded == [], f"routes without authorisation (use require/customer_scope/staff_page/public): {unguarded}"
    scoped_without = [
        f"{e.method} {e.path}"
        for e in endpoints(site.app)
        if e.guard and e.guard.kind == "permission" and "{customer_id}" in e.path and not e.guard.scoped
    ]
    assert scoped_without == [], f"routes about one customer must use customer_scope: {scoped_without}"


def test_the_matrix_fails_for_a_route_without_authorisation(store: Store) -> None:
    app = create_app(store)

    @app.get("/v1/customers/{customer_id}/secret")
    def leak(customer_id: str) -> dict[str, str]:
        return {"customer_id": customer_id}

    assert [f"{e.method} {e.path}" for e in endpoints(app) if e.guard is None] == [
        "GET /v1/customers/{customer_id}/secret"
    ]


def _path(endpoint: Endpoint, customer_id: str) -> str:
    path = endpoint.path.replace("{customer_id}", customer_id)
    while "{" in path:  # other ids: a value of the right shape that names nothing of this customer's
        start, end = path.index("{"), path.index("}")
        path = path[:start] + "1" + path[end + 1 :]
    return path


def _call(client: TestClient, endpoint: Endpoint, customer_id: str) -> Any:
    kwargs: dict[str, Any] = {"follow_redirects": False}
    if endpoint.method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    return client.request(endpoint.method, _path(endpoint, customer_id), **kwargs)


def _unknown_like(customer_id: str) -> str:
    return customer_id[0] + "f" * (len(customer_id) - 1)


def _ordered(found: list[Endpoint]) -> list[Endpoint]:
    # Erasure last: the admin principals erase the other customer on it.
    return sorted(found, key=lambda e: (e.method == "DELETE" and e.path == "/v1/customers/{customer_id}", e.path))


def test_the_authorisation_matrix(site: Site) -> None:
    found = _ordered([e for e in endpoints(site.app) if e.guard and e.guard.kind != "public"])
    customer = site.customer_client(site.alice)
    customer.headers["X-CSRF-Token"] = _csrf(customer)
    anonymous = site.client()
    principals: dict[str, tuple[TestClient, Any]] = {"customer": (customer, None), "anonymous": (anonymous, None)}
    for scope in SCOPES:
        principals[f"key:{scope}"] = (site.key_client(scope), ServerKey("k", (scope,)))
    for role in STAFF_ROLES:
        staff = site.staff_client(role)
        staff.headers["X-CSRF-Token"] = _csrf(staff)
        principals[f"staff:{role}"] = (staff, StaffMember("s", "e", role))
    unknown = _unknown_like(site.bob)
    wrong: list[str] = []
    leaks = checks = 0
    for endpoint in found:
        guard = endpoint.guard
        assert guard is not None
        for name, (client, principal) in principals.items():
            checks += 1
            response = _call(client, endpoint, site.bob)
            where = f"{name} {endpoint.method} {endpoint.path}: {response.status_code} {response.text[:160]}"
            if name == "anonymous":
                expected = 303 if guard.kind.startswith("page") else 401
                if response.status_code != expected:
                    wrong.append(where)
            elif name == "customer":
                if guard.kind == "page_customer":
                    ok = response.status_code < 400
                elif guard.kind == "page_staff":
                    ok = response.status_code == 303
                elif guard.scoped and guard.permission in CUSTOMER_PERMISSIONS:
                    ghost = _call(client, endpoint, unknown)
                    ok = response.status_code == 404 == ghost.status_code
                    ok = ok and same_but_id(response.json(), ghost.json(), site.bob, unknown)
                    leaks += not ok
                    own = _call(client, endpoint, site.alice)
                    ok = ok and own.status_code not in (401, 403) and "No customer matches" not in own.text
                else:
                    ok = response.status_code == 403
                if not ok:
                    wrong.append(where)
            else:
                if guard.kind == "page_staff":
                    allowed = isinstance(principal, StaffMember) and principal.role in guard.roles
                    ok = response.status_code < 400 if allowed else response.status_code in (303, 403)
                elif guard.kind == "page_customer":
                    ok = response.status_code == 303
                else:
                    assert guard.permission is not None
                    allowed = allows(principal, guard.permission)
                    ok = response.status_code not in (401, 403) if allowed else response.status_code == 403
                if not ok:
                    wrong.append(where)
    assert wrong == [], "\n".join(wrong)
    assert leaks == 0
    scoped = [e for e in found if e.guard and e.guard.scoped]
    ARTIFACTS.mkdir(exist_ok=True)
    summary = {
        "store": site.store.dialect,
        "routes": len(endpoints(site.app)),
        "routes_checked": len(found),
        "customer_scoped_routes": len(scoped),
        "principals": sorted(principals),
        "checks": checks,
        "leaks": leaks,
    }
    (ARTIFACTS / f"access_matrix_{site.store.dialect}.json").write_text(json.dumps(summary, indent=2))


def _csrf(client: TestClient) -> str:
    return csrf_of(client.get("/staff/sign-in").text)  # a page sets the CSRF cookie and shows its token


def test_the_permission_table_matches_the_issue() -> None:
    agent, analyst, admin = (STAFF_PERMISSIONS[r] for r in ("agent", "analyst", "admin"))
    assert Permission.EXPORT not in agent and Permission.ADMIN not in agent  # agents: no exports, no admin
    writes = {Permission.ACT_FOR_CUSTOMER, Permission.SET_PREFERENCES, Permission.CONVERSE, Permission.DECIDE}
    assert not writes & analyst and {Permission.EXPORT, Permission.READ_AGGREGATES} <= analyst
    assert admin == frozenset(Permission)
    assert Permission.ADMIN not in CUSTOMER_PERMISSIONS and Permission.READ_AGGREGATES not in CUSTOMER_PERMISSIONS
