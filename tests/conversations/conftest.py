"""Conversation fixtures: the test store seen through the inbox (quiet hours off unless a test sets them)."""

from __future__ import annotations

import pytest

from rapport.store.conversations import SqlConversationStore
from rapport.store.store import Store


@pytest.fixture
def inbox(store: Store) -> SqlConversationStore:
    return SqlConversationStore(store.settings.with_overrides(quiet_hours=""), engine=store.engine)
