"""The flywheel plot: the learned policy's lead in needs met on time over each fixed policy, month by month."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_advantage(result: dict[str, Any], path: str | Path) -> Path:
    """Write a PNG: per month, learned minus each fixed policy (needs met on time, percentage points), and the
    unwanted contacts per customer-year of every policy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    policies = result["policies"]
    target = Path(path).expanduser()
    fig, (lead, contacts) = plt.subplots(1, 2, figsize=(11, 4.2))
    months = range(1, len(next(iter(policies.values()))["monthly"]["needs_met_on_time_share"]) + 1)
    if "learned" in policies:
        ours = policies["learned"]["monthly"]["needs_met_on_time_share"]
        for name, figures in policies.items():
            if name == "learned":
                continue
            theirs = figures["monthly"]["needs_met_on_time_share"]
            lead.plot(months, [(a - b) * 100 for a, b in zip(ours, theirs, strict=True)], marker="o", label=name)
        lead.axhline(0, color="grey", linewidth=0.8)
    lead.set_title("Learned policy's lead in needs met on time")
    lead.set_xlabel("month of the simulated year")
    lead.set_ylabel("percentage points over the fixed policy")
    lead.legend(title="over", fontsize=8)
    for name, figures in policies.items():
        contacts.plot(months, figures["monthly"]["unwanted_contacts_per_customer_year"], marker=".", label=name)
    contacts.set_title("Unwanted contacts per customer-year")
    contacts.set_xlabel("month of the simulated year")
    contacts.legend(fontsize=8)
    config = result["config"]
    fig.suptitle(
        f"{config['customers']:,} customers, {config['days']} days, automation share {config['automation_share']}, "
        f"contact tolerance {config['contact_tolerance']}, seed {config['seed']}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target
