"""How well stitching recovered the demo firm's true people: purity and completeness of the profiles."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from rapport.customers.identifiers import Identifier


@dataclass(frozen=True)
class StitchingQuality:
    """Profiles against the generator's ground truth."""

    people: int
    profiles: int
    pure_profiles: int  # every identifier belongs to one true person
    mixed_profiles: int  # identifiers of two or more people: over-merged
    split_people: int  # a person spread over several profiles: under-merged

    def as_dict(self) -> dict[str, int]:
        return self.__dict__.copy()


def stitching_quality(
    profile_identifiers: dict[str, list[Identifier]], person_of: Callable[[str, str], str | None]
) -> StitchingQuality:
    """Compare profiles (profile id -> identifiers) with the truth (``person_of(kind, value)``)."""
    profiles_of_person: dict[str, set[str]] = defaultdict(set)
    mixed = 0
    for profile_id, identifiers in profile_identifiers.items():
        people = {p for i in identifiers if (p := person_of(i.kind, i.value)) is not None}
        if len(people) > 1:
            mixed += 1
        for person in people:
            profiles_of_person[person].add(profile_id)
    return StitchingQuality(
        people=len(profiles_of_person),
        profiles=len(profile_identifiers),
        pure_profiles=len(profile_identifiers) - mixed,
        mixed_profiles=mixed,
        split_people=sum(1 for profiles in profiles_of_person.values() if len(profiles) > 1),
    )
