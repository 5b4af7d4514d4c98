"""One person's year at the demo firm, channel by channel, as the firm's collectors record it.

Actions run in time order from a queue (an action may schedule a later one, such as a complaint after an order),
so that web sessions see the state of the browser's cookie: anonymous until the person logs in, then identified.
"""

from __future__ import annotations

import heapq
import itertools
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rapport.demo.catalogue import Catalogue, Item
from rapport.demo.complaints import Incident, draft_complaint, resolution
from rapport.demo.messages import Emitter
from rapport.demo.people import Person, international_phone, messy_email, national_phone, variant_name
from rapport.demo.plans import Plan
from rapport.demo.routines import Purchase, simulate_habits

CALL_REASONS = ("order_status", "product_question", "billing", "delivery_address", "prescription")
MINUTE = 1 / 1440
Action = Callable[[float, Any], None]


@dataclass
class Counters:
    """Firm-wide numbering of orders, receipts and tickets."""

    orders: itertools.count = field(default_factory=lambda: itertools.count(100001))
    receipts: itertools.count = field(default_factory=lambda: itertools.count(1))
    tickets: itertools.count = field(default_factory=lambda: itertools.count(5001))


@dataclass
class Cookie:
    anonymous_id: str
    expires: float
    logged_in: bool = False
    last_t: float = 0.0


class Life:
    """Simulates one person: habits, sessions, store visits, calls and complaints, into the firm's emitter."""

    def __init__(
        self,
        rng: random.Random,
        person: Person,
        plan: Plan,
        catalogue: Catalogue,
        days: int,
        weekday0: int,
        out: Emitter,
        counters: Counters,
        incident: Incident,
    ):
        self.rng, self.person, self.plan, self.catalogue = rng, person, plan, catalogue
        self.days, self.weekday0, self.out, self.counters, self.incident = days, weekday0, out, counters, incident
        self.queue: list[tuple[float, int, Action, Any]] = []
        self.seq = itertools.count()
        self.cookie: Cookie | None = None
        self.cookies: list[Cookie] = []
        self.installs: dict[str, str] = {}
        self.crm_known = False
        self.store_synced = False
        self.end = plan.churned_at if plan.churned_at is not None else float(days)

    # ----- scheduling ----------------------------------------------------------------------------------------
    def live(self) -> None:
        routine = simulate_habits(self.rng, self.person, self.plan, self.catalogue, self.days, self.weekday0, self.out)
        for purchase in routine.purchases:
            self.at(purchase.t, purchase.channel, self._order, purchase)
        for t, sku in routine.doses:
            self.queue.append((t, next(self.seq), self._dose, sku))
        self._plan_actions()
        heapq.heapify(self.queue)
        while self.queue:
            t, _, action, arg = heapq.heappop(self.queue)
            action(t, arg)
        for cookie in self.cookies:  # every browser logs in at some point, or its visits could never be linked
            if not cookie.logged_in:
                self._login(cookie, min(cookie.last_t + 2 * MINUTE, self.days - MINUTE))

    def at(self, t: float, channel: str, action: Action, arg: Any = None) -> None:
        """Queue an action on day ``t`` at an hour the channel is open (never before the person joined)."""
        when = max(self._clock(t, channel), self.plan.joined_at + 10 * MINUTE if self.plan.joined_at else 0.0)
        self.queue.append((when, next(self.seq), action, arg))

    def later(self, t: float, action: Action, arg: Any = None) -> None:
        heapq.heappush(self.queue, (t, next(self.seq), action, arg))

    def _clock(self, t: float, channel: str) -> float:
        day = int(t)
        weekday = (self.weekday0 + day) % 7
        if channel == "device":
            return t
        if channel == "store":  # closed on Sundays: the visit happens on Saturday
            day, hour = max(0, day - (weekday == 6)), self.rng.uniform(8.0, 19.0)
        elif channel == "call_centre":  # weekdays only: weekend calls move to Friday
            day, hour = max(0, day - max(0, weekday - 4)), self.rng.uniform(6.5, 17.0)
        else:
            hour = self.rng.uniform(17.0, 22.0) if self.rng.random() < 0.6 else self.rng.uniform(6.0, 17.0)
        return day + hour / 24

    def _times(self, per_year: float, start: float) -> list[float]:
        times: list[float] = []
        if per_year <= 0:
            return times
        t = start
        while (t := t + self.rng.expovariate(per_year / 365.0)) < self.end:
            times.append(t)
        return times

    def _plan_actions(self) -> None:
        plan, rng, joined = self.plan, self.rng, self.plan.joined_at
        first_online = "web" if plan.web else "app"
        if plan.segment == "online" and joined > 0:
            self.queue.append((joined, next(self.seq), self._signup, None))
        for t in self._times(plan.web_visits, joined):
            self.at(t, "web", self._browse_web)
        for t in self._times(plan.app_visits, joined):
            self.at(t, "app", self._browse_app)
        for t in self._times(plan.store_visits * 0.6, joined):  # beside the habits bought in store
            self.at(t, "store", self._store_visit)
        for t in self._times(rng.uniform(0.5, 3.0) if plan.calls else 0.0, joined):
            self.at(t, "call_centre", self._call)
        self._presence(first_online)
        if plan.card_linked_at is not None:
            self.at(plan.card_linked_at, first_online, self._link_card)
        if plan.second_email_at is not None:
            self.at(plan.second_email_at, first_online, self._change_email)
        for device in self.person.devices:
            self.at(plan.device_registered[device.device_id], "app", self._register, device)
            start = plan.device_start[device.device_id]
            if start > 0 and device.model and device.kind != "pill_dispenser":
                item = self.catalogue.device_of_model(device.model)
                self.at(max(joined, start - 2), first_online, self._order, Purchase(0, first_online, ((item.sku, 1),)))
        if plan.org:
            self.at(min(joined + rng.uniform(0, 30), self.days - 1), first_online, self._group)
        for _ in range(rng.randint(1, 3) if plan.switchboard else 0):
            self.at(rng.uniform(joined, self.days), "call_centre", self._switchboard_call)

    def _presence(self, first_online: str) -> None:
        """Everyone leaves a trace through their own channel at least once."""
        t = self.rng.uniform(self.plan.joined_at, self.end)
        kinds = {action for _, _, action, _ in self.queue}
        if self.plan.segment == "online" and not kinds & {self._browse_web, self._browse_app, self._order}:
            self.at(t, first_online, self._browse_web if first_online == "web" else self._browse_app)
        elif self.plan.segment == "store" and self._order not in kinds:
            item = self._impulse_item()
            self.at(t, "store", self._order, Purchase(t, "store", ((item.sku, 1),)))
        crm_only = self.person.linkage_only or self.plan.segment == "phone"
        if self.person.crm_id and crm_only and self._call not in kinds:
            self.at(t, "call_centre", self._call)
        if self.plan.segment == "partner" and self._order not in kinds:
            item = self._impulse_item()
            self.at(t, "partner", self._order, Purchase(t, "partner", ((item.sku, 1),)))

    # ----- identities per channel ----------------------------------------------------------------------------
    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _email(self, t: float) -> str:
        second = self.plan.second_email_at is not None and t >= self.plan.second_email_at
        return messy_email(self.rng, self.person.emails[1 if second else 0])

    def _account_traits(self, t: float) -> dict[str, Any]:
        """What the account sends on a first identify from a browser or an app install."""
        p, plan = self.person, self.plan
        traits: dict[str, Any] = {"email": self._email(t), "first_name": p.first_name, "last_name": p.last_name}
        traits["address"], traits["birthday"] = dict(p.address), p.birthday
        if plan.account_phone and p.phones:
            traits["phone"] = international_phone(self.rng, p.phones[0])
        if plan.card_linked_at is not None and t >= plan.card_linked_at:
            traits["loyalty_card"] = p.loyalty_card
        return traits

    def _current_cookie(self, t: float) -> Cookie:
        if self.cookie is None or t > self.cookie.expires:
            self.cookie = Cookie(self._uuid(), t + self.rng.expovariate(1 / 150))
            self.cookies.append(self.cookie)
        self.cookie.last_t = max(self.cookie.last_t, t)
        return self.cookie

    def _web_ids(self, cookie: Cookie) -> dict[str, Any]:
        ids: dict[str, Any] = {"anonymous_id": cookie.anonymous_id}
        if cookie.logged_in:
            ids["user_id"] = self.person.user_id
        return ids

    def _login(self, cookie: Cookie, t: float) -> None:
        traits = self._account_traits(t) if not cookie.logged_in else {"email": self._email(t)}
        self.out.identify(self.person, t, "web", traits, user_id=self.person.user_id, anonymous_id=cookie.anonymous_id)
        cookie.logged_in = True

    def _app_ids(self, t: float, on_phone: bool = False) -> dict[str, Any]:
        plan = self.plan
        on_tablet = plan.tablet is not None and not on_phone and self.rng.random() < plan.tablet_share
        device = plan.tablet if on_tablet else plan.phone_device
        library = "analytics-android" if on_tablet else plan.app_library
        install = self.installs.get(device or "")
        if install is None:
            install = self.installs[device or ""] = self._uuid()
            ids = {"user_id": self.person.user_id, "anonymous_id": install, "device_id": device, "library": library}
            self.out.identify(self.person, t - MINUTE, "app", self._account_traits(t), **ids)
        return {"user_id": self.person.user_id, "anonymous_id": install, "device_id": device, "library": library}

    def _crm(self, t: float) -> tuple[dict[str, Any], dict[str, Any]]:
        """The call centre's record of the person: its contact id and the phone number the agent typed."""
        p = self.person
        phone = national_phone(self.rng, self.plan.linkage_phone or p.phones[0])
        ids = {"anonymous_id": p.crm_id}
        if not self.crm_known:
            self.crm_known = True
            first, last, address = variant_name(self.rng, p) if p.linkage_only else (p.first_name, p.last_name, None)
            traits: dict[str, Any] = {"phone": phone, "first_name": first, "last_name": last}
            if p.linkage_only or self.rng.random() < 0.5:
                traits["address"], traits["birthday"] = address or dict(p.address), p.birthday
            self.out.identify(p, t - MINUTE, "call_centre", traits, **ids)
        return ids, {"phone": phone}

    # ----- sessions ------------------------------------------------------------------------------------------
    def _signup(self, t: float, _: Any) -> None:
        """A new customer: anonymous visits, then the account is created (alias, then identify)."""
        if not self.plan.web:
            self.out.screen(self.person, t, "Welcome", **self._app_ids(t))
            return
        cookie = self._current_cookie(t)
        self.out.page(self.person, t, "Home", "/", anonymous_id=cookie.anonymous_id)
        self.out.page(self.person, t + MINUTE, "Sign Up", "/account/new", anonymous_id=cookie.anonymous_id)
        self.out.alias(self.person, t + 2 * MINUTE, "web", cookie.anonymous_id, self.person.user_id or "")
        self._login(cookie, t + 3 * MINUTE)

    def _browse_web(self, t: float, _: Any) -> None:
        cookie = self._current_cookie(t)
        item = self._impulse_item()
        self.out.page(self.person, t, "Home", "/", **self._web_ids(cookie))
        if self.plan.segment == "online" and not cookie.logged_in and self.rng.random() < 0.3:
            self._login(cookie, t + MINUTE)
        t += self.rng.uniform(1, 4) * MINUTE
        self.out.page(self.person, t, item.name, f"/p/{item.sku}", **self._web_ids(cookie))
        self.out.track(self.person, t + MINUTE, "web", "Product Viewed", _product(item), **self._web_ids(cookie))

    def _browse_app(self, t: float, _: Any) -> None:
        ids = self._app_ids(t)
        self.out.screen(self.person, t, self.rng.choice(("Home", "Shop", "Orders", "My Devices")), **ids)
        if self.rng.random() < 0.5:
            item = self._impulse_item()
            self.out.track(self.person, t + MINUTE, "app", "Product Viewed", _product(item), **ids)

    def _store_visit(self, t: float, _: Any) -> None:
        if self.rng.random() < 0.7:
            item = self._impulse_item()
            self._order(t, Purchase(t, "store", ((item.sku, 1),)))

    def _call(self, t: float, _: Any) -> None:
        ids, context_traits = self._crm(t)
        props = {"reason": self.rng.choice(CALL_REASONS), "duration_s": self.rng.randint(60, 900)}
        self.out.track(self.person, t, "call_centre", "Call Completed", props, context_traits, **ids)

    def _switchboard_call(self, t: float, _: Any) -> None:
        """An agent looked the caller up by account but typed the switchboard's own number as their phone."""
        p = self.person
        phone = self.rng.choice(("0800 7272800", "08007272800", "+49 800 7272800", "0800/7272800"))
        ids = {"user_id": p.user_id, "anonymous_id": p.crm_id}
        traits = {"phone": phone, "first_name": p.first_name, "last_name": p.last_name, "email": self._email(t)}
        self.out.identify(p, t, "call_centre", traits, **ids)
        props = {"reason": self.rng.choice(CALL_REASONS), "duration_s": self.rng.randint(60, 900)}
        self.out.track(p, t + 5 * MINUTE, "call_centre", "Call Completed", props, {"phone": phone}, **ids)

    def _link_card(self, t: float, _: Any) -> None:
        """The customer adds their loyalty card to their account."""
        channel, ids = self._account_channel_ids(t)
        traits = {"email": self._email(t), "loyalty_card": self.person.loyalty_card}
        self.out.identify(self.person, t, channel, traits, **ids)

    def _change_email(self, t: float, _: Any) -> None:
        """The customer changes their account's e-mail to a second address."""
        channel, ids = self._account_channel_ids(t)
        self.out.identify(self.person, t, channel, {"email": self._email(t)}, **ids)

    def _group(self, t: float, _: Any) -> None:
        group_id, name = self.plan.org or ("", "")
        traits = {"name": name, "industry": "Professional services", "employees": self.rng.randint(2, 25)}
        channel, ids = self._account_channel_ids(t)
        self.out.group(self.person, t, channel, group_id, traits, **ids)

    def _account_channel_ids(self, t: float) -> tuple[str, dict[str, Any]]:
        """A logged-in session on the person's first online channel."""
        if not self.plan.web:
            return "app", self._app_ids(t)
        cookie = self._current_cookie(t)
        if not cookie.logged_in:
            self._login(cookie, t - MINUTE)
        return "web", self._web_ids(cookie)

    def _register(self, t: float, device: Any) -> None:
        ids = self._app_ids(t, on_phone=True)
        ids["device_id"] = device.device_id  # the app reports the device it paired, not the phone
        props = {"device_id": device.device_id, "model": device.model, "category": device.kind}
        props["consumable_sku"] = device.consumable_sku
        self.out.track(self.person, t, "app", "Device Registered", props, **ids)

    def _dose(self, t: float, sku: str) -> None:
        item = self.catalogue.item(sku)
        props = {"sku": sku, "name": item.name, "dose": 1, "unit": "tablet"}
        self.out.track(self.person, t, "app", "Dose Taken", props, **self._app_ids(t, on_phone=True))

    def _impulse_item(self) -> Item:
        habits = self.person.habits
        if habits and self.rng.random() < 0.6:
            return self.catalogue.item(self.rng.choice(habits).sku)
        return self.rng.choice(self.catalogue.in_category(self.rng.choice(("vitamins", "coffee_pods", "toner"))))

    # ----- orders --------------------------------------------------------------------------------------------
    def _order(self, t: float, purchase: Purchase) -> None:
        lines = [(self.catalogue.item(sku), q) for sku, q in purchase.lines]
        if self.rng.random() < 0.1:
            lines.append((self.catalogue.item(self.rng.choice(self.catalogue.in_category("vitamins")).sku), 1))
        channel = purchase.channel
        place = {
            "web": self._web_order,
            "app": self._app_order,
            "store": self._store_order,
            "call_centre": self._phone_order,
            "partner": self._partner_order,
        }[channel]
        order_id = place(t, lines)
        self._maybe_complain(t, order_id, lines, channel)

    def _web_order(self, t: float, lines: list[tuple[Item, int]]) -> str:
        cookie = self._current_cookie(t)
        item, quantity = lines[0]
        self.out.page(self.person, t, item.name, f"/p/{item.sku}", **self._web_ids(cookie))
        self.out.track(self.person, t + MINUTE, "web", "Product Viewed", _product(item), **self._web_ids(cookie))
        added = {**_product(item), "quantity": quantity}
        self.out.track(self.person, t + 2 * MINUTE, "web", "Product Added", added, **self._web_ids(cookie))
        if not cookie.logged_in or self.rng.random() < 0.2:
            self._login(cookie, t + 3 * MINUTE)
        order_id = f"ORD-{next(self.counters.orders)}"
        props = _order_properties(order_id, lines)
        self.out.track(self.person, t + 5 * MINUTE, "web", "Order Completed", props, **self._web_ids(cookie))
        return order_id

    def _app_order(self, t: float, lines: list[tuple[Item, int]]) -> str:
        ids = self._app_ids(t)
        self.out.screen(self.person, t, "Orders", **ids)
        order_id = f"ORD-{next(self.counters.orders)}"
        self.out.track(self.person, t + MINUTE, "app", "Order Completed", _order_properties(order_id, lines), **ids)
        return order_id

    def _store_order(self, t: float, lines: list[tuple[Item, int]]) -> str:
        p = self.person
        receipt = f"POS-{next(self.counters.receipts):08d}"
        if not self.store_synced:  # the till sends the card holder's master data with the first receipt it syncs
            self.store_synced = True
            traits: dict[str, Any] = {"loyalty_card": p.loyalty_card, "first_name": p.first_name}
            traits["last_name"] = p.last_name
            if self.plan.card_phone and p.phones:
                traits["phone"] = national_phone(self.rng, p.phones[0])
            self.out.identify(p, t - MINUTE, "store", traits, anonymous_id=receipt)
        props = {**_order_properties(receipt, lines), "store_id": _store_id(p)}
        card = {"loyalty_card": p.loyalty_card}
        self.out.track(p, t, "store", "Order Completed", props, card, anonymous_id=receipt)
        return receipt

    def _phone_order(self, t: float, lines: list[tuple[Item, int]]) -> str:
        ids, context_traits = self._crm(t)
        order_id = f"ORD-{next(self.counters.orders)}"
        props = _order_properties(order_id, lines)
        self.out.track(self.person, t, "call_centre", "Order Completed", props, context_traits, **ids)
        return order_id

    def _partner_order(self, t: float, lines: list[tuple[Item, int]]) -> str:
        order_id = f"ORD-{next(self.counters.orders)}"
        props = {**_order_properties(order_id, lines), "partner": "Marktplatz Example"}
        email = {"email": messy_email(self.rng, self.person.emails[0])}
        self.out.track(self.person, t, "partner", "Order Completed", props, email, anonymous_id=f"mkt-{order_id}")
        return order_id

    # ----- complaints ----------------------------------------------------------------------------------------
    def _maybe_complain(self, t: float, order_id: str, lines: list[tuple[Item, int]], channel: str) -> None:
        drafted = draft_complaint(self.rng, self.incident, t, order_id, [item for item, _ in lines])
        if drafted is None:
            return
        when, props = drafted
        props = {"ticket_id": f"T-{next(self.counters.tickets)}", **props}
        if self.person.linkage_only:
            del props["order_id"]  # their call-centre record must share nothing with their account
        self.later(self._clock(when, "call_centre"), self._complain, (props, channel))

    def _complain(self, t: float, arg: tuple[dict[str, Any], str]) -> None:
        """File the complaint where the person would: by phone, a web or app ticket, at the till, via the partner."""
        props, order_channel = arg
        p = self.person
        context_traits: dict[str, Any] | None = None
        if self.plan.calls and (self.plan.segment != "online" or self.rng.random() < 0.6):
            channel, event = "call_centre", "Complaint Filed"
            ids, context_traits = self._crm(t)
        elif self.plan.segment == "online":
            (channel, ids), event = self._account_channel_ids(t), "Ticket Opened"
        elif order_channel == "store":
            channel, event, ids = "store", "Complaint Filed", {"anonymous_id": f"svc-{props['ticket_id']}"}
            context_traits = {"loyalty_card": p.loyalty_card}
        else:
            channel, event, ids = "partner", "Complaint Filed", {"anonymous_id": f"mkt-{props.get('order_id')}"}
            context_traits = {"email": messy_email(self.rng, p.emails[0])}
        self.out.track(p, t, channel, event, props, context_traits, **ids)
        resolved = {
            "ticket_id": props["ticket_id"],
            "topic": props["topic"],
            "resolution": resolution(self.rng, props["topic"]),
        }
        if channel in ("web", "app"):  # customer service closes web and app tickets against the account
            channel, ids = "call_centre", {"user_id": p.user_id}
        self.out.track(p, t + self.rng.uniform(0.2, 6.0), channel, "Ticket Resolved", resolved, context_traits, **ids)


def _product(item: Item) -> dict[str, Any]:
    return {"product_id": item.sku, "sku": item.sku, "name": item.name, "brand": item.brand,
            "category": item.category, "price": item.price, "currency": "EUR"}  # fmt: skip


def _order_properties(order_id: str, lines: list[tuple[Item, int]]) -> dict[str, Any]:
    products = [item.as_product(quantity) for item, quantity in lines]
    total = round(sum(item.price * quantity for item, quantity in lines), 2)
    return {"order_id": order_id, "total": total, "currency": "EUR", "products": products}


def _store_id(person: Person) -> str:
    return "store-" + person.address["city"].lower().replace(" ", "-").replace("ü", "ue").replace("ö", "oe")
