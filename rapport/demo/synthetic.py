"""A fast, seeded stream of Segment messages for ingestion benchmarks: identify and track calls from web and app,
with e-mails, phones, anonymous ids and device ids, a set share of them from returning customers.

Built for speed (well over 300,000 messages a second on one core) so that generating the stream never dominates a
benchmark of what consumes it; the demo firm (rapport.demo.firm) is the realistic data set.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

from rapport.demo.catalogue import build_catalogue
from rapport.errors import InvalidInput

_FIRST = ("anna", "ben", "clara", "david", "emma", "felix", "greta", "hans", "ida", "jonas", "lena", "max", "nina",
          "otto", "paula", "tim", "ute", "vera", "willi", "zoe")  # fmt: skip
_LAST = ("mueller", "schmidt", "weber", "fischer", "becker", "wagner", "koch", "richter", "klein", "wolf", "braun",
         "krause", "lange", "frank", "berg", "roth", "vogel", "jung", "hahn", "kaiser")  # fmt: skip
_DOMAINS = ("example.com", "example.org", "example.net", "mail.example")
_EVENTS = ("Product Viewed", "Product Viewed", "Product Viewed", "Product Added", "Product Added", "Order Completed")
_BASE_SECONDS = 1_735_689_600  # 2025-01-01T00:00:00Z: a fixed start, so the stream depends on the seed only
_STEP_MS = 37  # between consecutive messages
_PHONE_SPACE = 900_000_000  # distinct mobile numbers +4915[1-9]dddddddd


def synthetic_events(n: int, repeat_share: float = 0.2, seed: int = 1) -> Iterator[dict[str, Any]]:
    """Yield ``n`` valid Segment identify/track messages, deterministic for ``seed``, with unique messageIds.

    "20% repeat customers" means: exactly ``floor(n * repeat_share)`` of the messages (spread evenly through the
    stream) come from a customer who already appeared in an earlier message, chosen uniformly among all customers
    seen so far, and carry at least one identifier of theirs seen before (user id, anonymous id, e-mail or phone;
    sometimes with a fresh anonymous id of a new session, a mixed-case e-mail or a phone in national format, which
    ingestion must normalise and attach). Every other message comes from a new customer whose identifiers all
    appear for the first time, so the stream holds ``n - floor(n * repeat_share)`` distinct customers. Timestamps
    rise by 37 ms per message from 2025-01-01T00:00:00Z. User ids, anonymous ids, device ids and e-mails carry
    the seed, so streams of different seeds do not share them.
    """
    if n < 0:
        raise InvalidInput(f"n={n} must be zero or more messages.")
    if not 0.0 <= repeat_share < 1.0:
        raise InvalidInput(f"repeat_share={repeat_share} must be in [0, 1): the first message cannot be a repeat.")
    return _messages(n, repeat_share, seed)


def _products() -> tuple[tuple[str, str, str, float], ...]:
    return tuple((i.sku, i.name, i.category, i.price) for i in build_catalogue().items if i.is_consumable)


def _messages(n: int, share: float, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    rand, randrange = rng.random, rng.randrange
    products = _products()
    n_products = len(products)
    tag = f"s{seed}"
    phone_offset = (seed * 7_919_993) % _PHONE_SPACE
    customers = repeats = 0
    second, stamp = -1, ""
    for i in range(n):
        ms = _BASE_SECONDS * 1000 + i * _STEP_MS
        if ms // 1000 != second:
            second = ms // 1000
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        now = int((i + 1) * share)
        if now > repeats:
            repeats = now
            k, returning = randrange(customers), True
        else:
            k, returning = customers, False
            customers += 1
        h = (k * 2654435761 + seed) & 0xFFFFFFFF
        has_user, has_phone, on_app = h % 10 < 6, (h >> 8) % 10 < 4, (h >> 16) % 10 < 4
        email = f"{_FIRST[h % 20]}.{_LAST[(h >> 5) % 20]}.{tag}.{k}@{_DOMAINS[(h >> 10) & 3]}"
        phone = f"+4915{(k + phone_offset) % _PHONE_SPACE + 100_000_000}"
        roll = rand()
        message: dict[str, Any] = {"messageId": f"syn-{tag}-{i}", "timestamp": f"{stamp}.{ms % 1000:03d}Z"}
        anonymous_id = f"{tag}-a{k}"
        if returning:
            if has_user and roll < 0.1:  # a new session: a fresh anonymous id beside the known user id
                anonymous_id = f"{tag}-a{k}-{i}"
            if roll < 0.2:  # as typed on another device: upper case, or capitalised with spaces around
                email = email.upper() if roll < 0.1 else f" {email.capitalize()} "
            elif roll < 0.3:  # national format
                phone = f"0{phone[3:6]} {phone[6:]}"
        context_traits: dict[str, Any] | None = None
        if has_user and roll < 0.4:
            traits: dict[str, Any] = {"email": email, "first_name": _FIRST[h % 20].capitalize()}
            if has_phone:
                traits["phone"] = phone
            message["type"] = "identify"
            message["userId"] = f"{tag}-u{k}"
            message["anonymousId"] = anonymous_id
            message["traits"] = traits
        else:
            message["type"] = "track"
            if has_user:
                message["userId"] = f"{tag}-u{k}"
            message["anonymousId"] = anonymous_id
            if not has_user and (not returning or roll < 0.3):
                context_traits = {"email": email, "phone": phone} if has_phone else {"email": email}
            sku, name, category, price = products[int(rand() * n_products)]
            event = _EVENTS[int(roll * 6)]
            message["event"] = event
            if event == "Order Completed":
                quantity = 1 + (h >> 20) % 3
                line = {"sku": sku, "name": name, "category": category, "price": price, "quantity": quantity}
                total = round(price * quantity, 2)
                props = {"order_id": f"o-{tag}-{i}", "total": total, "currency": "EUR", "products": [line]}
                message["properties"] = props
            else:
                message["properties"] = {"product_id": sku, "sku": sku, "name": name, "price": price}
        if on_app:
            library = "analytics-ios" if h & 1 else "analytics-android"
            context = {"channel": "app", "library": {"name": library}, "device": {"id": f"{tag}-d{k}"}}
        else:
            context = {"channel": "web", "library": {"name": "analytics.js"}}
        if context_traits is not None:
            context["traits"] = context_traits
        message["context"] = context
        yield message
