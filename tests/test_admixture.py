"""Ancestry tracts of the hybrid-isolation model and the splicing of admixed haplotypes."""

from __future__ import annotations

import numpy as np
import pytest

from vae_genomics.commands.sample_admixed import parse_proportions, tracts_table
from vae_genomics.common.errors import DataError
from vae_genomics.generate import admixture as adm

CHROMOSOME = 2e8  # bp: about 2 Morgans at 1e-8 per bp


def _draw(n: int, m: list[float], generations: float, seed: int = 0) -> adm.Tracts:
    rate = adm.switch_rate(generations, adm.DEFAULT_RATE)
    return adm.draw_tracts(n, 0.0, CHROMOSOME, np.asarray(m), rate, np.random.default_rng(seed))


def test_tracts_tile_each_haplotype_and_alternate_their_ancestry():
    tracts = _draw(50, [0.5, 0.3, 0.2], 20)
    for h in range(50):
        mine = tracts.haplotype == h
        start, end, anc = tracts.start[mine], tracts.end[mine], tracts.ancestry[mine]
        assert start[0] == 0.0 and end[-1] == CHROMOSOME
        np.testing.assert_array_equal(start[1:], end[:-1])  # no gap, no overlap
        assert np.all(end > start) and np.all(anc[1:] != anc[:-1])  # merged runs


@pytest.mark.parametrize("m", [[0.8, 0.2], [0.5, 0.3, 0.2]])
def test_shares_and_tract_lengths_match_the_model_within_ten_percent(m):
    """Two- and three-way mixes, 10 generations (truncated by the window) and 100 (long
    chromosome limit): each source's share, the mean tract in the window, each source's mean."""
    tracts = _draw(2000, m, 10)
    observed = adm.observed_tracts(tracts, len(m))
    expected = adm.expected_tracts(np.asarray(m), adm.switch_rate(10), CHROMOSOME)
    for got, want in zip(observed["proportions"], m, strict=True):
        assert abs(got / want - 1) < 0.1
    assert abs(observed["mean_tract_bp"] / expected["mean_tract_bp_in_window"] - 1) < 0.1
    assert abs(observed["tracts_per_haplotype"] / expected["tracts_per_haplotype"] - 1) < 0.1
    many = _draw(500, m, 100, seed=1)
    observed = adm.observed_tracts(many, len(m))
    expected = adm.expected_tracts(np.asarray(m), adm.switch_rate(100), CHROMOSOME)
    for got, want in zip(
        observed["mean_tract_bp_by_source"], expected["mean_tract_bp_by_source"], strict=True
    ):
        assert abs(got / want - 1) < 0.1  # 1 / (T r (1 - m_a))


def test_tract_lengths_are_exponential():
    """Away from the window's ends a source's tracts are exponential: P(L > mean) = 1/e."""
    tracts = _draw(500, [0.6, 0.4], 100, seed=2)
    inner = (tracts.start > 0) & (tracts.end < CHROMOSOME) & (tracts.ancestry == 0)
    lengths = tracts.length[inner]
    mean = 1 / (adm.switch_rate(100) * 0.4)
    assert abs(np.mean(lengths > mean) - np.exp(-1)) < 0.03


def test_closed_forms_of_the_expectations():
    e = adm.expected_tracts(np.array([0.75, 0.25]), 1e-7, 1e8)
    change = 1e-7 * (1 - 0.75**2 - 0.25**2)  # 3.75e-8 switches that change ancestry per bp
    assert e["mean_tract_bp"] == pytest.approx(1 / change)
    assert e["tracts_per_haplotype"] == pytest.approx(1 + 1e8 * change)
    assert e["mean_tract_bp_by_source"] == pytest.approx([1 / 0.25e-7, 1 / 0.75e-7])


def test_ancestry_at_sites_and_splice_against_a_loop():
    rng = np.random.default_rng(3)
    positions = np.sort(rng.choice(np.arange(1, 10_000), size=300, replace=False))
    tracts = adm.draw_tracts(6, 1.0, 10_000.0, np.array([0.4, 0.6]), 2e-3, rng)
    ancestry = adm.ancestry_at_sites(tracts, 6, positions)
    for h, s, e, a in zip(tracts.haplotype, tracts.start, tracts.end, tracts.ancestry, strict=True):
        inside = (positions >= s) & (positions < e)
        assert np.all(ancestry[h, inside] == a)
    sources = [rng.integers(0, 2, size=(6, 300), dtype=np.int8) for _ in range(2)]
    np.testing.assert_array_equal(
        adm.splice(sources, ancestry), np.where(ancestry == 0, sources[0], sources[1])
    )
    rows = tracts_table(tracts, ["A", "B"], ["x1", "x2", "x3"], "1", positions).splitlines()
    assert rows[0].split("\t") == ["sample", "haplotype", "chrom", "start", "end", "ancestry",
                                   "n_sites"]  # fmt: skip
    sites = {}
    for row in rows[1:]:
        sample, hap, _, start, end, anc, k = row.split("\t")
        inside = (positions >= int(start)) & (positions < int(end))
        assert int(k) == inside.sum()
        h = 2 * (int(sample[1:]) - 1) + int(hap)
        assert np.all(ancestry[h, inside] == ["A", "B"].index(anc))
        sites[(sample, hap)] = sites.get((sample, hap), 0) + int(k)
    assert len(sites) == 6 and set(sites.values()) == {300}


@pytest.mark.parametrize("block", [1, 4, 64])
def test_splicing_in_blocks_into_bits_is_the_whole_splice(block):
    from vae_genomics.data.packed import PackedHaplotypes

    rng = np.random.default_rng(5)
    positions = np.sort(rng.choice(np.arange(1, 10_000), size=37, replace=False))
    tracts = adm.draw_tracts(9, 1.0, 10_000.0, np.array([0.2, 0.3, 0.5]), 1e-3, rng)
    sources = [rng.integers(0, 2, size=(9, 37), dtype=np.int8) for _ in range(3)]
    ancestry = adm.ancestry_at_sites(tracts, 9, positions)
    whole = adm.splice(sources, ancestry)
    packed_sources = []
    for source in sources:  # the sources as --admixed draws them: bits
        bits = PackedHaplotypes(9, 37)
        bits.set_rows(0, source)
        packed_sources.append(bits)
    for given in (sources, packed_sources):
        out, sites = adm.splice_in_blocks(given, tracts, positions, block)
        np.testing.assert_array_equal(np.asarray(out), whole)
        np.testing.assert_array_equal(sites, np.bincount(ancestry.ravel(), minlength=3))


def test_sites_outside_the_window_are_refused():
    tracts = adm.draw_tracts(2, 100.0, 200.0, np.array([0.5, 0.5]), 0.01, np.random.default_rng())
    with pytest.raises(ValueError, match="window"):
        adm.ancestry_at_sites(tracts, 2, np.array([50, 150]))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("CEU:0.8", "at least two sources"),
        ("CEU:0.8,YRI:0.3", "sum to 1"),
        ("CEU:0.8,CEU:0.2", "named twice"),
        ("CEU:x,YRI:0.2", "not in (0, 1)"),
        ("CEU=0.8", "NAME:FRACTION"),
    ],
)
def test_bad_proportions_say_why(text, message):
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_proportions(text)
    assert parse_proportions("CEU:0.8, YRI:0.2") == {"CEU": 0.8, "YRI": 0.2}


def test_a_negative_rate_is_refused():
    with pytest.raises(ValueError, match="generations"):
        adm.switch_rate(-1)
