"""rapport.request: the curated offering — a few options that fit a customer, each with a true reason.

The decision engine and the API call :func:`curated_offers`; `rapport train` refits the model it scores with.
"""

from rapport.request.constraints import OfferConstraints
from rapport.request.offers import Offer, curated_offers

__all__ = ["Offer", "OfferConstraints", "curated_offers"]
