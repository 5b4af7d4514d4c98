"""The fulfilment section of `rapport demo`'s report: one order through each of retailer, producer, matchmaker."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from rapport.cli.output import console

ARCHITECTURES = ("connected_retailer", "connected_producer", "matchmaker")


def print_fulfilment(section: dict[str, Any]) -> None:
    """Print what rapport.demo.fulfilment.demo_fulfilment returned."""
    console.print(f"\n[bold]Fulfilment[/] through the connection architectures (customer {section['customer_id']})")
    table = Table("architecture", "sku", "status", "served by", "total", "why", title="One order each")
    for name in ARCHITECTURES:
        row = section[name]
        table.add_row(
            name, row["sku"], row["status"], ", ".join(row["served_by"]), f"{row['total']:.2f}", row["why"][0]
        )
    console.print(table)
