"""Precision/recall/density/coverage against brute-force Naeem et al. (2020) formulas and known answers."""

import numpy as np
import pytest

from vae_genomics.evaluation.prdc import kth_neighbour_distances, pairwise_distances, prdc


def _dist(a, b, metric):
    diff = a[:, None, :].astype(np.float64) - b[None, :, :]
    if metric == "euclidean":
        return np.sqrt((diff**2).sum(-1))
    return np.abs(diff).sum(-1)


def _reference_prdc(real, fake, k, metric):
    """The four formulas written out with full distance matrices (closed balls)."""
    d_rr = _dist(real, real, metric)
    d_ff = _dist(fake, fake, metric)
    np.fill_diagonal(d_rr, np.inf)
    np.fill_diagonal(d_ff, np.inf)
    r_real = np.sort(d_rr, axis=1)[:, k - 1]
    r_fake = np.sort(d_ff, axis=1)[:, k - 1]
    d = _dist(real, fake, metric)  # (N, M)
    precision = np.mean(
        [any(d[i, j] <= r_real[i] for i in range(len(real))) for j in range(len(fake))]
    )
    recall = np.mean(
        [any(d[i, j] <= r_fake[j] for j in range(len(fake))) for i in range(len(real))]
    )
    density = sum(d[i, j] <= r_real[i] for i in range(len(real)) for j in range(len(fake)))
    coverage = np.mean([d[i].min() <= r_real[i] for i in range(len(real))])
    return {
        "precision": precision,
        "recall": recall,
        "density": density / (k * len(fake)),
        "coverage": coverage,
    }


@pytest.mark.parametrize("kind", ["gaussian", "binary", "binary_vs_probabilities", "probabilities"])
def test_prdc_matches_brute_force_reference(rng, kind):
    if kind == "gaussian":
        real, fake, metric = (
            rng.normal(size=(37, 3)),
            rng.normal(0.4, 1.3, size=(29, 3)),
            "euclidean",
        )
    else:
        metric = "hamming"
        real = (rng.random((37, 15)) < 0.3).astype(np.int8)
        fake = (rng.random((29, 15)) < 0.4).astype(np.int8)
        if kind != "binary":
            fake = rng.beta(0.5, 0.5, size=(29, 15))
        if kind == "probabilities":
            real = rng.beta(0.5, 0.5, size=(37, 15))
    for k in (1, 3, 5):
        got = prdc(real, fake, k=k, metric=metric, chunk_size=7)  # several chunks
        want = _reference_prdc(real, fake, k, metric)
        for key in want:
            assert got[key] == pytest.approx(want[key], abs=1e-12), (kind, k, key)


def test_kth_neighbour_distance_excludes_self_and_counts_duplicates():
    x = np.array([[0, 0, 0], [0, 0, 0], [1, 0, 0], [1, 1, 1]], dtype=np.int8)
    np.testing.assert_array_equal(kth_neighbour_distances(x, k=1, metric="hamming"), [0, 0, 1, 2])
    np.testing.assert_array_equal(kth_neighbour_distances(x, k=2, metric="hamming"), [1, 1, 1, 3])


def test_hamming_is_l1_and_expected_hamming_for_probabilities(rng):
    x = (rng.random((6, 30)) < 0.5).astype(np.int8)
    p = rng.random((4, 30))
    np.testing.assert_allclose(pairwise_distances(x, p, "hamming"), _dist(x, p, "hamming"))
    # expected Hamming distance to Bernoulli draws from p, by Monte Carlo
    draws = rng.random((4000, *p.shape)) < p
    mc = np.abs(x[:, None, None, :] - draws[None]).sum(-1).mean(axis=1)
    np.testing.assert_allclose(pairwise_distances(x, p, "hamming"), mc, atol=0.3)


def test_identical_clouds_score_one_and_density_is_k_plus_one_over_k(rng):
    x = rng.normal(size=(200, 4))
    k = 5
    got = prdc(x, x.copy(), k=k)
    assert got["precision"] == got["recall"] == got["coverage"] == 1.0
    # each real ball holds its own copy plus its k neighbours' copies (no ties)
    assert got["density"] == pytest.approx((k + 1) / k)


def test_identical_haplotypes_with_duplicates_are_covered(rng):
    real = (rng.random((60, 20)) < 0.5).astype(np.int8)
    real = np.concatenate([real, real[:30]])  # duplicate haplotypes: some radii are 0
    got = prdc(real, real.copy(), k=1, metric="hamming")
    assert got["precision"] == got["recall"] == got["coverage"] == 1.0


def test_same_distribution_matches_naeem_expectations(rng):
    n, k = 1000, 5
    got = prdc(rng.normal(size=(n, 2)), rng.normal(size=(n, 2)), k=k)
    # Naeem et al. 2020: E[density] = 1 and E[coverage] = 1 - prod_i (N - i) / (M + N - i)
    expected_coverage = 1 - np.prod([(n - i) / (2 * n - i) for i in range(1, k + 1)])
    assert got["density"] == pytest.approx(1.0, abs=0.08)
    assert got["coverage"] == pytest.approx(expected_coverage, abs=0.025)
    assert got["precision"] > 0.95 and got["recall"] > 0.95


def test_collapsed_cloud_has_low_recall_and_coverage(rng):
    real = rng.normal(size=(400, 2))
    fake = real[0] + 1e-4 * rng.normal(size=(400, 2))  # everything on one real point
    got = prdc(real, fake, k=5)
    assert got["precision"] == 1.0  # the fakes are plausible...
    assert got["recall"] < 0.02  # ...but cover almost nothing
    assert got["coverage"] < 0.03


def test_rejects_bad_input(rng):
    with pytest.raises(ValueError, match="k must be"):
        prdc(rng.normal(size=(5, 2)), rng.normal(size=(5, 2)), k=5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        prdc(rng.normal(size=(9, 2)), rng.normal(size=(9, 2)), k=2, metric="hamming")
