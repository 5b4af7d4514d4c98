"""Preference routes for customers and staff: consents, control levels and the contact policy of one customer.

Reads need the ``read`` scope, changes the ``decide`` scope. Every change is safe to retry: setting the state
already in force changes nothing. Withdrawing a consent stops at once what depended on it, and the answer lists it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from rapport.access.permissions import Permission as P
from rapport.api.access import CustomerAccess, customer_scope
from rapport.api.decide import decision_store
from rapport.customers.service import resolve_customer
from rapport.decide import consent, contact_policy, control
from rapport.store.decisions import SqlDecisionStore

router = APIRouter(prefix="/v1/customers/{customer_id}", tags=["preferences"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A value is not allowed (unknown purpose, level, channel, time zone, cap)."},
    401: {"description": "No valid API key."},
    403: {"description": "The key lacks the scope."},
    404: {"description": "No such customer."},
    422: {"description": "The body does not match the schema."},
}
# One of rapport.decide.consent.PURPOSES, or personalisation:<category> for one category.
Purpose = Annotated[
    str,
    StringConstraints(
        pattern=r"^(personalisation(:\S.{0,63})?|contact:(push|email|sms|app)|automatic_execution|partner_sharing)$"
    ),
]
Level = Literal["i_choose", "show_me_options", "remind_me", "do_it_for_me"]
Channel = Literal["push", "email", "sms", "app"]
CustomerRef = Path(..., min_length=1, max_length=320, description="A customer id or any identifier")
CategoryRef = Path(..., min_length=1, max_length=200, description="A category, or '*' for every category")


class ConsentsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consents: dict[Purpose, bool] = Field(..., min_length=1, description="Purpose → granted (false withdraws)")
    source: str = Field(..., min_length=1, max_length=64, description="Where it was given: app, web, store, call")
    note: str | None = Field(None, max_length=500)


class ControlLevelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Level


class CapBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["*", "push", "email", "sms", "app"]
    days: int = Field(..., ge=1, le=366)
    max: int = Field(..., ge=0, le=1000)


class ContactPolicyBody(BaseModel):
    """Only the fields sent change; null restores the firm's default for that field."""

    model_config = ConfigDict(extra="forbid")

    caps: list[CapBody] | None = Field(None, max_length=20)
    quiet_hours: str | None = Field(None, max_length=11, description="'21:00-08:00' local time, '' for none")
    timezone: str | None = Field(None, min_length=1, max_length=64, description="IANA name, e.g. Europe/Berlin")
    preferred_channels: list[Channel] | None = Field(None, min_length=1, max_length=4)


def _customer(request: Request, customer_id: str) -> tuple[SqlDecisionStore, str]:
    """The decision store and the profile id the path names (404 when no customer matches)."""
    store = decision_store(request)
    return store, resolve_customer(store, customer_id)


@router.get("/consents", responses=_ERRORS, summary="A customer's consents in force and their history")
def get_consents(
    request: Request, customer_id: str = CustomerRef, _key: CustomerAccess = Depends(customer_scope(P.READ_CUSTOMER))
) -> dict[str, Any]:
    store, canonical = _customer(request, customer_id)
    now = datetime.now(UTC)
    return {
        "customer_id": canonical,
        "consents": consent.consents_in_force(store, canonical, now),
        "history": [c.to_dict() for c in consent.consent_history(store, canonical)],
    }


@router.put("/consents", responses=_ERRORS, summary="Grant or withdraw consents")
def put_consents(
    body: ConsentsBody,
    request: Request,
    customer_id: str = CustomerRef,
    _key: CustomerAccess = Depends(customer_scope(P.SET_PREFERENCES)),
) -> dict[str, Any]:
    """Each purpose given is granted or withdrawn; the answer says what changed and what a withdrawal stopped."""
    store, canonical = _customer(request, customer_id)
    now = datetime.now(UTC)
    changes = [
        consent.record_consent(store, canonical, purpose, granted, body.source, now, body.note).to_dict()
        for purpose, granted in body.consents.items()
    ]
    return {"customer_id": canonical, "changes": changes}


@router.get("/control-levels", responses=_ERRORS, summary="A customer's control levels")
def get_control_levels(
    request: Request, customer_id: str = CustomerRef, _key: CustomerAccess = Depends(customer_scope(P.READ_CUSTOMER))
) -> dict[str, Any]:
    """The stored levels (explicit and learned) and the level in force per category, firm defaults included."""
    store, canonical = _customer(request, customer_id)
    stored = control.control_levels(store, canonical)
    categories = sorted({s.category for s in stored} | set(store.settings.default_control_levels))
    in_force = {}
    for category in categories:
        level, source = control.control_level(store, canonical, category)
        in_force[category] = {"level": level, "source": source}
    return {"customer_id": canonical, "in_force": in_force, "stored": [s.to_dict() for s in stored]}


@router.put("/control-levels/{category}", responses=_ERRORS, summary="Choose the control level for a category")
def put_control_level(
    body: ControlLevelBody,
    request: Request,
    customer_id: str = CustomerRef,
    category: str = CategoryRef,
    _key: CustomerAccess = Depends(customer_scope(P.SET_PREFERENCES)),
) -> dict[str, Any]:
    """The customer's explicit choice; do_it_for_me still needs a mandate and the automatic_execution consent."""
    store, canonical = _customer(request, customer_id)
    setting = control.set_control_level(store, canonical, category, body.level, datetime.now(UTC))
    return {"customer_id": canonical, **setting.to_dict()}


@router.delete("/control-levels/{category}", responses=_ERRORS, summary="Forget the explicit choice for a category")
def delete_control_level(
    request: Request,
    customer_id: str = CustomerRef,
    category: str = CategoryRef,
    _key: CustomerAccess = Depends(customer_scope(P.SET_PREFERENCES)),
) -> dict[str, Any]:
    store, canonical = _customer(request, customer_id)
    removed = control.clear_control_level(store, canonical, category)
    level, source = control.control_level(store, canonical, category)
    return {"customer_id": canonical, "category": category, "removed": removed, "level": level, "source": source}


@router.get("/contact-policy", responses=_ERRORS, summary="The contact policy that applies to a customer")
def get_contact_policy(
    request: Request, customer_id: str = CustomerRef, _key: CustomerAccess = Depends(customer_scope(P.READ_CUSTOMER))
) -> dict[str, Any]:
    store, canonical = _customer(request, customer_id)
    return {"customer_id": canonical, **contact_policy.policy_of(store, canonical).to_dict()}


@router.put("/contact-policy", responses=_ERRORS, summary="Change a customer's caps, quiet hours, time zone, channels")
def put_contact_policy(
    body: ContactPolicyBody,
    request: Request,
    customer_id: str = CustomerRef,
    _key: CustomerAccess = Depends(customer_scope(P.SET_PREFERENCES)),
) -> dict[str, Any]:
    store, canonical = _customer(request, customer_id)
    changes = body.model_dump(include=body.model_fields_set)
    policy = contact_policy.set_contact_policy(store, canonical, changes, datetime.now(UTC))
    return {"customer_id": canonical, **policy.to_dict()}
