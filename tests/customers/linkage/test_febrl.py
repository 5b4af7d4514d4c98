"""`rapport link` on FEBRL4 and FEBRL1 with the label-free threshold, beside the Record Linkage Toolkit's pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from rapport.cli.main import app
from rapport.datasets.febrl import febrl_paths, toolkit_baseline, write_truth

runner = CliRunner()


def _link(name: str, tmp_path: Path) -> dict:
    args = ["link", "--id-column", "rec_id", "--output", str(tmp_path / "clusters.csv"), "--json"]
    for path in febrl_paths(name):
        args += ["--input", str(path)]
    args += ["--labels", str(write_truth(name, tmp_path / "truth.csv"))]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_febrl4_links_two_files_beside_the_toolkit(tmp_path: Path) -> None:
    summary = _link("febrl4", tmp_path)
    assert summary["threshold"] == summary["default_threshold"]  # no --threshold: chosen without labels
    scores = summary["scores"]
    assert scores["true_pairs"] == 5000
    assert scores["f1"] >= 0.99
    baseline = toolkit_baseline("febrl4")
    assert baseline["f1"] == pytest.approx(0.787, abs=0.005)  # the toolkit's documented figure, reproduced
    assert scores["f1"] > baseline["f1"] + 0.15
    clusters = pd.read_csv(tmp_path / "clusters.csv", dtype=str)
    assert list(clusters.columns) == ["source", "record_id", "cluster_id", "match_probability"]
    assert len(clusters) == 10_000 and set(clusters["source"]) == {"dataset4a", "dataset4b"}


@pytest.mark.slow
def test_febrl1_deduplicates_one_file(tmp_path: Path) -> None:
    summary = _link("febrl1", tmp_path)
    assert summary["scores"]["true_pairs"] == 500
    assert summary["scores"]["f1"] >= 0.97
    assert summary["scores"]["bcubed_f1"] >= 0.97
    assert summary["scores"]["f1"] > toolkit_baseline("febrl1")["f1"]
    # The roles came from names and content: FEBRL's soc_sec_id, suburb and address_1/2 are recognised as such.
    features = summary["features"]["dataset1"]
    assert features["id_number"] == "soc_sec_id" and features["city"] == "suburb"
    assert features["address"] == "address_1" and features["address_2"] == "address_2"
