"""The staff dashboard: home, the strategy matrix with its drill-down, the customer 360, operations.

Thin pages over the same services as the API and the CLI (rapport.strategy.service, rapport.store.customer360,
rapport.store.operations). Every page works without JavaScript; charts are SVG drawn here. Who sees what follows
the permission table (rapport.access.permissions): every staff member reads a customer; firm-wide figures and
exports are for analysts and admins (agents see no export); undoing a merge, deciding a linkage review and retrying
the dead letter are admin writes (analysts see no single-customer write). Every view of a customer is written to
that customer's access log. Forms post and redirect back with a notice, so a refused or repeated post loses nothing.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from rapport.access.permissions import STAFF_PERMISSIONS, Permission, allows
from rapport.access.principals import STAFF_ROLES, StaffMember, StaffRole
from rapport.api.access import staff_page
from rapport.api.strategy import live_matrix, strategy_setup
from rapport.errors import InvalidInput, RapportError
from rapport.store.access import access_log, record_access
from rapport.store.customer360 import (
    customer_360,
    decide_review_for,
    hurting_customers,
    search_customers,
    undo_merge_for,
)
from rapport.store.operations import dead_letter_count, operations, retry_dead_action
from rapport.strategy.matrix import customers_in_cell
from rapport.strategy.model import ARCHITECTURES, EXPERIENCES
from rapport.web.charts import bars, stacked_bars
from rapport.web.csrf import csrf_protect
from rapport.web.pages import render

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 28


def roles_for(permission: Permission) -> tuple[StaffRole, ...]:
    """The staff roles the permission table gives ``permission``."""
    return tuple(role for role in STAFF_ROLES if permission in STAFF_PERMISSIONS[role])


READERS = roles_for(Permission.READ_CUSTOMER)
ANALYSTS = roles_for(Permission.READ_AGGREGATES)
EXPORTERS = roles_for(Permission.EXPORT)
ADMINS = roles_for(Permission.ADMIN)
FIXERS = roles_for(Permission.ACT_FOR_CUSTOMER)  # single-customer writes: agents and admins, never analysts


def _roles(member: StaffMember) -> dict[str, bool]:
    return {"can_aggregate": allows(member, Permission.READ_AGGREGATES), "can_export": allows(member, Permission.EXPORT),
            "can_write": allows(member, Permission.ACT_FOR_CUSTOMER), "is_admin": allows(member, Permission.ADMIN)}  # fmt: skip


def _back(path: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?notice={quote(notice)}", status_code=303)


def _period(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None, dict[str, str]]:
    """The period from the form (dates, UTC); the last 28 days when none is given."""

    def parse(text: str | None) -> datetime | None:
        if not text:
            return None
        try:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            raise InvalidInput(f"{text!r} is not a date; use YYYY-MM-DD.") from None

    begin, end = parse(since), parse(until)
    if since is None and until is None:
        begin = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=DEFAULT_DAYS)
    return begin, end, {"since": f"{begin:%Y-%m-%d}" if begin else "", "until": f"{end:%Y-%m-%d}" if end else ""}


@router.get("/")
def home(request: Request, member: StaffMember = Depends(staff_page(*READERS))) -> Response:
    """The staff home: a customer search for everyone, the period's headline figures for those who read them."""
    headline = None
    if allows(member, Permission.READ_AGGREGATES):
        begin, _, _ = _period(None, None)  # the matrix page's default period
        cells = [c.to_dict() for c in live_matrix(request, begin, None, None).cells.values()]
        headline = {
            "decisions": sum(c["decisions"] for c in cells),
            "accepted": sum(c["accepted"] for c in cells),
            "acted": sum(c["acted"] for c in cells),
            "revenue": round(sum(c["revenue"] for c in cells), 2),
            "held": sum(c["state"] in ("held", "contested") for c in cells),
            "threats": sum(c["state"] == "threat" for c in cells),
            "dead_letter": dead_letter_count(request.app.state.store),
        }
    hurting = hurting_customers(request.app.state.store, datetime.now(UTC))
    return render(request, "staff_home.html", member=member, headline=headline, hurting=hurting, **_roles(member))


@router.get("/staff/matrix")
def matrix_page(
    request: Request,
    since: str | None = Query(None, max_length=40),
    until: str | None = Query(None, max_length=40),
    segment: str | None = Query(None, max_length=100),
    notice: str | None = Query(None, max_length=300),
    member: StaffMember = Depends(staff_page(*READERS)),
) -> Response:
    """The 4 x 5 matrix: every cell with its live figures, openings and rival threats; each cell drills down."""
    begin, end, form = _period(since, until)
    found = live_matrix(request, begin, end, segment or None)
    loaded, problems = strategy_setup(request).load_if_valid()
    segments = list(loaded.strategy.segments) if loaded else []
    return render(request, "staff_matrix.html", member=member, matrix=found.to_dict(), form=form,
                  segment=segment or "", segments=segments, experiences=EXPERIENCES, architectures=ARCHITECTURES,
                  cells={(c.experience, c.architecture): c.to_dict() for c in found.cells.values()},
                  problems=problems, notice=notice, **_roles(member))  # fmt: skip


@router.get("/staff/matrix/{experience}/{architecture}")
def cell_page(
    request: Request,
    experience: str,
    architecture: str,
    since: str | None = Query(None, max_length=40),
    until: str | None = Query(None, max_length=40),
    segment: str | None = Query(None, max_length=100),
    member: StaffMember = Depends(staff_page(*READERS)),
) -> Response:
    """One cell: its figures, its customers and the decisions, orders and automatic orders behind them."""
    if experience not in EXPERIENCES or architecture not in ARCHITECTURES:
        return _back("/staff/matrix", f"There is no cell {experience} x {architecture}; pick one in the matrix.")
    begin, end, form = _period(since, until)
    found = live_matrix(request, begin, end, segment or None)
    rows = sorted(found.members[(experience, architecture)], key=lambda r: str(_when(r)), reverse=True)[:200]
    return render(request, "staff_cell.html", member=member, cell=found.cell(experience, architecture).to_dict(),
                  customers=customers_in_cell(found, experience, architecture)[:200], rows=rows, form=form,
                  segment=segment or "", **_roles(member))  # fmt: skip


def _when(row: dict[str, Any]) -> Any:
    return row.get("created_at") or row.get("placed_at") or row.get("executed_at")


@router.get("/staff/matrix.csv")
def matrix_export(
    request: Request,
    since: str | None = Query(None, max_length=40),
    until: str | None = Query(None, max_length=40),
    segment: str | None = Query(None, max_length=100),
    member: StaffMember = Depends(staff_page(*EXPORTERS)),
) -> Response:
    """The matrix as CSV (analysts and admins): one row per cell."""
    begin, end, _ = _period(since, until)
    cells = [c.to_dict() for c in live_matrix(request, begin, end, segment or None).cells.values()]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[k for k in cells[0] if k != "rivals"] + ["rivals"])
    writer.writeheader()
    for cell in cells:
        writer.writerow({**cell, "rivals": " ".join(cell["rivals"])})
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="matrix.csv"'})  # fmt: skip


@router.get("/staff/customers")
def customer_search(
    request: Request, q: str = Query("", max_length=320), member: StaffMember = Depends(staff_page(*READERS))
) -> Response:
    """Search by e-mail, phone, loyalty card, device, user id, customer id or name; one match opens the 360."""
    found: list[dict[str, Any]] = []
    error = None
    if q.strip():
        try:
            found = search_customers(request.app.state.store, q)
        except RapportError as exc:
            error = str(exc)
        if len(found) == 1:
            return RedirectResponse(f"/staff/customers/{found[0]['customer_id']}", status_code=303)
    return render(request, "staff_customers.html", member=member, q=q, found=found, error=error, **_roles(member))


@router.get("/staff/customers/{customer_id}")
def customer_page(
    request: Request, customer_id: str, notice: str | None = Query(None, max_length=300),
    member: StaffMember = Depends(staff_page(*READERS)),
) -> Response:  # fmt: skip
    """The customer 360 across divisions; the view is written to the customer's access log."""
    store = request.app.state.store
    now = datetime.now(UTC)
    view = customer_360(store, customer_id, now)
    record_access(store.engine, view["customer_id"], member, "staff page: customer 360", now)
    looked = access_log(store.engine, view["customer_id"], 20)
    return render(request, "staff_customer.html", member=member, c=view, notice=notice, access=looked,
                  **_roles(member))  # fmt: skip


@router.get("/staff/customers/{customer_id}/merges/{merge_id}/undo")
def undo_confirm(
    request: Request, customer_id: str, merge_id: int, member: StaffMember = Depends(staff_page(*FIXERS))
) -> Response:
    """The confirmation step before a merge is undone: what will be split apart, and a reason to give."""
    view = customer_360(request.app.state.store, customer_id, datetime.now(UTC))
    merge = next((m for m in view["merges"] if m["id"] == merge_id), None)
    if merge is None:
        return _back(
            f"/staff/customers/{view['customer_id']}", f"Merge {merge_id} did not join this customer's records."
        )
    return render(request, "staff_undo.html", member=member, c=view, merge=merge, **_roles(member))


@router.post("/staff/customers/{customer_id}/merges/{merge_id}/undo")
def undo(
    request: Request, customer_id: str, merge_id: int, member: StaffMember = Depends(staff_page(*FIXERS)),
    _csrf: None = Depends(csrf_protect), reason: str = Form("", max_length=2000),
) -> Response:  # fmt: skip
    """Undo the merge (idempotent), with the reason and who did it in the audit log."""
    try:
        undone = undo_merge_for(request.app.state.store, customer_id, merge_id, reason,
                                f"staff:{member.email}", datetime.now(UTC))  # fmt: skip
    except RapportError as exc:
        return _back(f"/staff/customers/{quote(customer_id)}", f"Nothing was undone: {exc}")
    return _back(f"/staff/customers/{quote(customer_id)}",
                 f"Merge {merge_id} undone: {undone['merged_id']} is a customer of its own again.")  # fmt: skip


@router.post("/staff/reviews/{review_id}")
def review(
    request: Request, review_id: int, member: StaffMember = Depends(staff_page(*FIXERS)),
    _csrf: None = Depends(csrf_protect), decision: str = Form("", max_length=10),
    customer_id: str = Form("", max_length=64), note: str | None = Form(None, max_length=2000),
) -> Response:  # fmt: skip
    """Confirm (merge) or reject a linkage review from the 360 page."""
    back = f"/staff/customers/{quote(customer_id)}" if customer_id else "/staff/customers"
    try:
        decided = decide_review_for(request.app.state.store, review_id, decision, note, f"staff:{member.email}")
    except RapportError as exc:
        return _back(back, f"Review {review_id} not decided: {exc}")
    return _back(back, f"Review {review_id} {decided['status']}.")


@router.get("/staff/operations")
def operations_page(
    request: Request, notice: str | None = Query(None, max_length=300),
    member: StaffMember = Depends(staff_page(*ANALYSTS)),
) -> Response:  # fmt: skip
    """Decisions and outcomes over time, contact pressure, automatic orders, webhooks, ingestion, models."""
    ops = operations(request.app.state.store, datetime.now(UTC), DEFAULT_DAYS)
    days = ops["days"]
    charts = {
        "decisions": stacked_bars("Decisions per day, by status", days, ops["decisions"]),
        "outcomes": stacked_bars("Outcomes per day", days, ops["outcomes"]),
        "pressure": stacked_bars("Contacts deferred or dropped by the contact policy", days, ops["contact_pressure"]),
        "automatic": bars("Automatic orders by status", ops["automatic_orders"]),
        "webhooks": bars("Outbox actions by status", ops["webhooks"]["by_status"]),
        "ingestion": stacked_bars("Events received per day", days, {"events": ops["ingestion"]["events"]}),
        "rejections": stacked_bars("Events rejected per day, by channel", days,
                                   ops["ingestion"]["rejected"] or {"rejected": [0] * len(days)}),
        "channels": bars("Events received by channel", ops["ingestion"]["by_channel"]),
    }  # fmt: skip
    return render(request, "staff_operations.html", member=member, ops=ops, charts=charts, notice=notice,
                  **_roles(member))  # fmt: skip


@router.post("/staff/operations/dead-letter/{action_id}/retry")
def retry(
    request: Request, action_id: str, member: StaffMember = Depends(staff_page(*ADMINS)),
    _csrf: None = Depends(csrf_protect),
) -> Response:  # fmt: skip
    """Put a dead-lettered action back in the queue (admins)."""
    try:
        done = retry_dead_action(request.app.state.store, action_id, datetime.now(UTC), f"staff:{member.email}")
    except RapportError as exc:
        return _back("/staff/operations", f"Not retried: {exc}")
    return _back("/staff/operations", f"Action {action_id} {'queued again' if done['requeued'] else 'was queued'}.")
