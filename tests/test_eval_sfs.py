"""The unfolded SFS and its hypergeometric projection: scipy reference, closed forms, a hand example."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import hypergeom

from vae_genomics.evaluation.sfs import (
    compare_sfs,
    project_sfs,
    projection_matrix,
    rare_sfs,
    site_frequency_spectrum,
)


def _haplotypes(n: int, n_sites: int, seed: int = 0) -> np.ndarray:
    """0/1 haplotypes whose ALT frequencies spread over (0, 1), rare ones included."""
    rng = np.random.default_rng(seed)
    p = rng.beta(0.3, 1.5, size=n_sites)
    return (rng.random((n, n_sites)) < p).astype(np.int8)


def test_unfolded_spectrum_by_hand():
    x = np.array([[1, 1, 0, 1, 0], [0, 1, 0, 1, 0], [0, 1, 0, 0, 0], [0, 1, 0, 0, 1]])
    # ALT copies per site: 1, 4, 0, 2, 1
    np.testing.assert_array_equal(site_frequency_spectrum(x, folded=False), [1, 2, 1, 0, 1])


def test_projection_matrix_matches_scipy_hypergeom():
    n, m = 9, 4
    ours = projection_matrix(n, m)
    reference = np.array(
        [[hypergeom.pmf(i, n, j, m) for i in range(m + 1)] for j in range(n + 1)]
    )  # scipy: population n, j successes in it, m draws
    np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours.sum(axis=1), 1.0)
    np.testing.assert_allclose(projection_matrix(n, m, np.array([3, 7])), reference[[3, 7]])


def test_one_site_of_two_copies_in_four_projected_to_two_by_hand():
    # C(2,i) C(2,2-i) / C(4,2): 1/6, 4/6, 1/6
    np.testing.assert_allclose(project_sfs(np.array([0, 0, 1, 0, 0]), 2), [1 / 6, 4 / 6, 1 / 6])


def test_projection_to_the_same_size_is_the_identity():
    sfs = site_frequency_spectrum(_haplotypes(30, 400), folded=False)
    projected = project_sfs(sfs, 30)
    np.testing.assert_allclose(projected, sfs, atol=1e-9)
    # so the segregating sites (1..n-1 copies) are kept exactly
    assert projected[1:-1].sum() == pytest.approx(sfs[1:-1].sum())


@pytest.mark.parametrize("m", [1, 7, 29])
def test_projection_keeps_the_sites_and_scales_the_mean_count(m):
    sfs = site_frequency_spectrum(_haplotypes(30, 400, seed=m), folded=False)
    projected = project_sfs(sfs, m)
    assert projected.sum() == pytest.approx(sfs.sum())
    # E[copies among m] = (m / n) * copies among n, site by site
    copies_n = (np.arange(31) * sfs).sum()
    assert (np.arange(m + 1) * projected).sum() == pytest.approx(m / 30 * copies_n)


def test_the_neutral_spectrum_theta_over_j_projects_to_theta_over_i():
    """Sample consistency of the standard neutral SFS: theta/j among n gives theta/i among m."""
    n, m, theta = 60, 17, 3.5
    sfs = np.zeros(n + 1)
    sfs[1:n] = theta / np.arange(1, n)
    projected = project_sfs(sfs, m)
    np.testing.assert_allclose(projected[1:m], theta / np.arange(1, m), rtol=1e-10)


def test_projection_is_the_mean_spectrum_of_random_subsamples():
    x = _haplotypes(24, 300, seed=3)
    m, draws = 8, 4000
    rng = np.random.default_rng(1)
    mean = np.zeros(m + 1)
    for _ in range(draws):
        mean += site_frequency_spectrum(x[rng.choice(24, m, replace=False)], folded=False)
    mean /= draws
    expected = project_sfs(site_frequency_spectrum(x, folded=False), m)
    np.testing.assert_allclose(mean, expected, rtol=0.05, atol=0.5)


def test_large_samples_project_without_overflow():
    sfs = np.zeros(5_001)
    sfs[[1, 50, 2_500, 4_999]] = [100, 10, 5, 1]
    projected = project_sfs(sfs, 1_000)
    assert np.isfinite(projected).all() and projected.sum() == pytest.approx(116)
    i = np.arange(1_001)
    reference = sum(sfs[j] * hypergeom.pmf(i, 5_000, j, 1_000) for j in (1, 50, 2_500, 4_999))
    np.testing.assert_allclose(projected, reference, rtol=1e-9, atol=1e-12)
    assert projected[1] == pytest.approx(100 * 1_000 / 5_000, rel=1e-3)  # singletons: m / n kept


def test_compare_sfs_at_the_smaller_sample_size():
    real = _haplotypes(40, 500, seed=5)
    synthetic = _haplotypes(25, 500, seed=6)
    out = compare_sfs(real, synthetic)
    assert out["sample_size"] == 25
    np.testing.assert_array_equal(out["copies"], np.arange(1, 11))
    expected_real = project_sfs(site_frequency_spectrum(real, folded=False), 25)[1:11]
    expected_syn = site_frequency_spectrum(synthetic, folded=False)[1:11]
    np.testing.assert_allclose(out["real"], expected_real)
    np.testing.assert_allclose(out["synthetic"], expected_syn, atol=1e-9)
    np.testing.assert_allclose(out["relative_error"], expected_syn / expected_real - 1, atol=1e-9)
    same = compare_sfs(real, real)
    assert same["sample_size"] == 40 and np.allclose(same["relative_error"], 0.0)


def test_compare_sfs_bins_and_errors():
    real = np.zeros((6, 3), dtype=np.int8)
    real[0] = 1  # every site a singleton
    out = compare_sfs(real, real, max_copies=10, sample_size=4)
    np.testing.assert_array_equal(out["copies"], [1, 2, 3])  # bins stop below m
    assert np.isnan(out["relative_error"][1:]).all() and out["relative_error"][0] == 0
    with pytest.raises(ValueError, match="variants"):
        compare_sfs(real, real[:, :2])
    with pytest.raises(ValueError, match="sample_size"):
        compare_sfs(real, real[:4], sample_size=5)
    with pytest.raises(ValueError, match="0/1"):
        compare_sfs(real * 2, real)
    with pytest.raises(ValueError, match="cannot project"):
        project_sfs(np.ones(4), 4)


def test_rare_sfs_pools_the_bins_and_takes_the_largest_error_by_hand():
    # 8 haplotypes; ALT copies per site: real 1, 1, 2, 3, 0; synthetic 1, 2, 2, 0, 0
    real = np.zeros((8, 5), dtype=np.int8)
    real[:1, 0] = real[:1, 1] = real[:2, 2] = real[:3, 3] = 1
    synthetic = np.zeros((8, 5), dtype=np.int8)
    synthetic[:1, 0] = synthetic[:2, 1] = synthetic[:2, 2] = 1
    out = rare_sfs(real, synthetic)
    np.testing.assert_array_equal(out["copies"], np.arange(1, 8))  # bins below m = 8
    np.testing.assert_allclose(out["real"][:3], [2, 1, 1])
    np.testing.assert_allclose(out["synthetic"][:3], [1, 2, 0])
    np.testing.assert_allclose(out["relative_error"][:3], [-0.5, 1.0, -1.0])
    assert np.isnan(out["relative_error"][3:]).all()
    assert out["max_abs_relative_error"] == 1.0
    assert out["total_relative_error"] == pytest.approx((3 - 4) / 4)
    nothing = rare_sfs(np.zeros((8, 5), dtype=np.int8), synthetic)  # no real site at 1..7
    assert nothing["max_abs_relative_error"] is None and nothing["total_relative_error"] is None


def test_rare_sfs_is_compare_sfs_at_the_smaller_size():
    real, synthetic = _haplotypes(40, 500, seed=5), _haplotypes(25, 500, seed=6)
    out, ref = rare_sfs(real, synthetic), compare_sfs(real, synthetic)
    assert out["sample_size"] == ref["sample_size"] == 25
    for key in ("copies", "real", "synthetic", "relative_error"):
        np.testing.assert_array_equal(out[key], ref[key])
    assert out["total_relative_error"] == pytest.approx(
        ref["synthetic"].sum() / ref["real"].sum() - 1
    )
