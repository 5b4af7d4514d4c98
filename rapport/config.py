"""Settings: where the store is and how identity resolution behaves.

Read from the environment (``RAPPORT_*``) and, when present, a TOML file (``RAPPORT_CONFIG`` or ``./rapport.toml``).
The environment wins over the file; the file wins over the defaults.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from rapport.errors import InvalidInput

DEFAULT_DATABASE_URL = "sqlite:///./rapport.db"


@dataclass(frozen=True)
class Settings:
    """Everything a deployment may tune. Defaults suit the embedded SQLite store."""

    database_url: str = DEFAULT_DATABASE_URL
    # Extra identifiers the firm declares, as "path in the message" -> identifier kind.
    identifier_fields: dict[str, str] = field(
        default_factory=lambda: {"traits.loyalty_card": "loyalty_card", "context.device.id": "device_id"}
    )
    # How many values of a kind one customer may hold: a merge that would exceed it is refused (only an
    # explicit alias overrides). Two accounts (user ids) never merge through a device or an address.
    kind_limits: dict[str, int] = field(default_factory=lambda: {"user_id": 1, "email": 2, "phone": 2})
    # An identifier whose merges were refused with more distinct customers than this is shared (a family tablet,
    # a switchboard number): it stops joining, and merges that rested on it alone are undone.
    max_customers_per_identifier: int = 2
    # Sources ranked for trait precedence, strongest first; unlisted sources rank below, latest value wins.
    source_precedence: tuple[str, ...] = ()
    # Region used to read phone numbers written without a country code (ISO 3166 alpha-2).
    default_phone_region: str = "DE"
    # Where `rapport link` runs Splink: duckdb (in this process) or spark (rapport[spark]; issue 13), and the Spark
    # master for spark ("" is $SPARK_MASTER, else local[2]; a cluster is spark://host:7077).
    linkage_engine: str = "duckdb"
    spark_master: str = ""
    max_event_bytes: int = 32 * 1024
    max_batch_bytes: int = 500 * 1024
    # Messages of a large ingestion call stored per transaction; 0 is the store's own size (Store.ingest_batch_size:
    # 20,000 on SQLite, 5,000 on PostgreSQL). A batch holds the write lock while stored.
    ingest_batch_size: int = 0
    # ----- Decide (issue 6) -----
    # The firm's cautious control level per category when the customer chose none ("*": every other category).
    # Never do_it_for_me: automation needs the customer's explicit choice and mandate.
    default_control_levels: dict[str, str] = field(default_factory=lambda: {"*": "remind_me"})
    # Purposes presumed consented without a record (e.g. "contact:app" under legitimate interest); never
    # automatic_execution or partner_sharing.
    presumed_consents: tuple[str, ...] = ()
    # Frequency caps of the one contact budget, "channel:days:max" ("*" counts every channel together).
    contact_caps: tuple[str, ...] = ("*:7:2", "*:30:6")
    quiet_hours: str = "21:00-08:00"  # in the customer's time zone; "" for none
    default_timezone: str = "UTC"  # when neither the contact policy nor traits.timezone names one
    preferred_channels: tuple[str, ...] = ("app", "push", "email", "sms")
    # A contact the policy would defer by more than this is dropped instead (mandatory notices always wait).
    max_defer_hours: int = 72
    # ----- Respond (issue 6) -----
    # Where outbox actions are delivered (a signed webhook to the firm's systems); "" keeps them queued.
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_max_attempts: int = 5  # then the action goes to the dead letter
    webhook_backoff_seconds: int = 30  # the wait after the first failed try, doubling after each further one
    webhook_timeout_seconds: int = 10
    # Channels that pull their actions (GET /v1/customers/{id}/actions) instead of receiving webhooks.
    pull_channels: tuple[str, ...] = ("app", "store")
    # Which connection architecture responds per offering: "sku:<sku>", "category:<category>" or "*".
    fulfilment_routes: dict[str, str] = field(default_factory=lambda: {"*": "connected_retailer"})
    # A TOML file with the catalogue, producer brand, providers, contributors and peers the adapters draw on.
    fulfilment_file: str = ""
    # Channels an automatic order's notice may go on, in order of preference (the contact policy picks one).
    notice_channels: tuple[str, ...] = ("app", "push", "email", "sms")
    # ----- Strategy (issue 12) -----
    strategy_file: str = "strategy.yaml"  # the firm's connected strategy (rapport.strategy)
    # ----- Access (issue 10) -----
    # Signs cookies and one-time links; "" lets Rapport generate one and keep it in the store.
    session_secret: str = ""
    # Where people reach Rapport: the start of the sign-in and set-password links it prints.
    public_url: str = "http://127.0.0.1:8000"
    # Token buckets, in this process: events per second per key (burst: twice that), sign-ins a minute per address.
    ingest_rate_per_second: int = 1000
    sign_in_per_minute: int = 10
    max_form_bytes: int = 64 * 1024  # any body outside /v1 (the pages' forms)

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


_ENV_NAMES = {f.name: f"RAPPORT_{f.name.upper()}" for f in fields(Settings)}


def load_settings(config_path: str | Path | None = None) -> Settings:
    """Defaults, then the TOML file, then ``RAPPORT_*`` environment variables."""
    values: dict[str, Any] = {}
    path = Path(config_path or os.environ.get("RAPPORT_CONFIG", "rapport.toml"))
    if path.exists():
        try:
            values.update(tomllib.loads(path.read_text()).get("rapport", {}))
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"{path} is not valid TOML ({exc}); fix it or unset RAPPORT_CONFIG.") from exc
    for name, env in _ENV_NAMES.items():
        if env in os.environ:
            values[name] = os.environ[env]
    return _coerce(values)


def _coerce(values: dict[str, Any]) -> Settings:
    known = {f.name: f for f in fields(Settings)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise InvalidInput(f"Unknown setting(s) {unknown}; known settings are {sorted(known)}.")
    out: dict[str, Any] = {}
    for name, raw in values.items():
        default = getattr(Settings(), name)
        if isinstance(default, bool) or not isinstance(raw, str):
            out[name] = tuple(raw) if isinstance(default, tuple) else raw
        elif isinstance(default, int):
            try:
                out[name] = int(raw)
            except ValueError as exc:
                raise InvalidInput(f"Setting {name} must be a whole number, got {raw!r}.") from exc
        elif isinstance(default, tuple):
            out[name] = tuple(part.strip() for part in raw.split(",") if part.strip())
        elif isinstance(default, dict):
            pairs = [pair.split("=", 1) for pair in raw.split(",") if "=" in pair]
            out[name] = {k.strip(): int(v) if v.strip().isdigit() else v.strip() for k, v in pairs}
        else:
            out[name] = raw
    return Settings(**out)
