"""Identity review routes: the queue of merges that probabilistic linkage proposes, and a person's decision."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from rapport.access.permissions import Permission as P
from rapport.access.principals import Principal
from rapport.api.access import require
from rapport.customers.linkage.proposals import decide_review, list_reviews
from rapport.store.linkage import linkage_store

router = APIRouter(prefix="/v1/identity", tags=["identity"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid input."},
    401: {"description": "No valid API key."},
    403: {"description": "The key lacks the scope."},
}


class Decision(BaseModel):
    """A reviewer's decision on a proposed merge."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["confirm", "reject"] = Field(
        description="confirm merges the two profiles; reject keeps them apart for good"
    )
    note: str | None = Field(None, max_length=2000, description="Why, for the audit trail")


@router.get("/reviews", responses=_ERRORS)
def reviews(
    request: Request,
    status: Literal["pending", "confirmed", "rejected"] = Query("pending", description="Which reviews to list"),
    limit: int = Query(100, ge=1, le=1000),
    _key: Principal = Depends(require(P.READ_REVIEWS)),
) -> dict[str, Any]:
    """Proposed merges (most likely first) with both profiles' compared values and how each field agreed."""
    found = list_reviews(linkage_store(request.app.state.store), status, limit)
    return {"status": status, "reviews": [review.as_dict() for review in found]}


@router.post(
    "/reviews/{review_id}",
    responses={**_ERRORS, 404: {"description": "No such review."}, 409: {"description": "Already decided otherwise."}},
)
def decide(
    request: Request,
    body: Decision,
    review_id: int = Path(..., ge=1, le=2**63 - 1),
    _key: Principal = Depends(require(P.ADMIN)),
) -> dict[str, Any]:
    """Confirm (merge, recorded with reason linkage and undoable) or reject (never proposed again); idempotent."""
    review = decide_review(linkage_store(request.app.state.store), review_id, body.decision, body.note)
    return review.as_dict()
