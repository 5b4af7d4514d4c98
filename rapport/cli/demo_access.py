"""Printing the demo's access section: the staff account and the customer's one-time sign-in link."""

from __future__ import annotations

from typing import Any

from rapport.cli.output import console


def print_demo_access(access: dict[str, Any]) -> None:
    console.print("\n[bold]Both sides of the relationship[/]")
    console.print(
        f"  staff: {access['staff_email']} ({access['staff_role']}); choose a password once at\n"
        f"  {access['set_password_url']}\n  then sign in at {access['staff_sign_in_url']}"
    )
    if "sign_in_url" in access:
        console.print(
            f"  customer {access['customer_id']} (toner mandate): one-time sign-in link, valid 15 minutes "
            f"(until {access['expires_at'][11:16]} UTC):"
        )
        console.print(access["sign_in_url"], soft_wrap=True)
