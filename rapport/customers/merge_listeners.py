"""Merge listeners: code that must follow when two profiles become one (or are split again).

Linkage (rapport.customers.linkage.proposals) calls ``notify_merged(survivor_id, merged_id)`` after each merge it
applies has been committed, and ``notify_unmerged`` after an undo it performs. A part that keeps its own per-person
state registers a listener here, for example consent: where the two profiles disagree, the stricter choice wins
until the customer says otherwise::

    from rapport.customers.merge_listeners import add_merge_listener

    add_merge_listener(lambda survivor_id, merged_id: apply_stricter_consent(store, survivor_id, merged_id))

Listeners run in registration order, outside the merge's transaction (the merge is already durable); one that
fails raises, and the caller sees the error after the merge.
"""

from __future__ import annotations

from collections.abc import Callable

MergeListener = Callable[[str, str], None]

_MERGED: list[MergeListener] = []
_UNMERGED: list[MergeListener] = []


def add_merge_listener(listener: MergeListener) -> MergeListener:
    """Call ``listener(survivor_id, merged_id)`` after every merge; returns it (usable as a decorator)."""
    if listener not in _MERGED:
        _MERGED.append(listener)
    return listener


def add_unmerge_listener(listener: MergeListener) -> MergeListener:
    """Call ``listener(survivor_id, merged_id)`` after a merge is undone."""
    if listener not in _UNMERGED:
        _UNMERGED.append(listener)
    return listener


def remove_merge_listener(listener: MergeListener) -> None:
    for registered in (_MERGED, _UNMERGED):
        if listener in registered:
            registered.remove(listener)


def notify_merged(survivor_id: str, merged_id: str) -> None:
    for listener in list(_MERGED):
        listener(survivor_id, merged_id)


def notify_unmerged(survivor_id: str, merged_id: str) -> None:
    for listener in list(_UNMERGED):
        listener(survivor_id, merged_id)
