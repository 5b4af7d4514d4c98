"""The customer's landing page at /me (the preference centre's pages build on it)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from rapport.access.principals import CustomerSession
from rapport.api.access import customer_page
from rapport.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/me", response_class=HTMLResponse)
def me_page(request: Request, session: CustomerSession = Depends(customer_page())) -> HTMLResponse:
    return render(request, "me_landing.html", session=session)
