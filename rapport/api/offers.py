"""Offer routes: the curated offering for a customer, scored on request from the latest trained model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from rapport.access.permissions import Permission as P
from rapport.api.access import CustomerAccess, customer_scope
from rapport.api.decide import decision_store
from rapport.decide.consent import withheld_categories
from rapport.request.constraints import OfferConstraints
from rapport.request.offers import MAX_OFFERS, Offer, offer_list

router = APIRouter(prefix="/v1", tags=["offers"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "k out of range, an unknown need or a bad price range."},
    401: {"description": "No valid API key."},
    403: {"description": "The key has neither the read nor the decide scope."},
    404: {"description": "No such customer."},
    409: {"description": "No offer model is trained yet (run `rapport train`)."},
}


_NOT_PERSONAL = (
    "no personalisation consent: the options anyone would get, not ranked on this customer's history (the "
    "customer can grant it in the preference centre)"
)


class OffersBody(BaseModel):
    """The curated list: each option with the reason it was chosen and the evidence behind the reason."""

    customer_id: str
    need: str | None
    model_version: str
    offers: list[Offer]
    note: str | None = None


@router.get("/customers/{customer_id}/offers", responses=_ERRORS)
async def offers(
    request: Request,
    customer_id: str,
    need: str | None = Query(None, description="A category or a sku (options in its category); empty: all"),
    k: int = Query(5, description=f"How many options, 1 to {MAX_OFFERS}"),
    min_price: float | None = Query(None, description="Lowest price an option may have"),
    max_price: float | None = Query(None, description="Highest price an option may have"),
    _key: CustomerAccess = Depends(customer_scope(P.READ_OFFERS)),
) -> OffersBody:
    """A few options that fit the customer, best first, each with the reason it was chosen.

    It runs on the event loop, as the decision does: a handful of indexed reads and a few milliseconds of scoring
    cost less than the hand-off to a worker thread.

    Only items in stock or deliverable through a connection architecture, never one the customer returned or
    complained about, within the price range. Personal only with the customer's personalisation consent (never in
    a category they withdrew: ``personalisation:<category>``); without it, the options anyone would get.
    """
    store = decision_store(request)
    canonical = _key.customer_id  # the profile customer_scope resolved
    withheld = withheld_categories(store, canonical, datetime.now(UTC))
    personal = withheld is not None  # consent first: without it, the customer's history is not even read
    rules = OfferConstraints(min_price=min_price, max_price=max_price, withheld_categories=withheld or frozenset())
    found = offer_list(store, canonical, k, need, rules, profile=True, personal=personal)
    note = None if personal else _NOT_PERSONAL
    return OffersBody(customer_id=canonical, need=need, model_version=found.model_version, offers=found.offers,
                      note=note)  # fmt: skip
