"""Allele-frequency and LD (r²) agreement against numpy references."""

import numpy as np
import pytest

from vae_genomics.evaluation.popgen import (
    allele_frequency_agreement,
    ld_agreement,
    ld_r2_band,
)


def _haplotypes(rng, n=300, n_variants=40):
    """Blocks of linked sites: each site copies its left neighbour with probability 0.8."""
    x = np.empty((n, n_variants), dtype=np.int8)
    x[:, 0] = rng.random(n) < 0.4
    for j in range(1, n_variants):
        copy = rng.random(n) < 0.8
        x[:, j] = np.where(copy, x[:, j - 1], rng.random(n) < 0.5)
    return x


def test_r2_band_matches_corrcoef(rng):
    x = _haplotypes(rng, n_variants=12)
    x[:, 5] = 0  # monomorphic: r² undefined
    band = ld_r2_band(x, max_offset=4)
    assert band.shape == (12, 4)
    with np.errstate(invalid="ignore", divide="ignore"):
        full = np.corrcoef(x.T.astype(float)) ** 2
    for j in range(12):
        for d in range(1, 5):
            want = full[j, j + d] if j + d < 12 else np.nan
            np.testing.assert_allclose(band[j, d - 1], want, atol=1e-12, equal_nan=True)
    assert np.isnan(band[5]).all() and np.isnan(band[4, 0])


def test_identical_data_agree_perfectly(rng):
    x = _haplotypes(rng)
    af = allele_frequency_agreement(x, x.copy())
    assert af == {"pearson_r": pytest.approx(1.0), "rmse": 0.0, "max_abs_diff": 0.0}
    ld = ld_agreement(x, x.copy(), max_offset=5)
    assert ld["pearson_r"] == pytest.approx(1.0) and ld["rmse"] == 0.0
    assert ld["mean_r2_reference"] == ld["mean_r2_candidate"]
    assert ld["n_pairs"] == sum(40 - d for d in range(1, 6))


def test_agreement_numbers_match_numpy(rng):
    a, b = _haplotypes(rng), _haplotypes(rng, n=200)
    p, q = a.mean(0), b.mean(0)
    af = allele_frequency_agreement(a, b)
    assert af["pearson_r"] == pytest.approx(np.corrcoef(p, q)[0, 1])
    assert af["rmse"] == pytest.approx(np.sqrt(np.mean((p - q) ** 2)))
    assert af["max_abs_diff"] == pytest.approx(np.abs(p - q).max())
    ra, rb = ld_r2_band(a, 3), ld_r2_band(b, 3)
    ok = ~np.isnan(ra) & ~np.isnan(rb)
    ld = ld_agreement(a, b, max_offset=3)
    assert ld["pearson_r"] == pytest.approx(np.corrcoef(ra[ok], rb[ok])[0, 1])
    assert ld["rmse"] == pytest.approx(np.sqrt(np.mean((ra[ok] - rb[ok]) ** 2)))


def test_linkage_destroyed_by_shuffling_columns_independently(rng):
    x = _haplotypes(rng, n=2000)
    shuffled = np.stack([rng.permutation(col) for col in x.T], axis=1)  # same AF, no LD
    assert allele_frequency_agreement(x, shuffled)["rmse"] == 0.0
    ld = ld_agreement(x, shuffled, max_offset=2)
    assert ld["mean_r2_reference"] > 0.3
    assert ld["mean_r2_candidate"] < 0.01


def test_constant_candidate_has_no_ld_pairs(rng):
    x = _haplotypes(rng)
    ld = ld_agreement(x, np.tile(x.mean(0), (10, 1)))
    assert ld["n_pairs"] == 0 and np.isnan(ld["pearson_r"])
