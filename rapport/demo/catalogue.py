"""The demo firm's catalogue: a connected retailer of printers and toner, coffee machines and pods, pharmacy refills.

Brands are invented (no real product or price is implied). Consumables name the device models they fit, their pack
size in consumption units (pages, pods, tablets) and how long one pack lasts a typical customer, which is what
replenishment and depletion forecasts reason about.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapport.errors import NotFound

DEVICE_CATEGORIES = ("printer", "coffee_machine", "pill_dispenser")
CONSUMABLE_CATEGORIES = ("toner", "coffee_pods", "medication", "vitamins")
CATEGORIES = DEVICE_CATEGORIES + CONSUMABLE_CATEGORIES


@dataclass(frozen=True)
class Item:
    """One catalogue item. ``pack_size`` counts ``unit``s (a toner's page yield, pods or tablets in the pack)."""

    sku: str
    name: str
    brand: str
    category: str
    price: float  # EUR, VAT included
    pack_size: int
    unit: str  # "device", "pages", "pods", "tablets", "capsules"
    days_per_pack: float | None = None  # typical consumption: days one pack lasts (consumables only)
    model: str | None = None  # devices: their model code
    compatible_models: tuple[str, ...] = ()  # consumables: the device models they fit (empty: any)

    @property
    def is_device(self) -> bool:
        return self.category in DEVICE_CATEGORIES

    @property
    def is_consumable(self) -> bool:
        return self.category in CONSUMABLE_CATEGORIES

    def as_product(self, quantity: int = 1) -> dict[str, object]:
        """The item as a product line of Segment's e-commerce spec."""
        return {
            "sku": self.sku,
            "name": self.name,
            "category": self.category,
            "price": self.price,
            "quantity": quantity,
        }


@dataclass(frozen=True)
class Catalogue:
    """The items, with look-ups by sku, category and device model."""

    items: tuple[Item, ...]
    _by_sku: dict[str, Item] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_sku", {item.sku: item for item in self.items})

    def __len__(self) -> int:
        return len(self.items)

    def item(self, sku: str) -> Item:
        """The item with this sku."""
        try:
            return self._by_sku[sku]
        except KeyError:
            raise NotFound(f"No catalogue item has sku {sku!r}; list them with Catalogue.items.") from None

    def in_category(self, category: str) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.category == category)

    def device_of_model(self, model: str) -> Item:
        for item in self.items:
            if item.is_device and item.model == model:
                return item
        raise NotFound(f"No device has model {model!r}; device models: {[i.model for i in self.devices()]}.")

    def devices(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.is_device)

    def consumables_for(self, model: str) -> tuple[Item, ...]:
        """The consumables that fit a device model, cheapest per unit first."""
        fits = [item for item in self.items if model in item.compatible_models]
        return tuple(sorted(fits, key=lambda i: (i.price / i.pack_size, i.sku)))


def _printers() -> list[Item]:
    # (brand, model, name, price, [(toner suffix, page yield, price)])
    lines = [
        ("Lumeo", "L210", "Lumeo L210 mono laser printer", 139.0, [("", 1500, 49.9), ("XL", 3000, 79.9)]),
        ("Lumeo", "L450", "Lumeo L450 colour laser printer", 329.0, [("", 2000, 74.9), ("XL", 4500, 129.0)]),
        ("Pressa", "P1100", "Pressa P1100 compact laser printer", 119.0, [("", 1200, 44.5)]),
        ("Pressa", "P3300", "Pressa P3300 office laser printer", 389.0, [("", 3000, 89.0), ("XL", 8000, 189.0)]),
        ("Kanto", "K5", "Kanto K5 mono laser printer", 159.0, [("", 1800, 52.0), ("XL", 3500, 84.0)]),
        ("Ostra", "O60", "Ostra O60 multifunction laser", 249.0, [("", 2500, 69.0)]),
    ]
    items: list[Item] = []
    for brand, model, name, price, toners in lines:
        code = f"{brand[:3].upper()}-{model}"
        items.append(Item(f"PRN-{code}", name, brand, "printer", price, 1, "device", model=model))
        for suffix, pages, toner_price in toners:
            label = f"{brand} {model} toner {suffix} black ({pages:,} pages)".replace("  ", " ")
            items.append(
                Item(
                    f"TON-{code}{'-' + suffix if suffix else ''}",
                    label,
                    brand,
                    "toner",
                    toner_price,
                    pages,
                    "pages",
                    days_per_pack=pages / 20,  # a typical home office prints ~20 pages a day
                    compatible_models=(model,),
                )
            )
    return items


def _coffee() -> list[Item]:
    machines = [
        ("Crema Nova", "CN1", "Crema Nova One pod machine", 89.0),
        ("Crema Nova", "CN2", "Crema Nova Pro pod machine", 179.0),
        ("Kaffa", "KD", "Kaffa Duo pod machine", 69.0),
        ("Barista Uno", "BU", "Barista Uno Compact pod machine", 129.0),
    ]
    # (brand, sku code, name, pods per pack, price, models)
    pods = [
        ("Crema Nova", "CN-LUN30", "Crema Nova Lungo pods, 30", 30, 10.5, ("CN1", "CN2")),
        ("Crema Nova", "CN-ESP30", "Crema Nova Espresso pods, 30", 30, 10.5, ("CN1", "CN2")),
        ("Crema Nova", "CN-DEC30", "Crema Nova Decaf pods, 30", 30, 11.0, ("CN1", "CN2")),
        ("Crema Nova", "CN-LUN100", "Crema Nova Lungo pods, 100", 100, 31.0, ("CN1", "CN2")),
        ("Kaffa", "KD-CLA16", "Kaffa Duo Classic pods, 16", 16, 4.9, ("KD",)),
        ("Kaffa", "KD-LAT16", "Kaffa Duo Latte pods, 16", 16, 5.9, ("KD",)),
        ("Barista Uno", "BU-INT10", "Barista Uno Intenso pods, 10", 10, 3.9, ("BU",)),
        ("Barista Uno", "BU-INT50", "Barista Uno Intenso pods, 50", 50, 17.5, ("BU",)),
    ]
    items = [
        Item(f"CFM-{model}", name, brand, "coffee_machine", price, 1, "device", model=model)
        for brand, model, name, price in machines
    ]
    for brand, code, name, size, price, models in pods:
        items.append(
            Item(f"POD-{code}", name, brand, "coffee_pods", price, size, "pods", size / 2.0, compatible_models=models)
        )
    return items


def _pharmacy() -> list[Item]:
    dispenser = Item(
        "PDX-PP1", "PillPal smart pill dispenser", "PillPal", "pill_dispenser", 99.0, 1, "device", model="PP1"
    )
    # (sku code, name, brand, tablets, price, tablets a day)
    medications = [
        ("MET500-30", "Metformin 500 mg, 30 tablets", "Medivia", 30, 6.9, 1),
        ("MET500-120", "Metformin 500 mg, 120 tablets", "Medivia", 120, 17.9, 2),
        ("LEV50-100", "Levothyroxine 50 µg, 100 tablets", "Generica", 100, 14.5, 1),
        ("ATO20-30", "Atorvastatin 20 mg, 30 tablets", "Generica", 30, 9.8, 1),
        ("RAM5-30", "Ramipril 5 mg, 30 tablets", "Medivia", 30, 8.4, 1),
        ("AML5-30", "Amlodipine 5 mg, 30 tablets", "Generica", 30, 7.9, 1),
        ("OME20-28", "Omeprazole 20 mg, 28 capsules", "Medivia", 28, 8.9, 1),
    ]
    vitamins = [
        ("VD3-90", "Vitamin D3 1000 IU, 90 tablets", "Sanovit", 90, 8.95, 1, "tablets"),
        ("MAG400-60", "Magnesium 400 mg, 60 tablets", "Sanovit", 60, 7.45, 1, "tablets"),
        ("OMEGA3-60", "Omega-3 fish oil, 60 capsules", "Nordvita", 60, 12.9, 2, "capsules"),
        ("MULTI-30", "Multivitamin A-Z, 30 tablets", "Nordvita", 30, 6.5, 1, "tablets"),
        ("B12-60", "Vitamin B12 500 µg, 60 tablets", "Sanovit", 60, 9.9, 1, "tablets"),
    ]
    items = [dispenser]
    for code, name, brand, size, price, per_day in medications:
        items.append(Item(f"MED-{code}", name, brand, "medication", price, size, "tablets", size / per_day))
    for code, name, brand, size, price, per_day, unit in vitamins:
        items.append(Item(f"VIT-{code}", name, brand, "vitamins", price, size, unit, size / per_day))
    return items


def build_catalogue() -> Catalogue:
    """The demo retailer's catalogue (fixed: the same on every call)."""
    return Catalogue(tuple(_printers() + _coffee() + _pharmacy()))
