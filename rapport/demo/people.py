"""The demo firm's people: who they are (names, addresses, birthdays, e-mails, phones) and how messily each channel
writes their identifiers down.

Phone numbers are German (default region DE): mobiles 015x/016x/017x, landlines with the city's area code. Every
e-mail domain is reserved for examples (RFC 2606), so no generated address can reach anyone.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

FIRST_NAMES = (
    "Anna", "Lena", "Marie", "Sophie", "Julia", "Laura", "Katharina", "Sabine", "Petra", "Monika", "Ursula", "Jana",
    "Claudia", "Birgit", "Jörg", "Jürgen", "Thomas", "Michael", "Andreas", "Stefan", "Markus", "Christian", "Lukas",
    "Jonas", "Felix", "Paul", "Maximilian", "Tobias", "Sebastian", "Klaus", "Günter", "Björn", "Özlem", "Ayşe",
    "Mehmet", "Emre", "Nikola", "Piotr", "Agnieszka", "Elena", "Hannah", "Mia", "Emma", "Leon", "Finn", "Noah",
    "Ben", "Elias", "Karin", "Renate", "Helga", "Wolfgang", "Dieter", "Frank", "Uwe", "Heike", "Silke", "Tanja",
)  # fmt: skip
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
    "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser",
    "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert", "Vogel", "Friedrich",
    "Y\u0131lmaz", "Kaya", "Nowak", "Kowalski", "Petrović", "Öztürk", "Keller", "Günther",
)  # fmt: skip
STREETS = (
    "Hauptstraße", "Bahnhofstraße", "Schulstraße", "Gartenstraße", "Dorfstraße", "Bergstraße", "Lindenstraße",
    "Kirchstraße", "Waldstraße", "Ringstraße", "Schillerstraße", "Goethestraße", "Friedhofstraße", "Am Markt",
    "Lindenallee", "Birkenweg", "Rosenweg", "Mühlenweg", "Feldweg", "Parkstraße", "Beethovenstraße",
)  # fmt: skip
# city, first postal code, area code (without the trunk 0)
CITIES = (
    ("Berlin", 10115, "30"), ("Hamburg", 20095, "40"), ("München", 80331, "89"), ("Köln", 50667, "221"),
    ("Frankfurt am Main", 60311, "69"), ("Stuttgart", 70173, "711"), ("Düsseldorf", 40213, "211"),
    ("Leipzig", 4109, "341"), ("Dresden", 1067, "351"), ("Hannover", 30159, "511"), ("Nürnberg", 90402, "911"),
    ("Bremen", 28195, "421"),
)  # fmt: skip
MOBILE_PREFIXES = ("151", "152", "157", "159", "160", "162", "170", "171", "172", "173", "175", "176", "177", "179")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example", "post.example", "web.example")
WORK_DOMAINS = ("firma.example", "office.example", "buero.example")
_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "\u0131": "i",
                        "ş": "s", "ć": "c", "ğ": "g", "é": "e"})  # fmt: skip
_PLAIN = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss", "\u0131": "i", "ş": "s", "ć": "c", "ğ": "g"})


@dataclass(frozen=True)
class Device:
    """A device a person owns: a connected printer, coffee machine or pill dispenser, a phone, a shared tablet."""

    device_id: str  # serial (what telemetry sends as anonymousId and context.device.id)
    kind: str  # "printer", "coffee_machine", "pill_dispenser", "phone", "tablet"
    model: str | None = None  # catalogue model for connected devices
    consumable_sku: str | None = None  # what it reports a level of


@dataclass(frozen=True)
class Habit:
    """A recurring need of a person: buying a consumable again (replenish) or taking a daily dose (dose)."""

    sku: str
    kind: str  # "replenish" or "dose"
    interval_days: float  # the person's own mean interval (1 for daily doses)
    jitter_days: float  # the person's spread around it
    channel: str  # where they usually buy it
    device_id: str | None = None  # the device whose telemetry follows it
    adherence: float | None = None  # dose habits: share of days the dose is taken


@dataclass
class Person:
    """Ground truth about one person of the demo firm (identifiers are normalised as Rapport stores them)."""

    person_id: str
    first_name: str
    last_name: str
    birthday: str  # YYYY-MM-DD
    address: dict[str, str]  # street, city, postal_code
    user_id: str | None = None  # web/app account id
    emails: list[str] = field(default_factory=list)  # canonical; [0] primary
    phones: list[str] = field(default_factory=list)  # E.164; [0] the one on their account
    loyalty_card: str | None = None
    crm_id: str | None = None  # the call centre's contact id (anonymousId of its records)
    devices: list[Device] = field(default_factory=list)
    habits: list[Habit] = field(default_factory=list)
    identifiers: list[tuple[str, str]] = field(default_factory=list)  # every (kind, value) their events carry
    channels: tuple[str, ...] = ()  # channels their events came through
    household: str | None = None  # people sharing a family tablet
    linkage_only: bool = False  # call-centre record and account share no identifier: only name+address+birthday
    uses_switchboard: bool = False  # the call centre typed its own number into this person's record

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def draw_identity(rng: random.Random, index: int) -> Person:
    """A person with a name, address and birthday (identifiers are added by the firm)."""
    city, postal, _ = rng.choice(CITIES)
    birth_year = rng.randint(1942, 2005)
    return Person(
        person_id=f"p{index:05d}",
        first_name=rng.choice(FIRST_NAMES),
        last_name=rng.choice(LAST_NAMES),
        birthday=f"{birth_year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        address={
            "street": f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
            "city": city,
            "postal_code": f"{postal + rng.randint(0, 80):05d}",
        },
    )


def draw_email(rng: random.Random, person: Person, taken: set[str], work: bool = False) -> str:
    """A unique canonical e-mail address for the person (lower case, ASCII)."""
    first = person.first_name.lower().translate(rng.choice((_ASCII, _PLAIN)))
    last = person.last_name.lower().translate(rng.choice((_ASCII, _PLAIN)))
    local = rng.choice(
        (f"{first}.{last}", f"{first[0]}.{last}", f"{first}{last}", f"{last}.{first}", f"{first}_{last}")
    )
    domain = rng.choice(WORK_DOMAINS if work else EMAIL_DOMAINS)
    email, n = f"{local}@{domain}", 1
    while email in taken:
        n += 1
        email = f"{local}{n if n > 9 else rng.randint(10, 99)}@{domain}"
    taken.add(email)
    return email


def draw_phone(rng: random.Random, taken: set[str], area: str | None = None) -> str:
    """A unique German number in E.164: a mobile, or a landline of ``area`` (area code without the trunk 0)."""
    while True:
        if area is None:
            number = f"+49{rng.choice(MOBILE_PREFIXES)}{rng.randint(10_000_000, 99_999_999)}"
        else:
            number = f"+49{area}{rng.randint(10 ** (9 - len(area)), 10 ** (10 - len(area)) - 1)}"
        if number not in taken:
            taken.add(number)
            return number


def area_code(person: Person) -> str:
    return next(code for city, _, code in CITIES if city == person.address["city"])


def messy_email(rng: random.Random, email: str) -> str:
    """The e-mail as a form or an agent might write it: capitalised, upper-cased, padded with spaces."""
    roll = rng.random()
    if roll < 0.55:
        return email
    local, _, domain = email.partition("@")
    if roll < 0.75:
        written = ".".join(part.capitalize() for part in local.split(".")) + "@" + domain.capitalize()
    elif roll < 0.85:
        written = email.upper()
    else:
        written = local.capitalize() + "@" + domain
    return rng.choice(("", " ", "  ")) + written + rng.choice(("", " ", "\t"))


def _split(e164: str) -> tuple[str, str]:
    """(area or mobile prefix, subscriber number) of a German E.164 number."""
    national = e164[3:]
    for prefix in MOBILE_PREFIXES:
        if national.startswith(prefix):
            return prefix, national[len(prefix) :]
    for _, _, code in CITIES:
        if national.startswith(code):
            return code, national[len(code) :]
    return national[:3], national[3:]


def international_phone(rng: random.Random, e164: str) -> str:
    """How a web or app form stores a number: E.164 or spaced international, sometimes with 0049."""
    area, rest = _split(e164)
    return rng.choice((e164, e164, f"+49 {area} {rest}", f"0049{area}{rest}", f"+49 (0){area} {rest}"))


def national_phone(rng: random.Random, e164: str) -> str:
    """How a call-centre agent or a till types a number: national format, spaced, slashed or dashed."""
    area, rest = _split(e164)
    return rng.choice((f"0{area} {rest}", f"0{area}{rest}", f"(0{area}) {rest}", f"0{area}/{rest}", f"0{area}-{rest}"))


def any_phone(rng: random.Random, e164: str) -> str:
    return international_phone(rng, e164) if rng.random() < 0.5 else national_phone(rng, e164)


_PHONE_NOISE = re.compile(r"[\s()/\-]")


def canonical_phone(raw: str) -> str:
    """E.164 of a number written in any of the formats above (region DE)."""
    digits = _PHONE_NOISE.sub("", raw.replace("(0)", ""))
    if digits.startswith("+"):
        return digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    return "+49" + digits.removeprefix("0")


def canonical_email(raw: str) -> str:
    return raw.strip().lower()


def variant_name(rng: random.Random, person: Person) -> tuple[str, str, dict[str, str]]:
    """Name and address as a second system recorded them: transliterated umlauts, abbreviated street."""
    first = person.first_name.translate(_ASCII) if rng.random() < 0.5 else person.first_name
    last = person.last_name.translate(_ASCII) if rng.random() < 0.6 else person.last_name
    street = person.address["street"].replace("straße", "str.") if rng.random() < 0.6 else person.address["street"]
    return first, last, {**person.address, "street": street}
