"""Who the demo firm's people are and how each reaches the firm: segments, channels, devices, habits, and the
deliberate traps for identity resolution (a shared family tablet, the switchboard number, people linkable only by
name, address and birthday).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from rapport.demo.catalogue import Catalogue, Item
from rapport.demo.people import (
    Device,
    Habit,
    Person,
    area_code,
    draw_email,
    draw_identity,
    draw_phone,
)

SWITCHBOARD = "+498007272800"  # the call centre's own number (0800 7272800)
HOUSEHOLD_SIZES = (3, 4)  # members of each family sharing one tablet
SWITCHBOARD_PEOPLE = 6
MIN_PEOPLE = 50


@dataclass
class Plan:
    """How one person behaves: channels, rates (visits a year), dates (days since the window's start)."""

    segment: str  # "online" (has an account), "store" (loyalty card only), "phone" (call centre), "partner"
    web: bool = False
    app: bool = False
    store: bool = False
    partner: bool = False
    calls: bool = False  # has a call-centre record
    joined_at: float = 0.0  # 0: a customer from before the window
    churned_at: float | None = None  # stops ordering from the firm
    card_linked_at: float | None = None  # the loyalty card linked to the account
    card_phone: bool = False  # gave a phone number for the loyalty card
    account_phone: bool = False  # a phone number on the web/app account
    second_email_at: float | None = None
    web_visits: float = 0.0
    app_visits: float = 0.0
    store_visits: float = 0.0
    app_library: str = "analytics-ios"
    phone_device: str | None = None  # their own phone running the app
    tablet: str | None = None  # the family tablet they also use
    tablet_share: float = 0.0  # share of their app sessions on the tablet
    org: tuple[str, str] | None = None  # (group id, company name) for small-office buyers
    switchboard: bool = False
    linkage_phone: str | None = None  # the landline only their call-centre record knows
    device_start: dict[str, float] = field(default_factory=dict)  # device id -> day it starts being used
    device_registered: dict[str, float] = field(default_factory=dict)  # device id -> day registered in the app
    printer_pages: float = 0.0  # pages a day
    pods_per_day: float = 0.0
    packs_per_order: int = 1


def draw_people(rng: random.Random, customers: int, days: int, catalogue: Catalogue) -> list[tuple[Person, Plan]]:
    """Every person with their plan, traps included."""
    taken_emails: set[str] = set()
    taken_phones: set[str] = {SWITCHBOARD}
    taken_ids: set[str] = set()
    members = []
    for index in range(1, customers + 1):
        person = draw_identity(rng, index)
        plan = _draw_segment(rng, person, days, taken_emails, taken_phones, taken_ids)
        members.append((person, plan))
    _set_traps(rng, members, days, taken_phones, taken_ids)
    for person, plan in members:
        _draw_interests(rng, person, plan, days, catalogue, taken_ids)
    return members


def _uid(rng: random.Random, prefix: str, taken: set[str], bits: int = 40) -> str:
    while True:
        value = f"{prefix}{rng.getrandbits(bits):0{bits // 4}x}"
        if value not in taken:
            taken.add(value)
            return value


def _card_number(rng: random.Random, taken: set[str]) -> str:
    """A loyalty card number: the firm's prefix 4711 and nine digits."""
    while (number := f"4711{rng.randrange(10**9):09d}") in taken:
        pass
    taken.add(number)
    return number


def _draw_segment(
    rng: random.Random, person: Person, days: int, emails: set[str], phones: set[str], ids: set[str]
) -> Plan:
    roll = rng.random()
    segment = "online" if roll < 0.80 else "store" if roll < 0.92 else "phone" if roll < 0.97 else "partner"
    plan = Plan(segment=segment)
    if rng.random() < 0.25:
        plan.joined_at = rng.uniform(0.0, 0.85) * days
    if rng.random() < 0.10:
        plan.churned_at = rng.uniform(max(plan.joined_at / days, 0.3), 0.95) * days
    if segment == "online":
        person.user_id = _uid(rng, "u", ids)
        person.emails.append(draw_email(rng, person, emails))
        plan.web = rng.random() < 0.9
        plan.app = not plan.web or rng.random() < 0.4
        plan.web_visits = rng.lognormvariate(math.log(5), 0.7) if plan.web else 0.0
        plan.account_phone = rng.random() < 0.55
        if rng.random() < 0.08:
            person.emails.append(draw_email(rng, person, emails, work=True))
            plan.second_email_at = rng.uniform(plan.joined_at, days)
        if rng.random() < 0.3:
            plan.store = True
            plan.card_linked_at = rng.uniform(max(plan.joined_at / days, 0.05), 0.9) * days
        plan.partner = rng.random() < 0.06
        plan.calls = rng.random() < 0.15
        plan.account_phone = plan.account_phone or plan.calls
    elif segment == "store":
        plan.store = True
        plan.card_phone = rng.random() < 0.6
        plan.calls = plan.card_phone and rng.random() < 0.2
    elif segment == "phone":
        plan.calls = True
    else:
        plan.partner = True
        person.emails.append(draw_email(rng, person, emails))
    if plan.store:
        person.loyalty_card = _card_number(rng, ids)
        plan.store_visits = rng.lognormvariate(math.log(10), 0.6)
    if plan.account_phone or plan.card_phone or segment == "phone":
        landline = segment == "phone" and rng.random() < 0.5
        person.phones.append(draw_phone(rng, phones, area_code(person) if landline else None))
    if plan.calls:
        person.crm_id = _uid(rng, "crm-", ids, bits=32)
    return plan


def _set_traps(
    rng: random.Random, members: list[tuple[Person, Plan]], days: int, phones: set[str], ids: set[str]
) -> None:
    """Two families sharing one tablet, switchboard records, and people linkable only by name and address."""
    online = [(p, plan) for p, plan in members if plan.segment == "online" and not plan.partner and not plan.store]
    rng.shuffle(online)
    linkage = max(5, len(members) // 300)
    needed = sum(HOUSEHOLD_SIZES) + SWITCHBOARD_PEOPLE + linkage
    if len(online) < needed:
        raise ValueError("not enough online people for the traps")  # guarded by MIN_PEOPLE in generate_firm
    for number, size in enumerate(HOUSEHOLD_SIZES, start=1):
        family, online = online[:size], online[size:]
        tablet = "TAB-" + _uid(rng, "", ids, bits=32).upper()
        head = family[0][0]
        for rank, (person, plan) in enumerate(family):
            person.household = f"household-{number}"
            person.last_name, person.address = head.last_name, dict(head.address)
            if rank >= 2:  # the children
                person.birthday = f"{rng.randint(2005, 2008)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            plan.app, plan.tablet = True, tablet
            plan.tablet_share = 1.0 if rank >= 2 else rng.uniform(0.3, 0.7)
            plan.app_visits = max(plan.app_visits, 12.0)
    for person, plan in online[:SWITCHBOARD_PEOPLE]:
        person.uses_switchboard, plan.switchboard = True, True
        person.crm_id = person.crm_id or _uid(rng, "crm-", ids, bits=32)
    for person, plan in online[SWITCHBOARD_PEOPLE : SWITCHBOARD_PEOPLE + linkage]:
        person.linkage_only = True
        plan.web, plan.calls, plan.account_phone = True, True, False
        plan.web_visits = max(plan.web_visits, 4.0)
        person.phones = []
        plan.linkage_phone = draw_phone(rng, phones, area_code(person))
        person.crm_id = person.crm_id or _uid(rng, "crm-", ids, bits=32)


def _draw_interests(
    rng: random.Random, person: Person, plan: Plan, days: int, catalogue: Catalogue, ids: set[str]
) -> None:
    """Devices and habits: toner for a printer, pods for a coffee machine, medication, vitamins."""
    online = plan.segment == "online"
    channels = _buying_channels(plan)
    if rng.random() < 0.3:
        _add_printer(rng, person, plan, days, catalogue, ids, channels, connected=online and rng.random() < 0.6)
    if rng.random() < 0.3:
        _add_coffee(rng, person, plan, days, catalogue, ids, channels, connected=online and rng.random() < 0.5)
    if rng.random() < 0.18:
        _add_medication(rng, person, plan, catalogue, ids, channels)
    if rng.random() < 0.15 or not person.habits:
        item = rng.choice(catalogue.in_category("vitamins"))
        interval = item.days_per_pack or 60.0
        person.habits.append(
            Habit(item.sku, "replenish", interval * rng.uniform(0.9, 1.4), interval * 0.12, rng.choice(channels))
        )
    if plan.app and plan.phone_device is None:
        plan.app_library = rng.choice(("analytics-ios", "analytics-android"))
        plan.phone_device = _phone_device_id(rng, plan.app_library, ids)
        plan.app_visits = max(plan.app_visits, rng.lognormvariate(math.log(8), 0.7))
    if online and any(d.kind == "printer" for d in person.devices) and rng.random() < 0.2:
        plan.org = (_uid(rng, "org-", ids, bits=24), f"{person.last_name} {rng.choice(('GmbH', 'KG', '& Partner'))}")


def _buying_channels(plan: Plan) -> list[str]:
    if plan.segment == "online":
        return [c for c, used in (("web", plan.web), ("app", plan.app)) if used] + (["store"] if plan.store else [])
    return {"store": ["store"], "phone": ["call_centre"], "partner": ["partner"]}[plan.segment]


def _phone_device_id(rng: random.Random, library: str, ids: set[str]) -> str:
    raw = _uid(rng, "", ids, bits=128)
    formatted = f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
    return formatted.upper() if library == "analytics-ios" else raw[:16]


def _connect(rng: random.Random, person: Person, plan: Plan, days: int, device: Device) -> None:
    """Register a connected device in the app: it starts reporting from then on."""
    person.devices.append(device)
    plan.app = True
    bought_in_window = plan.joined_at > 0 or rng.random() < 0.15
    start = plan.joined_at if plan.joined_at > 0 else rng.uniform(0.1, 0.7) * days if bought_in_window else 0.0
    plan.device_start[device.device_id] = start
    plan.device_registered[device.device_id] = start + (rng.uniform(0.0, 3.0) if start else rng.uniform(0.0, 20.0))


def _add_printer(
    rng: random.Random,
    person: Person,
    plan: Plan,
    days: int,
    catalogue: Catalogue,
    ids: set[str],
    channels: list[str],
    connected: bool,
) -> None:
    printer = rng.choice(catalogue.in_category("printer"))
    toners = catalogue.consumables_for(printer.model or "")
    plan.printer_pages = rng.lognormvariate(math.log(18), 0.6)
    toner = toners[-1] if plan.printer_pages > 35 and len(toners) > 1 else toners[0]
    device_id = None
    if connected:
        device_id = _uid(rng, f"PRN{printer.model}-", ids, bits=32).upper()
        _connect(rng, person, plan, days, Device(device_id, "printer", printer.model, toner.sku))
    interval = toner.pack_size / plan.printer_pages
    person.habits.append(Habit(toner.sku, "replenish", interval, interval * 0.2, rng.choice(channels), device_id))


def _add_coffee(
    rng: random.Random,
    person: Person,
    plan: Plan,
    days: int,
    catalogue: Catalogue,
    ids: set[str],
    channels: list[str],
    connected: bool,
) -> None:
    machine = rng.choice(catalogue.in_category("coffee_machine"))
    pods: Item = rng.choice(catalogue.consumables_for(machine.model or ""))
    plan.pods_per_day = rng.uniform(0.8, 4.0)
    plan.packs_per_order = max(1, round(rng.uniform(10, 45) * plan.pods_per_day / pods.pack_size))
    device_id = None
    if connected:
        device_id = _uid(rng, f"CFM{machine.model}-", ids, bits=32).upper()
        _connect(rng, person, plan, days, Device(device_id, "coffee_machine", machine.model, pods.sku))
    interval = plan.packs_per_order * pods.pack_size / plan.pods_per_day
    person.habits.append(Habit(pods.sku, "replenish", interval, interval * 0.15, rng.choice(channels), device_id))


def _add_medication(
    rng: random.Random, person: Person, plan: Plan, catalogue: Catalogue, ids: set[str], channels: list[str]
) -> None:
    """One or two medications; online people may track doses in the app, some with a smart pill dispenser."""
    medications = catalogue.in_category("medication")
    chosen = rng.sample(medications, 2 if rng.random() < 0.2 else 1)
    tracks = plan.segment == "online" and not person.linkage_only and rng.random() < 0.2
    for item in chosen:
        pack_days = item.days_per_pack or 30.0
        channel = rng.choice(channels)
        if tracks:
            plan.app = True
            device_id = None
            if rng.random() < 0.3 and not any(d.kind == "pill_dispenser" for d in person.devices):
                device_id = _uid(rng, "PDXPP1-", ids, bits=32).upper()
                dispenser = Device(device_id, "pill_dispenser", "PP1", item.sku)
                person.devices.append(dispenser)
                plan.device_start[device_id] = 0.0
                plan.device_registered[device_id] = rng.uniform(0.0, 10.0)
            adherence = rng.uniform(0.9, 0.995)
            person.habits.append(Habit(item.sku, "dose", 1.0, 0.0, channel, device_id, adherence))
        else:
            factor = rng.uniform(0.95, 1.15)
            person.habits.append(Habit(item.sku, "replenish", pack_days * factor, rng.uniform(1.0, 4.0), channel))
