"""Normalising identifiers and parsing events: properties that must hold for any input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.config import Settings
from rapport.customers.events import InvalidEvent, parse_event
from rapport.customers.identifiers import Identifier, normalize_email, normalize_phone, parse_identifier
from rapport.errors import InvalidInput

SETTINGS = Settings()
local = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-", min_size=1, max_size=20)
domain = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=15)


@given(local, domain, st.sampled_from(["de", "com", "io"]), st.text(alphabet=" \t", max_size=3))
def test_email_normalisation_is_idempotent_and_case_blind(user: str, host: str, tld: str, pad: str) -> None:
    raw = f"{pad}{user}@{host}.{tld}{pad}"
    once = normalize_email(raw)
    assert normalize_email(once) == once
    assert normalize_email(raw.upper()) == once
    assert once == once.strip().lower()


@given(st.integers(min_value=2_000_000, max_value=99_999_999))
def test_every_written_form_of_a_german_number_is_one_e164(subscriber: int) -> None:
    national = f"030 {subscriber}"
    forms = [national, f"+49 30 {subscriber}", f"0049 30 {subscriber}", f"(030) {subscriber}"]
    normalised = {normalize_phone(form, "DE") for form in forms}
    assert normalised == {f"+4930{subscriber}"}


@pytest.mark.parametrize("bad", ["not-an-email", "a@b", "@example.com", "a b@c.de"])
def test_bad_emails_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match="e-mail"):
        normalize_email(bad)


def test_bad_phones_are_refused() -> None:
    with pytest.raises(InvalidInput, match="phone"):
        normalize_phone("call me maybe", "DE")


def test_identifiers_are_read_from_the_places_segment_puts_them() -> None:
    event = parse_event(
        {
            "type": "track",
            "event": "Level Reported",
            "anonymousId": "dev-1",
            "context": {"device": {"id": "printer-9"}, "traits": {"email": "A@B.de", "loyalty_card": "LC-1"}},
        },
        SETTINGS,
    )
    assert event.identifiers == [
        Identifier("anonymous_id", "dev-1"),
        Identifier("email", "a@b.de"),
        Identifier("loyalty_card", "LC-1"),
        Identifier("device_id", "printer-9"),
    ]
    assert event.message_id.startswith("content-")  # no messageId: derived from content, so retries collapse


def test_the_same_message_without_id_gets_the_same_derived_id() -> None:
    raw = {"type": "page", "userId": "u", "name": "Home", "timestamp": "2026-01-01T00:00:00Z"}
    assert parse_event(raw, SETTINGS).message_id == parse_event({**raw, "sentAt": "later"}, SETTINGS).message_id


@given(
    st.dictionaries(
        st.sampled_from(["type", "userId", "event", "timestamp", "traits", "messageId"]),
        st.none() | st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=2),
    )
)
def test_any_message_is_either_parsed_or_refused_with_named_fields(raw: dict) -> None:
    try:
        event = parse_event(raw, SETTINGS)
    except InvalidEvent as exc:
        assert exc.errors and all(e["field"] and e["reason"] for e in exc.errors)
    else:
        assert event.type in ("identify", "track", "page", "screen", "alias", "group")
        assert event.user_id or event.anonymous_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ann@Example.com", Identifier("email", "ann@example.com")),
        ("+49 30 1234567", Identifier("phone", "+49301234567")),
        ("loyalty_card:LC-9", Identifier("loyalty_card", "LC-9")),
        ("u-42", Identifier("user_id", "u-42")),
    ],
)
def test_parse_identifier_reads_what_a_person_types(text: str, expected: Identifier) -> None:
    assert parse_identifier(text) == expected
