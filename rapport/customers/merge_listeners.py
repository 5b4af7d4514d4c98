"""Merge listeners: code that must follow when two profiles become one.

Linkage (rapport.customers.linkage.proposals: automatic merges and confirmed reviews) calls
``notify_merged(survivor_id, merged_id)`` after each merge it applies has been committed. A part that keeps its own
per-person state registers a listener here, for example consent: where the two profiles disagree, the stricter
choice wins until the customer says otherwise::

    from rapport.customers.merge_listeners import add_merge_listener

    add_merge_listener(lambda survivor_id, merged_id: apply_stricter_consent(store, survivor_id, merged_id))

Listeners run in registration order, outside the merge's transaction (the merge is already durable); one that
fails raises, and the caller sees the error after the merge. Deterministic stitching (rapport.customers.stitching)
does not call them yet: its merges happen inside ingestion batches.
"""

from __future__ import annotations

from collections.abc import Callable

MergeListener = Callable[[str, str], None]

_LISTENERS: list[MergeListener] = []


def add_merge_listener(listener: MergeListener) -> MergeListener:
    """Call ``listener(survivor_id, merged_id)`` after every linkage merge; returns it (usable as a decorator)."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)
    return listener


def remove_merge_listener(listener: MergeListener) -> None:
    if listener in _LISTENERS:
        _LISTENERS.remove(listener)


def notify_merged(survivor_id: str, merged_id: str) -> None:
    """Tell every listener that ``merged_id`` now redirects to ``survivor_id``."""
    for listener in list(_LISTENERS):
        listener(survivor_id, merged_id)
