"""Complaints: how often orders draw one, on which topic, what customers write, and a faulty batch that makes
complaints about one item burst for a few weeks (an emerging issue for the Voice components to find)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from rapport.demo.catalogue import Item

COMPLAINT_RATE = 0.025  # complaints per order
TOPICS = ("late_delivery", "wrong_item", "defective", "billing")
TOPIC_WEIGHTS = (0.45, 0.2, 0.25, 0.1)
_RESOLUTIONS = {"late_delivery": ("reshipped", "refunded_shipping"), "billing": ("refunded",)}


@dataclass(frozen=True)
class Incident:
    """A faulty batch of one item: orders of it in the window draw complaints ``factor`` times as often."""

    sku: str
    topic: str
    start: float  # days since the window's start
    end: float
    factor: float = 10.0


def draft_complaint(
    rng: random.Random, incident: Incident, t: float, order_id: str, items: list[Item]
) -> tuple[float, dict[str, Any]] | None:
    """Whether an order placed on day ``t`` draws a complaint: (day it is filed, properties without ticket id)."""
    hit = any(item.sku == incident.sku for item in items) and incident.start <= t < incident.end
    if rng.random() >= COMPLAINT_RATE * (incident.factor if hit else 1.0):
        return None
    topic = incident.topic if hit else rng.choices(TOPICS, TOPIC_WEIGHTS)[0]
    item = next(i for i in items if i.sku == incident.sku) if hit else items[0]
    when = t + (rng.uniform(4.0, 10.0) if topic == "late_delivery" else rng.uniform(1.0, 8.0))
    text = complaint_text(rng, topic, item, order_id)
    return when, {"topic": topic, "text": text, "order_id": order_id, "sku": item.sku}


def resolution(rng: random.Random, topic: str) -> str:
    return rng.choice(_RESOLUTIONS.get(topic, ("replaced", "refunded")))


_TEMPLATES: dict[str, tuple[str, ...] | dict[str, tuple[str, ...]]] = {
    "late_delivery": (
        "My order {order} still has not arrived after {days} days. Where is it?",
        "The {item} was promised for yesterday and nothing came. Very disappointing.",
        "Tracking for {order} has said 'in transit' for a week. I need the {item} urgently.",
        "Delivery is late again. Third time this year, I am seriously thinking of ordering elsewhere.",
    ),
    "wrong_item": (
        "I ordered {item} but received something else entirely.",
        "Wrong product in the parcel for order {order}: this does not fit my {device}.",
        "The box contained the wrong {category}. Please send the right one and collect this.",
    ),
    "defective": {
        "toner": (
            "The new {item} leaks toner all over the inside of the printer.",
            "Prints come out streaky with the {item} from order {order}; the old cartridge was fine.",
            "Printer says the {item} is not recognised. Defective chip?",
        ),
        "coffee_pods": (
            "Several {item} were punctured and coffee powder went everywhere.",
            "The {item} from order {order} taste stale and some pods are leaking.",
            "Pods from the latest pack jam the machine, water runs out at the side.",
        ),
        "medication": (
            "The blister pack of {item} was damaged when it arrived.",
            "The {item} seal was broken. I do not feel safe taking these.",
        ),
        "vitamins": (
            "The {item} bottle arrived open and half the tablets were crushed.",
            "The {item} smell strange, I think this batch is spoiled.",
        ),
        "device": (
            "The {item} stopped working after two weeks.",
            "My {item} does not connect to the app any more since it arrived.",
        ),
    },
    "billing": (
        "I was charged twice for order {order}.",
        "The invoice for {order} shows a higher price than the shop did.",
        "My refund for the returned {item} never arrived.",
    ),
}
_DEVICE_WORD = {"toner": "printer", "coffee_pods": "coffee machine", "medication": "dispenser", "vitamins": "order"}


def complaint_text(rng: random.Random, topic: str, item: Item, order_id: str) -> str:
    """A complaint about ``item`` (of order ``order_id``) on ``topic``, phrased as customers write them."""
    by_topic = _TEMPLATES[topic]
    templates = by_topic.get(item.category, by_topic["device"]) if isinstance(by_topic, dict) else by_topic
    return rng.choice(templates).format(
        order=order_id,
        item=item.name,
        days=rng.randint(5, 14),
        category=item.category.replace("_", " "),
        device=_DEVICE_WORD.get(item.category, "device"),
    )
