"""The store's tables (SQLAlchemy 2 Core). Alembic migrations under ``migrations/`` create and evolve them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always returned timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Rapport stores timezone-aware times only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    # The customer this one was merged into (None for a root). Events and identifiers never move: a profile is
    # the set of customers sharing one canonical_id, so a merge and its undo only rewrite these two columns.
    Column("merged_into", String(32), nullable=True),
    Column("canonical_id", String(32), nullable=False, index=True),
)

identifiers = Table(
    "identifiers",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("value", String(320), primary_key=True),
    Column("customer_id", String(32), nullable=False, index=True),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("shared", Boolean, nullable=False, default=False),
)

identifier_sightings = Table(
    "identifier_sightings",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("value", String(320), primary_key=True),
    Column("customer_id", String(32), primary_key=True),
)

merges = Table(
    "merges",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("survivor_id", String(32), nullable=False, index=True),
    Column("merged_id", String(32), nullable=False, index=True),
    Column("status", String(16), nullable=False),  # applied | refused | undone
    Column("reason", String(32), nullable=False),  # stitch | alias | linkage | manual
    Column("evidence", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("undone_at", UTCDateTime, nullable=True),
    Column("undo_reason", Text, nullable=True),
)

events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("message_id", String(200), nullable=False, unique=True),
    Column("customer_id", String(32), nullable=False),
    Column("type", String(16), nullable=False),
    Column("name", String(200), nullable=True),
    Column("channel", String(32), nullable=False),
    Column("source", String(64), nullable=False),
    Column("timestamp", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("user_id", String(256), nullable=True),
    Column("anonymous_id", String(256), nullable=True),
    Column("properties", JSONType, nullable=True),
    Column("traits", JSONType, nullable=True),
    Column("context", JSONType, nullable=True),
    Index("ix_events_customer_time", "customer_id", "timestamp"),
)

merge_evidence = Table(
    "merge_evidence",
    metadata,
    Column("merge_id", BigId, primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("value", String(320), primary_key=True),
    Index("ix_merge_evidence_identifier", "kind", "value"),
)

erased_identifiers = Table(
    "erased_identifiers",
    metadata,
    Column("hash", String(64), primary_key=True),
    Column("erased_at", UTCDateTime, nullable=False),
)

erasures = Table(
    "erasures",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subject_hash", String(64), nullable=False),
    Column("erased_at", UTCDateTime, nullable=False),
    Column("report", JSONType, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)

# A customer's recognised needs, refreshed by `rapport recognize` and by the event-driven path. One row per need
# (customer, kind, item or category); a refresh replaces the customer's rows whole.
needs = Table(
    "needs",
    metadata,
    Column("customer_id", String(32), primary_key=True),
    Column("need_key", String(440), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("item", String(200), nullable=True),
    Column("category", String(200), nullable=True),
    Column("due_at", UTCDateTime, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("evidence", JSONType, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("computed_at", UTCDateTime, nullable=False),
    Index("ix_needs_due_at", "due_at"),
)

# ----- Request (the curated offering) ---------------------------------------------------------------------------
# The firm's items with their stock: an item may be offered when it is on hand or deliverable through a connection
# architecture (a partner, a matchmaker). No customer data here.
catalogue_items = Table(
    "catalogue_items",
    metadata,
    Column("sku", String(200), primary_key=True),
    Column("name", String(400), nullable=True),
    Column("category", String(200), nullable=True),
    Column("price", Float, nullable=True),
    Column("on_hand", Integer, nullable=False, default=0),
    Column("deliverable_via", String(64), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Trained offer models (`rapport train`), one row per version; the payload is the pickled model. It keeps no
# customer ids and no per-customer factors (ALS' are dropped after training: customers are folded in at scoring).
offer_models = Table(
    "offer_models",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("trained_at", UTCDateTime, nullable=False, index=True),
    Column("summary", JSONType, nullable=False),
    Column("payload", LargeBinary, nullable=False),
)

# ----- Probabilistic identity resolution (rapport.customers.linkage): which profiles were linked, and the review
# queue of proposed merges. A review's row belongs to one side (customer_id); each side's attribute values sit in
# its own row of linkage_review_values, so erasing either person removes what was shown of them.
linkage_state = Table(
    "linkage_state",
    metadata,
    Column("customer_id", String(32), primary_key=True),  # a profile (canonical id) when it was linked
    Column("fingerprint", String(64), nullable=False),  # of the attributes compared: a change links it again
    Column("linked_at", UTCDateTime, nullable=False),
)

linkage_reviews = Table(
    "linkage_reviews",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", String(32), nullable=False, index=True),
    Column("other_id", String(32), nullable=False, index=True),
    Column("match_probability", Float, nullable=False),
    Column("fields", JSONType, nullable=False),  # per attribute: how the two agreed (no values)
    Column("status", String(16), nullable=False),  # pending | confirmed | rejected
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("merge_id", BigId, nullable=True),
    Column("note", Text, nullable=True),
    Index("ux_linkage_reviews_pair", "customer_id", "other_id", unique=True),
    Index("ix_linkage_reviews_status", "status"),
)

linkage_review_values = Table(
    "linkage_review_values",
    metadata,
    Column("review_id", BigId, primary_key=True),
    Column("customer_id", String(32), primary_key=True),
    Column("attributes", JSONType, nullable=False),
)

# ----- Decide (issue 6): the decision log, outcomes, consents, control levels, contact policy and contact log -----
decisions = Table(
    "decisions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("customer_id", String(32), nullable=False),
    Column("touchpoint", String(32), nullable=False),
    Column("category", String(200), nullable=True),  # the need's category (or item): what outcomes teach about
    Column("status", String(16), nullable=False),  # act | deferred | nothing_now
    Column("experience", String(32), nullable=True),
    Column("action", JSONType, nullable=True),
    Column("reasons", JSONType, nullable=False),
    Column("model_versions", JSONType, nullable=False),
    Column("need", JSONType, nullable=True),
    Column("situation", JSONType, nullable=False),
    Column("trigger", String(16), nullable=False),  # api | event | cli
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_decisions_customer_time", "customer_id", "created_at"),
)

decision_outcomes = Table(
    "decision_outcomes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("decision_id", String(32), nullable=False),
    Column("customer_id", String(32), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("details", JSONType, nullable=True),
    Index("ux_decision_outcomes_decision_outcome", "decision_id", "outcome", unique=True),
)

# Every consent change is a row (history kept); the latest row per customer and purpose is the one in force.
consents = Table(
    "consents",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", String(32), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("source", String(64), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("note", Text, nullable=True),
    Index("ix_consents_customer_purpose", "customer_id", "purpose", "id"),
)

# Control levels: the customer's explicit choice and the level learned from outcomes, one row each per category.
control_levels = Table(
    "control_levels",
    metadata,
    Column("customer_id", String(32), primary_key=True),
    Column("category", String(200), primary_key=True),
    Column("source", String(16), primary_key=True),  # explicit | learned
    Column("level", String(32), nullable=False),
    Column("set_at", UTCDateTime, nullable=False),
    Column("evidence", JSONType, nullable=True),
)

# A customer's own contact policy (absent: the firm's defaults from the settings).
contact_policies = Table(
    "contact_policies",
    metadata,
    Column("customer_id", String(32), primary_key=True),
    Column("policy", JSONType, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Contacts actually made (or committed to a send time): the one budget every kind of message counts against.
contact_log = Table(
    "contact_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("mandatory", Boolean, nullable=False, default=False),
    Column("action_key", String(200), nullable=True, unique=True),  # the outbox idempotency key: counted once
    Index("ix_contact_log_customer_at", "customer_id", "at"),
)

# ----- Respond (issue 6): orders, mandates, automatic orders, the customer's audit log, the outbox -----
# Orders placed through Rapport (one-click reorders, automatic orders, API orders). A client key makes a retry
# return the first order; request_hash tells a retry from a different order reusing the key.
orders = Table(
    "orders",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("customer_id", String(32), nullable=False),
    Column("client_key", String(200), nullable=True, unique=True),
    Column("request_hash", String(64), nullable=False),
    Column("source", String(16), nullable=False),  # api | reorder | automatic
    Column("status", String(16), nullable=False),  # fulfilled | unfulfilled
    Column("lines", JSONType, nullable=False),
    Column("total", Float, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("address_ref", String(200), nullable=True),
    Column("payment_ref", String(200), nullable=True),
    Column("architecture", String(32), nullable=False),
    Column("fulfilment", JSONType, nullable=False),
    Column("placed_at", UTCDateTime, nullable=False),
    Index("ix_orders_customer_time", "customer_id", "placed_at"),
)

# A mandate: the customer's explicit permission for automatic orders within a scope, caps and a notice period.
mandates = Table(
    "mandates",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("customer_id", String(32), nullable=False, index=True),
    Column("client_key", String(200), nullable=True, unique=True),
    Column("scope_kind", String(16), nullable=False),  # item | category
    Column("scope", String(200), nullable=False),
    Column("per_order_cap", Float, nullable=False),
    Column("monthly_cap", Float, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("notice_hours", Float, nullable=False),
    Column("cancel_window_hours", Float, nullable=False),
    Column("status", String(16), nullable=False),  # active | revoked
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)

# Automatic orders: scheduled -> notified -> (executing ->) executed | cancelled. Each step is claimed with a
# conditional UPDATE on status, so two schedulers never take the same step.
automatic_orders = Table(
    "automatic_orders",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("customer_id", String(32), nullable=False, index=True),
    Column("mandate_id", String(32), nullable=False),
    Column("sku", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Float, nullable=False),
    Column("amount", Float, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("cap_month", String(7), nullable=False),  # YYYY-MM the amount counts against
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("notify_at", UTCDateTime, nullable=False),
    Column("notified_at", UTCDateTime, nullable=True),
    Column("execute_after", UTCDateTime, nullable=True),
    Column("executed_at", UTCDateTime, nullable=True),
    Column("cancelled_at", UTCDateTime, nullable=True),
    Column("cancel_reason", Text, nullable=True),
    Column("notice_action_id", String(32), nullable=True),
    Column("order_id", String(32), nullable=True),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_at", UTCDateTime, nullable=True),
    Index("ix_automatic_orders_mandate_status", "mandate_id", "status"),
    Index("ix_automatic_orders_status_notify", "status", "notify_at"),
)

# Every step of mandates, automatic orders and Rapport's orders, as the customer may read it.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("subject_kind", String(32), nullable=False),
    Column("subject_id", String(32), nullable=False),
    Column("action", String(32), nullable=False),
    Column("details", JSONType, nullable=False),
    Index("ix_audit_log_customer", "customer_id", "id"),
)

# The outbox: every action leaving Rapport (nudges, offers, notices, orders), delivered as a signed webhook or
# pulled by the app and the store; pending -> delivered | acknowledged | dead | withdrawn.
outbox_actions = Table(
    "outbox_actions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("customer_id", String(32), nullable=False),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("payload", JSONType, nullable=False),
    Column("send_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("leased_by", String(64), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
    Index("ix_outbox_customer_status", "customer_id", "status"),
)

# ----- Repeat: learning from every turn (issue 9: preference prompts, the nudge bandit) -------------------------
# What learning asks the customer or suggests to them: "we've switched you back to reminders — keep it?", or an
# offer of a mandate. Never a grant: answering is the customer's own explicit choice, through the usual routes.
preference_prompts = Table(
    "preference_prompts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("prompt_key", String(300), nullable=False, unique=True),
    Column("customer_id", String(32), nullable=False),
    Column("category", String(200), nullable=False),
    Column("kind", String(32), nullable=False),  # confirm_switch_back | offer_mandate
    Column("message", Text, nullable=False),
    Column("details", JSONType, nullable=False),
    Column("status", String(16), nullable=False),  # open | answered | dismissed
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_preference_prompts_customer", "customer_id", "status"),
)

# The nudge bandit's counts: per arm, for the population (customer_id "*") and for each customer.
bandit_counts = Table(
    "bandit_counts",
    metadata,
    Column("bandit", String(64), primary_key=True),
    Column("customer_id", String(32), primary_key=True),
    Column("arm", String(200), primary_key=True),
    Column("successes", Float, nullable=False),
    Column("failures", Float, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# ----- access (issue 10): staff accounts, one-time tokens, sessions, the access log, secrets, key rotations -----
staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=True),  # Argon2id; None until the set-password link is used
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_set_at", UTCDateTime, nullable=True),
    Column("failed_sign_ins", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime, nullable=True),
)

# One-time tokens (customer sign-in links, staff set-password links): the signed link names the row; used once.
access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("purpose", String(32), nullable=False),
    Column("customer_id", String(32), nullable=True),
    Column("staff_id", String(32), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Index("ix_access_tokens_customer", "customer_id"),
)

# Sessions behind the signed cookies (the id is kept as its SHA-256): signing out or erasure ends them.
access_sessions = Table(
    "access_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # staff | customer
    Column("customer_id", String(32), nullable=True),
    Column("staff_id", String(32), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_access_sessions_customer", "customer_id"),
)

# Every read of one customer's data by staff or a server key, as the customer sees it on their pages.
access_log_entries = Table(
    "access_log_entries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("principal_kind", String(16), nullable=False),
    Column("principal_id", String(64), nullable=False),
    Column("principal_name", String(400), nullable=False),
    Column("what", String(400), nullable=False),
    Index("ix_access_log_entries_customer", "customer_id", "id"),
)

# Secrets Rapport generates for itself when the settings name none (the cookie and link signing key).
access_secrets = Table(
    "access_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# A rotated API key: it keeps working until expires_at, then is refused; successor_id names the new key.
api_key_rotations = Table(
    "api_key_rotations",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("successor_id", String(16), nullable=False),
    Column("rotated_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# ----- Conversations (issue 10, the inbox): one thread per customer whatever the channel -------------------------
# A customer has at most one open conversation: ``open_for`` holds their id while it is open (NULL once closed), and
# its unique index lets the database refuse a second one. Closed conversations stay as the customer's history.
conversations = Table(
    "conversations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("customer_id", String(32), nullable=False, index=True),
    Column("status", String(16), nullable=False),  # open | closed
    Column("open_for", String(32), nullable=True, unique=True),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("closed_by", String(64), nullable=True),
    Column("last_author", String(16), nullable=False),  # customer | staff: who is waiting for whom
    Index("ix_conversations_status_updated", "status", "updated_at"),
)

# Every message of a conversation, as text (voice-of-customer analysis reads this table: messages_for_voice).
# ``client_key`` (source:external id) makes a forwarded e-mail or a resent form a retry rather than a new message.
conversation_messages = Table(
    "conversation_messages",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("conversation_id", String(32), nullable=False, index=True),
    Column("customer_id", String(32), nullable=False, index=True),
    Column("author", String(16), nullable=False),  # customer | staff
    Column("author_ref", String(320), nullable=True),  # the staff member or the agent who wrote it
    Column("channel", String(32), nullable=False),  # me | email | call_centre | chat | app | store | ...
    Column("kind", String(32), nullable=False),  # message | note | email | chat_transcript | reply
    Column("body", Text, nullable=False),
    Column("client_key", String(300), nullable=True, unique=True),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("outbox_action_id", String(32), nullable=True),
    Index("ix_conversation_messages_recorded", "recorded_at", "id"),
)

# ----- Voice (issue 11): what customers tell us (tickets, reviews, posts, call notes), topics and alerts ------
# One row per item, unique on (source, external_id) so a retried item is stored once. ``customer_id`` is set only
# when one of the item's identifiers matched the identity graph.
voice_items = Table(
    "voice_items",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("text", Text, nullable=False),
    Column("author", String(200), nullable=True),
    Column("customer_id", String(32), nullable=True),
    Column("sentiment", Float, nullable=False),
    Column("label", String(16), nullable=False),
    Column("aspects", JSONType, nullable=False),
    Column("topic_id", Integer, nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Index("ux_voice_items_source_external", "source", "external_id", unique=True),
    Index("ix_voice_items_at", "at"),
    Index("ix_voice_items_customer", "customer_id"),
    Index("ix_voice_items_topic_at", "topic_id", "at"),
)

# The topics of the current topic model: a readable label (key phrases) and the size when it was fitted.
voice_topics = Table(
    "voice_topics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("label", String(300), nullable=False),
    Column("terms", JSONType, nullable=False),
    Column("size", Integer, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("fitted_at", UTCDateTime, nullable=False),
)

# Emerging-issue alerts, kept as history: a topic's volume or negativity rose beyond its normal variation.
voice_alerts = Table(
    "voice_alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("topic_id", Integer, nullable=False),
    Column("signal", String(16), nullable=False),
    Column("period_start", UTCDateTime, nullable=False),
    Column("raised_at", UTCDateTime, nullable=False),
    Column("observed", Float, nullable=False),
    Column("baseline", Float, nullable=False),
    Column("examples", JSONType, nullable=False),
    Index("ux_voice_alerts_topic_signal_period", "topic_id", "signal", "period_start", unique=True),
)

# Fitted voice models (topic model, router), pickled by scikit-learn's own means; the newest per name is used.
voice_models = Table(
    "voice_models",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("trained_at", UTCDateTime, nullable=False),
    Column("payload", LargeBinary, nullable=False),
)

# ----- Dashboard indexes (migrations 0011, 0012) -----------------------------------------------------------------
# The operations page counts events per channel and day: one range of this index each (0012 replaced 0011's
# (received_at, channel), whose per-day grouping sorted every event of the period).
Index("ix_events_channel_received", events.c.channel, events.c.received_at)

# ----- Dashboard look-ups (migration 0012) -----------------------------------------------------------------------
# Name search keys (rapport.customers.names) per customer RECORD, kept by ingestion from the name traits: merges and
# their undo need no upkeep (a search joins customers for the canonical id) and erasure deletes the rows with the
# record's other rows. On PostgreSQL the key is compared byte-wise (collation "C"), as SQLite does, so a prefix is one
# range of the index on both stores.
NameKey = String(64).with_variant(String(64, collation="C"), "postgresql")
customer_names = Table(
    "customer_names",
    metadata,
    Column("customer_id", String(32), primary_key=True),
    Column("name_key", NameKey, primary_key=True),
    Index("ix_customer_names_key", "name_key", "customer_id"),
)

# Events the tracking API or a file ingest refused (validation errors; retries are no rejections): when, through
# which channel (api | stream | file) and source, why (the field and the reason, quoted values and long numbers
# left out: no payload is kept) and how many in that call. The operations page counts them beside the volume.
ingestion_rejections = Table(
    "ingestion_rejections",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("source", String(64), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("count", Integer, nullable=False),
    Index("ix_ingestion_rejections_at", "at"),
)
