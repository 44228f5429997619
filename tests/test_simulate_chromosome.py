"""scripts/simulate_chromosome.py at a tiny scale: every file it writes, read back the project's way."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import msprime
import numpy as np
import pandas as pd
import pytest

from vae_genomics.config import load_config
from vae_genomics.data import list_sections, read_populations, read_vcf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import simulate_chromosome as sc
from simulate_example import derive_seeds

ARGS = ["--length-mb", "0.3", "--samples", "30", "--hotspot-spacing-kb", "60", "--seed", "7"]
LENGTH = 300_000


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("chromosome")
    assert sc.main([*ARGS, "--out-dir", str(out)]) == 0
    return sc.paths(out)


def _bed(files: dict[str, Path]) -> pd.DataFrame:
    return pd.read_csv(files["bed"], sep="\t", header=None, names=["chrom", "start", "end", "name"])


def _hotspot_centres(files: dict[str, Path]) -> np.ndarray:
    """Centres of the map's raised-rate intervals, from the map file alone."""
    table = pd.read_csv(files["map"], sep="\t")
    raised = np.flatnonzero(table["Rate(cM/Mb)"].to_numpy() > 1.5)
    pos = table["Position(bp)"].to_numpy()
    return (pos[raised] + pos[raised + 1]) // 2


def test_the_vcf_reads_through_the_loader_with_the_populations_table(scenario):
    matrix = read_vcf(scenario["vcf"])
    record = json.loads(scenario["params"].read_text())
    assert matrix.haplotypes.shape == (60, record["sites"]) and record["haplotypes"] == 60
    assert set(np.unique(matrix.haplotypes)) == {0, 1}
    assert matrix.positions.min() >= 1 and matrix.positions.max() <= LENGTH
    table = pd.read_csv(scenario["populations"], sep="\t", dtype=str)
    assert list(table.columns) == ["sample", "population", "superpopulation"]
    assert table["sample"].tolist() == list(matrix.sample_ids)
    labels = read_populations(scenario["populations"], np.asarray(matrix.sample_ids))
    assert (pd.Series(labels).value_counts() == 10).all() and "unknown" not in labels
    pairs = set(zip(table["population"], table["superpopulation"], strict=True))
    assert pairs == {("YRI", "AFR"), ("CEU", "EUR"), ("CHB", "EAS")}


def test_bed_sections_run_from_hotspot_to_hotspot_and_cover_every_site(scenario):
    bed = _bed(scenario)
    starts, ends = bed["start"].to_numpy(), bed["end"].to_numpy()
    assert len(bed) >= 3  # at least two hotspots in 300 kb at a 60 kb spacing
    assert starts[0] == 0 and ends[-1] == LENGTH and (starts < ends).all()
    np.testing.assert_array_equal(starts[1:], ends[:-1])  # contiguous, no overlap
    np.testing.assert_array_equal(starts[1:], _hotspot_centres(scenario))
    names = [f"hotspot_{s + 1}_{e + 1}" for s, e in zip(starts, ends, strict=True)]
    names[0], names[-1] = (n.replace("hotspot", "flank") for n in (names[0], names[-1]))
    assert bed["name"].tolist() == names
    positions = read_vcf(scenario["vcf"], genotypes=False).positions  # 1-based
    assert positions.min() > starts[0] and positions.max() <= ends[-1]
    # the written config cuts exactly these sections, every site in one of them
    config = load_config(scenario["config"])
    assert config.data.sections == "bed" and config.data.bed == scenario["bed"]
    assert config.generation.privacy == "off"  # simulated individuals: the region step runs
    matrix, sections = list_sections(config.data, genotypes=False)
    assert [s.name for s in sections] == bed["name"].tolist()
    assert sum(s.n_variants for s in sections) == len(positions) == len(matrix.positions)


def test_the_map_is_monotone_and_totals_the_simulated_rate_map(scenario):
    table = pd.read_csv(scenario["map"], sep="\t")
    assert list(table.columns) == ["Chromosome", "Position(bp)", "Rate(cM/Mb)", "Map(cM)"]
    assert (np.diff(table["Map(cM)"]) > 0).all() and (np.diff(table["Position(bp)"]) > 0).all()
    # the map the simulation used, rebuilt from the same seed
    rng = np.random.default_rng(derive_seeds(7, 3)[2])
    centres = sc.hotspot_centres(LENGTH, 60_000, rng)
    rate_map, folds = sc.hotspot_map(LENGTH, centres, rng)
    assert ((folds >= 50) & (folds <= 100)).all()
    assert table["Map(cM)"].iloc[-1] == pytest.approx(100 * rate_map.total_mass, rel=1e-9)
    read_back = msprime.RateMap.read_hapmap(scenario["map"], sequence_length=LENGTH)
    np.testing.assert_allclose(read_back.rate, rate_map.rate, rtol=1e-5)
    np.testing.assert_array_equal(read_back.position, rate_map.position)
    expected = 100 * (1e-8 * (LENGTH - 2_000 * len(centres)) + (1e-8 * folds * 2_000).sum())
    assert table["Map(cM)"].iloc[-1] == pytest.approx(expected, rel=1e-9)


def test_a_second_run_with_the_same_parameters_is_skipped(scenario, caplog):
    stamps = {kind: p.stat().st_mtime_ns for kind, p in scenario.items()}
    with caplog.at_level(logging.INFO, logger="simulate_chromosome"):
        assert sc.main([*ARGS, "--out-dir", str(scenario["vcf"].parent)]) == 0
    assert "up to date" in caplog.text
    assert {kind: p.stat().st_mtime_ns for kind, p in scenario.items()} == stamps
    other = sc.parameters(sc.parse_args([*ARGS[:-1], "8"]))
    assert not sc.up_to_date(scenario, other)


def test_arguments_are_checked():
    for bad in (["--samples", "31"], ["--length-mb", "0"], ["--hotspot-spacing-kb", "10"]):
        with pytest.raises(SystemExit):
            sc.parse_args(bad)
