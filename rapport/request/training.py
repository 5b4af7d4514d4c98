"""`rapport train`: refit the offer model from the store's orders and catalogue, and save it as a new version."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import pandas as pd

from rapport.request.model import OfferModel, fit_offer_model


class TrainingSource(Protocol):
    """What training reads and writes (rapport.store.offers.SqlOfferSource)."""

    def all_order_lines(self) -> pd.DataFrame: ...

    def catalogue(self) -> pd.DataFrame: ...

    def save_model(self, model: OfferModel) -> None: ...


def train_offer_model(
    source: TrainingSource, k: int = 10, now: datetime | None = None, lines: pd.DataFrame | None = None
) -> OfferModel:
    """Fit on every order line in the store (or ``lines`` already read from it) and save the model under a new
    version; ``model.summary`` says what it learnt from and how it was tuned."""
    model = fit_offer_model(source.all_order_lines() if lines is None else lines, source.catalogue(), k, now)
    source.save_model(model)
    return model
