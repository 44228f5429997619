"""Realism and privacy panel: nearest-neighbour distances, AATS, privacy loss, LD decay, SFS."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vae_genomics.evaluation.privacy import (
    aats,
    exact_copy_fraction,
    nn_distances,
    privacy_loss,
    quantiles,
)
from vae_genomics.evaluation.realism import (
    ld_bin_edges,
    ld_decay,
    pairwise_hamming,
    realism_ceiling,
    realism_panel,
    sfs_bins,
    site_frequency_spectrum,
)


def cohort(n: int, n_variants: int = 120, seed: int = 0, flip: float = 0.04) -> np.ndarray:
    """Haplotypes from a fixed generator: one of 6 templates with each site flipped w.p. ``flip``."""
    templates = np.random.default_rng(7).integers(0, 2, (6, n_variants))
    rng = np.random.default_rng(seed)
    rows = templates[rng.integers(0, 6, n)]
    return (rows ^ (rng.random(rows.shape) < flip)).astype(np.int8)


def brute_nn(a: np.ndarray, b: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    d = np.abs(a[:, None, :].astype(int) - b[None, :, :].astype(int)).sum(axis=2).astype(float)
    if exclude_self:
        np.fill_diagonal(d, np.inf)
    return d.min(axis=1)


def test_nn_distances_match_brute_force_in_chunks() -> None:
    a, b = cohort(37, seed=1), cohort(23, seed=2)
    np.testing.assert_array_equal(nn_distances(a, b, chunk_size=5), brute_nn(a, b))
    np.testing.assert_array_equal(
        nn_distances(a, exclude_self=True, chunk_size=4), brute_nn(a, a, exclude_self=True)
    )


def test_nn_distances_self_without_exclusion_is_zero_and_duplicates_stay_zero() -> None:
    a = cohort(10, seed=3)
    assert np.all(nn_distances(a) == 0)
    dup = np.concatenate([a, a[:1]])
    assert nn_distances(dup, exclude_self=True)[0] == 0


def test_nn_distances_reject_non_binary_and_mismatched_widths() -> None:
    with pytest.raises(ValueError, match="0/1"):
        nn_distances(np.full((3, 4), 0.5), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="variants"):
        nn_distances(np.zeros((3, 4)), np.zeros((3, 5)))


def test_aats_hand_example_counts_ties_as_not_distinguished() -> None:
    # real: 000, 001 (distance 1 to each other); synthetic: 111, 110 (distance 1)
    real = np.array([[0, 0, 0], [0, 0, 1]])
    syn = np.array([[1, 1, 1], [1, 1, 0]])
    # d_TS = [2, 2] > d_TT = [1, 1]; d_ST = [2, 2] > d_SS = [1, 1]: fully distinguished
    assert aats(syn, real) == {"aats": 1.0, "aa_truth": 1.0, "aa_synthetic": 1.0}
    # synthetic = real: every nearest distance is a tie (0 vs 1 is not a tie: 0 < 1)
    out = aats(real, real)
    assert out["aats"] == 0.0
    # synthetic 001, 011: real 000 -> nearest syn 1 = d_TT 1 (tie, not counted); real 001 -> 0
    out = aats(np.array([[0, 0, 1], [0, 1, 1]]), real)
    assert out["aa_truth"] == 0.0
    # syn 001 -> d_ST 0 < d_SS 1; syn 011 -> d_ST 1 = d_SS 1 (tie)
    assert out["aa_synthetic"] == 0.0


def test_one_pass_distances_equal_the_brute_force_nearest_rows() -> None:
    """nn_cross gives both directions of one matrix; a draw's distances give the privacy loss
    that AATS computed set by set gives."""
    from vae_genomics.common.hamming import nn_cross
    from vae_genomics.evaluation.privacy import draw_distances, privacy_loss_from_distances

    a, b = cohort(70, seed=3), cohort(45, seed=4)
    brute = np.abs(a[:, None, :].astype(int) - b[None, :, :]).sum(axis=2)
    a_to_b, b_to_a = nn_cross(a, b, chunk_size=16)
    np.testing.assert_array_equal(a_to_b, brute.min(axis=1))
    np.testing.assert_array_equal(b_to_a, brute.min(axis=0))
    syn, train, held = cohort(40, seed=5), cohort(40, seed=6), cohort(40, seed=7)
    syn[:10] = train[:10]  # some copies: the two AATS differ
    d = draw_distances(syn, train, held, chunk_size=16)
    want_held, want_train = aats(syn, held)["aats"], aats(syn, train)["aats"]
    assert privacy_loss_from_distances(d) == {
        "aats_heldout": want_held,
        "aats_train": want_train,
        "privacy_loss": want_held - want_train,
    }
    np.testing.assert_array_equal(d.train_to_synthetic, nn_distances(train, syn))
    with pytest.raises(ValueError, match="training subset of 39"):
        draw_distances(syn, train[:39], held)


def test_draws_read_from_whole_matrices_equal_each_draw_computed_alone(monkeypatch) -> None:
    from vae_genomics.evaluation import privacy
    from vae_genomics.evaluation.privacy import draw_distances, repeated_draw_distances

    syn, train, held = cohort(60, seed=8), cohort(150, seed=9), cohort(55, seed=10)
    syn[:5] = held[:5]  # exact ties across the sets
    rng = np.random.default_rng(0)
    rows = [
        tuple(np.sort(rng.choice(len(x), 50, replace=False)) for x in (syn, held, train))
        for _ in range(3)
    ]
    for limit in (10_000, 10):  # whole matrices, then draw by draw
        monkeypatch.setattr(privacy, "WHOLE_MAX_ROWS", limit)
        got = repeated_draw_distances(syn, train, held, rows, chunk_size=16)
        for d, (s, h, t) in zip(got, rows, strict=True):
            want = draw_distances(syn[s], train[t], held[h])
            for field, value in d._asdict().items():
                np.testing.assert_array_equal(value, getattr(want, field), err_msg=field)
                assert value.dtype == np.float64


def test_aats_needs_equal_sizes() -> None:
    with pytest.raises(ValueError, match="same size"):
        aats(cohort(5), cohort(6))


def test_copies_of_training_give_privacy_loss_equal_to_heldout_aats_and_copy_fraction_one() -> None:
    train, heldout = cohort(200, seed=1), cohort(200, seed=2)
    synthetic = train[np.random.default_rng(0).permutation(200)]
    out = privacy_loss(synthetic, train, heldout)
    assert out["aats_train"] == 0.0
    assert out["privacy_loss"] == pytest.approx(out["aats_heldout"])
    assert out["privacy_loss"] > 0.3
    assert exact_copy_fraction(synthetic, train) == 1.0


def test_independent_draws_score_like_the_ceiling_and_noise_scores_one() -> None:
    # wide and noisy enough that nearest-neighbour distances rarely tie (ties lower AATS below 0.5)
    train, heldout = cohort(800, 2000, seed=1, flip=0.2), cohort(300, 2000, seed=2, flip=0.2)
    draws = cohort(300, 2000, seed=3, flip=0.2)
    panel = realism_panel(draws, train, heldout, seed=0)
    ceiling = realism_ceiling(train, heldout, seed=0)
    assert panel["n"] == ceiling["n"] == 300
    assert panel["aats_heldout"] == pytest.approx(0.5, abs=0.04)
    assert panel["aats_heldout"] == pytest.approx(ceiling["aats_heldout"], abs=0.04)
    assert abs(panel["privacy_loss"]) < 0.04
    assert abs(ceiling["privacy_loss"]) < 0.04
    assert panel["exact_copy_fraction"] == 0.0


def test_the_panel_compares_the_sites_at_1_to_10_copies_with_the_held_out_ones() -> None:
    from vae_genomics.evaluation.sfs import rare_sfs

    freq = np.random.default_rng(0).beta(0.3, 3.0, size=300)  # many sites at a few copies
    train, heldout, draws = (
        (np.random.default_rng(seed).random((n, 300)) < freq).astype(np.int8)
        for seed, n in ((1, 400), (2, 150), (3, 150))
    )
    rare = realism_panel(draws, train, heldout, seed=0)["sfs"]["rare"]
    expected = rare_sfs(heldout, draws)  # the panel's n is both sets' size: every row compared
    assert rare["sample_size"] == 150 and rare["copies"] == list(range(1, 11))
    np.testing.assert_allclose(rare["real"], expected["real"])
    np.testing.assert_allclose(rare["synthetic"], expected["synthetic"])
    assert rare["total_relative_error"] == pytest.approx(expected["total_relative_error"])
    assert sum(expected["real"]) > 50  # the bins hold sites: the numbers are not vacuous
    same = realism_panel(heldout, train, heldout, seed=0)["sfs"]["rare"]
    assert same["total_relative_error"] == 0.0 and same["max_abs_relative_error"] == 0.0


def test_uniform_noise_is_told_apart_from_structured_haplotypes() -> None:
    train, heldout = cohort(400, 1000, seed=1, flip=0.01), cohort(200, 1000, seed=2, flip=0.01)
    draws = cohort(200, 1000, seed=3, flip=0.01)
    noise = np.random.default_rng(4).integers(0, 2, draws.shape)
    noisy = realism_panel(noise, train, heldout, seed=0)
    panel = realism_panel(draws, train, heldout, seed=0)
    # every real haplotype is nearer another real one than any noise row (AA_truth = 1); a noise
    # row is at Binomial(d, 1/2) from every 0/1 row, so its nearest-noise and nearest-real
    # distances only differ through the real rows' clustering: AA_synthetic ~0.9, not 1
    direct = aats(noise, heldout)
    assert direct["aa_truth"] == 1.0
    assert direct["aats"] > 0.9
    assert noisy["aats_heldout"] > 0.9
    assert noisy["aats_heldout"] - panel["aats_heldout"] > 0.4
    assert noisy["pairwise"]["wasserstein"] > 10 * max(panel["pairwise"]["wasserstein"], 0.1)
    assert noisy["nn_train"]["q50"] > 5 * panel["nn_train"]["q50"]


def test_exact_copy_fraction_counts_rows() -> None:
    train = np.array([[0, 1, 0], [1, 1, 1]])
    cand = np.array([[0, 1, 0], [0, 0, 0], [1, 1, 1], [1, 0, 1]])
    assert exact_copy_fraction(cand, train) == 0.5


def test_quantiles_of_a_range() -> None:
    q = quantiles(np.arange(11.0))
    assert q["q50"] == 5.0 and q["q10"] == 1.0 and q["mean"] == 5.0


def test_ld_decay_closed_form() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, 4000)
    b = rng.integers(0, 2, 4000)
    # sites 0,1 identical (distance 10 bp), 2,3 identical (10 bp); the two blocks are independent
    # and 1000 bp apart
    x = np.stack([a, a, b, b], axis=1)
    positions = np.array([0, 10, 1000, 1010])
    edges = np.array([0.0, 100.0, 2000.0])
    decay = ld_decay(x, positions, edges)
    assert decay[0] == pytest.approx(1.0)
    assert decay[1] == pytest.approx(0.0, abs=2e-3)
    # a monomorphic site contributes no pair
    x2 = np.concatenate([x, np.zeros((4000, 1), int)], axis=1)
    decay2 = ld_decay(x2, np.append(positions, 5), edges)
    assert decay2[0] == pytest.approx(1.0)


def test_ld_bin_edges_cover_the_span() -> None:
    edges = ld_bin_edges(np.array([100, 200, 300, 5000]), 4)
    assert edges[0] == 0 and edges[1] == 100 and edges[-1] > 4900
    assert np.all(np.diff(edges) > 0)


def test_site_frequency_spectrum_counts() -> None:
    x = np.array([[1, 0, 1, 1], [1, 0, 0, 1], [0, 0, 0, 1]])  # ALT counts 2, 0, 1, 3
    np.testing.assert_array_equal(site_frequency_spectrum(x, folded=False), [1, 1, 1, 1])
    np.testing.assert_array_equal(site_frequency_spectrum(x, folded=True), [2, 2])
    fractions = sfs_bins(np.array([2, 2, 1, 3, 2]))
    assert fractions.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(fractions, [0.2, 0.2, 0.1, 0.5])


def test_pairwise_hamming_matches_brute_force() -> None:
    x = cohort(13, seed=5)
    expected = [np.abs(x[i] - x[j]).sum() for i in range(13) for j in range(i + 1, 13)]
    np.testing.assert_array_equal(np.sort(pairwise_hamming(x, chunk_size=4)), np.sort(expected))


def test_panel_is_json_safe_and_checks_widths() -> None:
    train, heldout = cohort(100, seed=1), cohort(60, seed=2)
    panel = realism_panel(cohort(60, seed=3), train, heldout, np.arange(120) * 50, seed=1)
    json.dumps(panel, allow_nan=False)
    assert len(panel["ld_decay"]["heldout"]) == len(panel["ld_decay"]["edges"]) - 1
    assert 0 <= panel["sfs"]["tv_distance"] <= 1
    with pytest.raises(ValueError, match="different numbers of variants"):
        realism_panel(cohort(60, 100), train, heldout)
    with pytest.raises(ValueError, match="positions"):
        realism_panel(cohort(60), train, heldout, np.arange(5))


def test_privacy_repeats_of_sets_with_exactly_n_rows_coincide() -> None:
    train, heldout, synthetic = cohort(80, seed=1), cohort(80, seed=2), cohort(80, seed=3)
    panel = realism_panel(synthetic, train, heldout, seed=0, size=80, privacy_repeats=4)
    direct = privacy_loss(synthetic, train, heldout)
    assert panel["privacy_repeats"] == 4
    assert panel["privacy_loss"] == pytest.approx(direct["privacy_loss"])
    assert panel["aats_train"] == pytest.approx(direct["aats_train"])
    assert panel["privacy_loss_sd"] == 0.0
    with pytest.raises(ValueError, match="privacy_repeats"):
        realism_panel(synthetic, train, heldout, privacy_repeats=0)


def test_privacy_repeats_shrink_the_spread_over_seeds() -> None:
    train, heldout = cohort(800, 300, seed=1, flip=0.1), cohort(600, 300, seed=2, flip=0.1)
    synthetic = cohort(600, 300, seed=3, flip=0.1)

    def losses(repeats: int) -> np.ndarray:
        return np.array(
            [
                realism_panel(synthetic, train, heldout, seed=s, privacy_repeats=repeats)
                for s in range(10)
            ]
        )

    one = [p["privacy_loss"] for p in losses(1)]
    many = losses(8)
    assert all(p["n"] == 400 and p["privacy_loss_sd"] > 0 for p in many)
    assert np.std([p["privacy_loss"] for p in many]) < 0.6 * np.std(one)
