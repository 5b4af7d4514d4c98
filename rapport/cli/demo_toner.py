"""The toner auto-order section of `rapport demo`'s report: the decision, the scheduler's steps, the audit trail."""

from __future__ import annotations

from typing import Any

from rapport.cli.output import console


def print_toner_auto_order(section: dict[str, Any]) -> None:
    """Print what rapport.demo.toner.toner_auto_order returned."""
    console.print("\n[bold]Toner auto-order[/] (consent + mandate + a low printer reading → decide → scheduler)")
    if "skipped" in section:
        console.print(f"  skipped: {section['skipped']}")
        return
    decision, order = section["decision"], section["order"]
    console.print(
        f"  customer {section['customer_id']}, mandate {section['mandate_id']}; decision {decision['decision_id']} "
        f"({decision['trigger']}-driven): {decision['experience']}"
    )
    for reason in decision["reasons"]:
        console.print(f"    - {reason}")
    console.print(
        f"  automatic order {order['id']}: {order['quantity']} x {order['sku']}, {order['amount']:.2f}, "
        f"[bold]{order['status']}[/] at {order['executed_at'] or '-'}"
    )
    console.print("  [bold]audit trail the customer can read[/]:")
    for entry in section["audit"]:
        details = ", ".join(f"{k}={v}" for k, v in entry["details"].items() if k in _SHOWN)
        when = entry["at"][:16].replace("T", " ")
        console.print(f"    {when}  {entry['actor']}: {entry['subject_kind']} {entry['action']}  {details}")


_SHOWN = ("scope", "per_order_cap", "monthly_cap", "notice_hours", "cancel_window_hours", "amount", "channel",
          "send_at", "execute_after", "policy", "order_id", "total", "by")  # fmt: skip
