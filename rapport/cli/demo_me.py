"""The customer-side section of `rapport demo`'s report: the reminder to ask about, and the open conversation."""

from __future__ import annotations

from typing import Any

from rapport.cli.output import console


def print_customer_side(section: dict[str, Any]) -> None:
    """Print what rapport.demo.me.customer_side returned."""
    console.print("\n[bold]The customer's side[/] (their pages under /me, the staff inbox at /staff/inbox)")
    if "skipped" in section:
        console.print(f"  skipped: {section['skipped']}")
        return
    reminder = section["reminder"]
    console.print(f"  customer {section['customer_id']}: a mandate for toner, and")
    if reminder:
        console.print(f"  - a recent decision to ask \u201cwhy did I get this?\u201d about: {reminder['headline']}")
    waiting = ", awaiting a staff reply" if section["awaiting_reply"] else ""
    console.print(f"  - conversation {section['conversation_id']}: {section['messages']} messages{waiting}")
