"""What one decision reads about one customer, read in one go: needs, control levels, consents, contact policy.

The store fills it on one connection (rapport.store.decisions), so a decision costs a handful of indexed reads
rather than a connection per question. Nothing here outlives the decision: every decision reads afresh, so a
consent withdrawn a moment ago is already in force.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rapport.decide import consent, control
from rapport.decide.consent import Consent
from rapport.decide.contact_policy import Contact, ContactPolicy
from rapport.decide.control import ControlSetting
from rapport.recognize.need import Need


@dataclass(slots=True)
class CustomerState:
    """One customer's needs and preferences as of one decision; ``policy`` and ``contacts`` only when outbound."""

    customer_id: str
    settings: Any
    needs: list[Need]
    control_rows: list[ControlSetting]
    consent_rows: list[Consent]
    joined_at: datetime | None = None  # when the profile's records were last joined (consents: stricter wins)
    policy: ContactPolicy | None = None
    contacts: list[Contact] = field(default_factory=list)
    # Read with the state when the store can (None: the decision asks the store when it needs them):
    prompts: list[Any] | None = None  # the profile's open preference prompts (rapport.repeat.preferences.Prompt)
    bandit: Any | None = None  # outbound: the nudge bandit's counts, the population's and the customer's
    risk: Any | None = None  # outbound: the contact risk's counts (rapport.repeat.contact_risk.ContactRisk)
    # outbound: the latest outcomes (rapport.repeat.preferences.Turn) of each category or item the needs name
    turns: dict[str, list[Any]] | None = None
    _consents: dict[str, bool] | None = None

    def control_level(self, category: str) -> tuple[str, str]:
        return control.resolve_level(self.control_rows, self.settings, category)

    def consents(self, purpose: str, now: datetime) -> bool:
        return consent.purpose_in_force(self._in_force(now), purpose)

    def withheld_categories(self, now: datetime) -> frozenset[str]:
        """The categories the customer withdrew from personalisation (asked once personalisation is consented)."""
        return consent.withheld_in(self._in_force(now)) or frozenset()

    def _in_force(self, now: datetime) -> dict[str, bool]:
        if self._consents is None:
            self._consents = consent.in_force(self.consent_rows, self.settings, now, self.joined_at)
        return self._consents
