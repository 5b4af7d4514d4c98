"""The customer's side of the site: the /me pages and the staff inbox, as one router for ``create_app``."""

from __future__ import annotations

from fastapi import APIRouter

from rapport.web import me_pages, me_rights, staff_inbox

router = APIRouter(include_in_schema=False)
router.include_router(me_pages.router)
router.include_router(me_rights.router)
router.include_router(staff_inbox.router)
