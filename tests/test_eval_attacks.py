"""Attack-based privacy metrics: AUC, TPR at low FPR, distance attack, KING-robust kinship, NN flags."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from vae_genomics.common.hamming import nn_distances
from vae_genomics.evaluation.attacks import (
    KING_DEGREES,
    distance_attack,
    genotypes,
    king_robust,
    kinship_attack,
    kinship_counts,
    likelihood_attack,
    nn_flags,
    nn_flags_from_distances,
    repeated_distance_attack,
    roc_auc,
    tpr_at_fpr,
)
from vae_genomics.evaluation.realism import realism_ceiling, realism_panel


def population(n: int, n_sites: int, seed: int, freq_seed: int = 0) -> np.ndarray:
    """0/1 haplotypes of one population in linkage equilibrium (fixed allele frequencies)."""
    freqs = np.random.default_rng(freq_seed).uniform(0.05, 0.95, n_sites)
    return (np.random.default_rng(seed).random((n, n_sites)) < freqs).astype(np.int8)


def brute_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def brute_king(g_i: np.ndarray, g_j: np.ndarray, between_family: bool) -> float:
    both_het = opposite = het_i = het_j = 0
    for a, b in zip(g_i.tolist(), g_j.tolist(), strict=True):
        both_het += a == 1 and b == 1
        opposite += {a, b} == {0, 2}
        het_i += a == 1
        het_j += b == 1
    if between_family:
        low = min(het_i, het_j)
        return 0.5 + (2 * both_het - 4 * opposite - het_i - het_j) / (4 * low)
    return (both_het - 2 * opposite) / (het_i + het_j)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_auc_matches_pairwise_count_and_sklearn_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pos = rng.integers(0, 6, 57).astype(float) + (seed == 2)  # integer scores: many ties
    neg = rng.integers(0, 6, 43).astype(float)
    expected = brute_auc(pos, neg)
    assert roc_auc(pos, neg) == pytest.approx(expected, abs=1e-12)
    labels = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    assert roc_auc(pos, neg) == pytest.approx(roc_auc_score(labels, np.r_[pos, neg]), abs=1e-12)


def test_roc_auc_extremes() -> None:
    assert roc_auc([3.0, 4.0], [1.0, 2.0]) == 1.0
    assert roc_auc([1.0, 2.0], [3.0, 4.0]) == 0.0
    assert roc_auc([1.0, 1.0], [1.0]) == 0.5
    with pytest.raises(ValueError, match="no scores"):
        roc_auc([], [1.0])


def test_tpr_at_fpr_hand_built() -> None:
    neg = np.arange(100.0)  # 0..99: one non-member per 1% of false positives
    pos = np.array([100.0, 101.0, 98.5, 50.5])
    # t = 100: (FPR 0, TPR 2/4); t = 99: (0.01, 2/4); t = 98.5: (0.01, 3/4); t = 98: (0.02, 3/4)
    assert tpr_at_fpr(pos, neg, 0.0) == 0.5
    assert tpr_at_fpr(pos, neg, 0.01) == 0.75
    assert tpr_at_fpr(pos, neg, 0.015) == 0.75
    # t = 50.5: (0.49, 1); 0.49 is reached from (0.49, 3/4) at t = 51
    assert tpr_at_fpr(pos, neg, 0.48) == 0.75
    assert tpr_at_fpr(pos, neg, 0.49) == 1.0
    # a tie of every member with 2 of 100 non-members: the ROC's straight segment (0,0)-(0.02,1)
    assert tpr_at_fpr([5.0, 5.0], np.r_[5.0, 5.0, np.zeros(98)], 0.01) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="fpr"):
        tpr_at_fpr(pos, neg, 1.5)


def test_tpr_at_fpr_matches_brute_force_thresholds_without_ties() -> None:
    rng = np.random.default_rng(3)
    pos, neg = rng.normal(1.0, 1.0, 300), rng.normal(0.0, 1.0, 200)
    for fpr in (0.0, 0.01, 0.05, 0.5):
        # with 200 distinct non-member scores every multiple of 1/200 is a point of the curve
        best = max(np.mean(pos >= t) for t in np.r_[pos, neg, np.inf] if np.mean(neg >= t) <= fpr)
        assert tpr_at_fpr(pos, neg, fpr) == pytest.approx(best)


def test_likelihood_attack_scores_minus_nll() -> None:
    rng = np.random.default_rng(0)
    nll_members, nll_nonmembers = rng.normal(90, 5, 500), rng.normal(100, 5, 400)
    out = likelihood_attack(nll_members, nll_nonmembers)
    assert out["auc"] == pytest.approx(roc_auc(-nll_members, -nll_nonmembers))
    assert out["auc"] > 0.85
    assert out["tpr_at_fpr"] == pytest.approx(tpr_at_fpr(-nll_members, -nll_nonmembers, 0.01))
    same = likelihood_attack(rng.normal(100, 5, 2000), rng.normal(100, 5, 2000))
    assert same["auc"] == pytest.approx(0.5, abs=0.03)


def test_genotypes_sum_consecutive_pairs() -> None:
    x = np.array([[0, 1, 1], [0, 0, 1], [1, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(genotypes(x), [[0, 1, 2], [2, 1, 0]])
    with pytest.raises(ValueError, match="even"):
        genotypes(x[:3])


@pytest.mark.parametrize("between_family", [False, True])
def test_king_robust_matches_a_per_pair_loop_in_chunks(between_family: bool) -> None:
    g_a = genotypes(population(14, 150, seed=1))
    g_b = genotypes(population(10, 150, seed=2))
    g_b[0] = g_a[0]  # a duplicate pair
    phi = king_robust(g_a, g_b, between_family=between_family, chunk_size=3)
    expected = [[brute_king(a, b, between_family) for b in g_b] for a in g_a]
    np.testing.assert_allclose(phi, expected, atol=1e-12)
    assert phi[0, 0] == 0.5


def test_king_robust_of_relatives_and_unrelated() -> None:
    n_sites = 20_000
    h = population(8, n_sites, seed=5)
    parent, other, child = h[[0, 1]], h[[2, 3]], h[[0, 2]]  # one haplotype of each parent
    g = genotypes(np.concatenate([parent, child, other, h[4:8]]))  # parent, child, other, 2 more
    phi = king_robust(g, g)
    assert np.allclose(np.diag(phi), 0.5)
    assert phi[0, 1] == pytest.approx(0.25, abs=0.02)  # parent-offspring
    assert phi[1, 2] == pytest.approx(0.25, abs=0.02)
    assert phi[0, 2] == pytest.approx(0.0, abs=0.02)  # the two parents: unrelated
    unrelated = phi[np.ix_([0, 1, 2], [3, 4])]
    np.testing.assert_allclose(unrelated, 0.0, atol=0.02)


def test_kinship_counts_bins_by_degree() -> None:
    h = population(12, 5000, seed=6)
    # a: duplicate of b0, child of b1's first haplotype, unrelated, all-homozygous
    g_b = genotypes(h[:6])
    g_a = genotypes(np.concatenate([h[[0, 1]], h[[2, 8]], h[[9, 10]], h[[11, 11]]]))
    counts = kinship_counts(g_a, g_b, chunk_size=2)
    assert set(counts) == set(KING_DEGREES)
    assert counts["duplicate"] == 1 and counts["first"] == 1
    assert counts["second"] == counts["third"] == 0
    phi = king_robust(g_a, g_b)
    assert phi[0, 0] > KING_DEGREES["duplicate"]
    assert KING_DEGREES["first"] < phi[1, 1] <= KING_DEGREES["duplicate"]


def test_kinship_attack_finds_copied_individuals_beside_the_reference() -> None:
    train, heldout = population(200, 2000, seed=1), population(100, 2000, seed=2)
    copies = np.concatenate([train[:40], population(60, 2000, seed=3)])
    out = kinship_attack(copies, train, heldout, chunk_size=16)
    assert out["set"]["duplicate"] == 20  # the 20 copied pairs of training rows
    # unrelated pairs: phi about 0 with SD about 0.02 on 2,000 sites, so a few reach the third
    # degree (phi > 0.044) by chance, none the second
    assert out["heldout"]["duplicate"] == out["heldout"]["first"] == out["heldout"]["second"] == 0
    assert out["set"]["first"] == out["set"]["second"] == 0
    assert out["set_pairs"] == out["heldout_pairs"] == 50 * 100
    # copies of single haplotypes, each paired with a fresh one: first degree
    halves = np.stack([train[0:80:2], population(40, 2000, seed=4)], axis=1).reshape(80, -1)
    assert kinship_attack(halves, train, heldout)["set"]["first"] == 40


def test_distance_attack_on_copies_and_on_independent_draws() -> None:
    train, heldout = population(1200, 300, seed=1), population(1000, 300, seed=2)
    copies = train[np.random.default_rng(0).permutation(1200)]
    leak = distance_attack(copies, train, heldout, seed=0)
    assert leak["n"] == 1000
    # every member (1000 of the 1200 training rows) at distance 0, no non-member
    assert leak["auc"] == 1.0
    assert leak["tpr_at_fpr"] == 1.0
    # half the training rows copied: half the members at 0, the others like non-members
    half = distance_attack(copies[:600], train, heldout, seed=0)
    assert half["auc"] == pytest.approx(0.75, abs=0.03)
    assert half["tpr_at_fpr"] == pytest.approx(0.5, abs=0.05)
    fresh = distance_attack(population(1000, 300, seed=3), train, heldout, seed=0)
    assert fresh["auc"] == pytest.approx(0.5, abs=0.05)
    assert fresh["tpr_at_fpr"] < 0.05


def test_nn_flags_on_copies_and_on_independent_draws() -> None:
    train, heldout = population(1000, 300, seed=1), population(1000, 300, seed=2)
    copies = nn_flags(train[:500], train, heldout)
    assert copies["fraction"] == 1.0
    assert copies["heldout_fraction"] < 0.03
    fresh = nn_flags(population(1000, 300, seed=3), train, heldout, seed=1)
    assert fresh["fraction"] < 0.03
    assert fresh["threshold"] > 0


def test_nn_flags_from_distances_hand_built() -> None:
    d_heldout = np.r_[np.full(100, 4.0), np.full(100, 9.0)]
    d_set = np.array([0.0, 3.0, 4.0, 50.0])
    out = nn_flags_from_distances(d_set, d_heldout, seed=0)
    order = np.random.default_rng(0).permutation(200)
    first, second = np.sort(d_heldout[order[:100]]), d_heldout[order[100:]]
    assert first[0] == first[1] == 4.0  # so the threshold is 4: strictly below it is flagged
    assert out["threshold"] == 4.0
    assert out["fraction"] == 0.5
    assert out["heldout_fraction"] == 0.0  # ties with the threshold are not flagged
    assert np.mean(second < 4.0) == 0.0
    spread = nn_flags_from_distances(d_set, np.arange(200.0), seed=1)
    half = np.sort(np.arange(200.0)[np.random.default_rng(1).permutation(200)[:100]])
    assert spread["threshold"] == pytest.approx(half[0] + 0.99 * (half[1] - half[0]))
    with pytest.raises(ValueError, match="held-out"):
        nn_flags_from_distances(np.zeros(3), np.zeros(1))


def test_panel_and_ceiling_carry_the_attack_numbers() -> None:
    train, heldout = population(600, 2000, seed=1), population(300, 2000, seed=2)
    copies = train[:300]  # 150 training individuals, copied whole
    leak = realism_panel(copies, train, heldout, seed=0)
    fresh = realism_panel(population(300, 2000, seed=3), train, heldout, seed=0)
    ceiling = realism_ceiling(train, heldout, seed=0)
    for panel in (leak, fresh, ceiling):
        json.dumps(panel, allow_nan=False)
        assert panel["n"] == 300
        assert panel["kinship_pairs"] == 150 * (150 if panel is ceiling else 300)
    # the members are 300 of the 600 training rows: about half of them copied (distance 0)
    assert leak["distance_attack_auc"] > 0.7
    assert leak["distance_attack_tpr_at_1pct_fpr"] > 0.4
    assert leak["nn_flag_fraction"] == 1.0
    assert leak["kinship_train"]["duplicate"] == 150
    for panel in (fresh, ceiling):
        assert panel["distance_attack_auc"] == pytest.approx(0.5, abs=0.07)
        assert panel["nn_flag_fraction"] < 0.05
        assert panel["kinship_train"]["duplicate"] == panel["kinship_train"]["first"] == 0
    for panel in (leak, fresh, ceiling):
        reference = panel["heldout_kinship_train"]
        assert reference["duplicate"] == reference["first"] == 0
        assert panel["heldout_nn_flag_fraction"] < 0.05


def test_report_table_shows_the_attack_rows_beside_the_ceiling() -> None:
    from vae_genomics.report.html import fmt
    from vae_genomics.report.realism_table import realism_section

    train, heldout = population(200, 300, seed=1), population(100, 300, seed=2)
    copies = realism_panel(train[:100], train, heldout, seed=0)
    ceiling = realism_ceiling(train, heldout, seed=0)
    old = {k: v for k, v in copies.items() if "attack" not in k and "kinship" not in k}
    summary = {"realism": {"ceiling": ceiling, "sets": {"generated_samples": copies, "old": old}}}
    page = realism_section(summary)
    for label in ("distance attack: AUC", "TPR at 1% FPR", "KING relatives", "nearer training"):
        assert label in page
    for value in (ceiling["distance_attack_auc"], copies["distance_attack_tpr_at_1pct_fpr"]):
        assert f">{fmt(value)}<" in page
    kin = copies["kinship_train"]
    assert f">{kin['duplicate']} / {kin['first']} / {kin['second']}<" in page
    assert kin["duplicate"] == 50
    assert f">{copies['kinship_pairs']}<" in page and copies["kinship_pairs"] == 50 * 100
    # a panel from before the attacks: its cells read "—", the others are untouched
    row = page[page.index("distance attack: AUC") :].split("</tr>")[0]
    assert row.count("—") == 1


def test_repeated_distance_attack_averages_every_draw() -> None:
    train, heldout = population(400, 200, seed=1), population(300, 200, seed=2)
    copies = train[:150]
    draws = [
        (copies, train[i * 100 : i * 100 + 100], heldout[i * 100 : i * 100 + 100]) for i in range(3)
    ]
    first = distance_attack(*draws[0], seed=0)
    panel = {
        "distance_attack_auc": first["auc"],
        "distance_attack_tpr_at_1pct_fpr": first["tpr_at_fpr"],
    }
    scores = [(nn_distances(t, s), nn_distances(h, s)) for s, t, h in draws[1:]]
    got = repeated_distance_attack(panel, scores)
    aucs = [first["auc"], *(distance_attack(*d, seed=0)["auc"] for d in draws[1:])]
    assert got["distance_attack_auc"] == pytest.approx(np.mean(aucs))
    assert got["distance_attack_auc_sd"] == pytest.approx(np.std(aucs, ddof=1))
    # members 0-149 are copied: the draws holding them score high, the last one does not
    assert aucs[0] == 1.0 and aucs[2] == pytest.approx(0.5, abs=0.15)
    assert repeated_distance_attack(panel, []) == {
        "distance_attack_auc": first["auc"],
        "distance_attack_auc_sd": 0.0,
        "distance_attack_tpr_at_1pct_fpr": first["tpr_at_fpr"],
    }


def test_likelihood_attack_numbers_find_a_model_that_memorised(monkeypatch) -> None:
    """A stand-in likelihood that is lower for training rows: the attack sees it, the reference
    (held-out half against held-out half) does not."""
    from vae_genomics.evaluation import model_attack as steps

    train, heldout = population(300, 50, seed=1), population(200, 50, seed=2)
    seen = {row.tobytes() for row in train}

    def fake_nll(model, x, n_samples, seed):
        nll = np.array([10.0 if row.tobytes() in seen else 12.0 for row in x])
        return {"nll": nll.mean(), "neg_elbo": nll.mean(), "per_haplotype": nll}

    monkeypatch.setattr(steps, "importance_weighted_nll", fake_nll)
    nll_heldout = fake_nll(None, heldout, 5, 0)["per_haplotype"]
    got = steps.likelihood_attack_numbers(None, train, nll_heldout, n_samples=5, seed=3)
    assert got["auc"] == 1.0 and got["tpr_at_1pct_fpr"] == 1.0 and got["auc_sd"] == 0.0
    assert got["reference_auc"] == 0.5  # every held-out score ties
    assert got["n"] == 100 and got["members_nll"] == 10.0 and got["heldout_nll"] == 12.0
    again = steps.likelihood_attack_numbers(None, train, nll_heldout, n_samples=5, seed=3)
    assert again == got


def test_distance_attack_from_distances_is_the_attack_and_needs_equal_classes() -> None:
    from vae_genomics.evaluation.attacks import distance_attack_from_distances

    train, heldout = population(300, 120, seed=1), population(200, 120, seed=2)
    copies = train[:100]
    want = distance_attack(copies, train[:200], heldout, seed=0)
    got = distance_attack_from_distances(
        nn_distances(train[:200], copies), nn_distances(heldout, copies)
    )
    assert got == want and got["auc"] > 0.7
    with pytest.raises(ValueError, match="199 members and 200 non-members"):
        distance_attack_from_distances(np.zeros(199), np.zeros(200))
