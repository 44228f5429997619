"""Attack-based privacy metrics of a generated haplotype set: membership inference and kinship.

Pure numpy; distances are Hamming distances between 0/1 haplotypes (differing variants), computed a
block of rows at a time by :func:`vae_genomics.evaluation.privacy.nn_distances`.

- **Membership inference**: an attacker guesses "was in the training set" when a haplotype's score
  exceeds a threshold; :func:`roc_auc` (0.5 = chance) and :func:`tpr_at_fpr` (at e.g. 1% false
  positives) measure how well the score separates training members from held-out non-members.
  :func:`distance_attack` scores minus the distance to the nearest synthetic haplotype (copies of
  training data put members at 0); :func:`likelihood_attack` minus a per-haplotype negative
  log-likelihood computed elsewhere (an overfitted model gives members a higher likelihood).
- **Kinship** (:mod:`~vae_genomics.evaluation.kinship`, re-exported here): synthetic individuals
  (haplotype rows 2i, 2i+1) against real ones, KING-robust (Manichaikul et al. 2010) in KING's
  degrees: a released duplicate or first-degree relative of a training individual leaks much of
  that genome.
- **Nearest-neighbour flags** (:func:`nn_flags`): synthetic haplotypes nearer a training haplotype
  than all but 1% of held-out haplotypes are.

Each number has a real reference: held-out haplotypes (or individuals) scored the same way against
the training set (:func:`attack_panel`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vae_genomics.common.hamming import CHUNK_SIZE, nn_distances
from vae_genomics.evaluation.kinship import (
    KING_DEGREES,
    genotypes,
    king_robust,
    kinship_attack,
    kinship_counts,
)

__all__ = [
    "ATTACK_FPR",
    "KING_DEGREES",
    "attack_panel",
    "distance_attack",
    "genotypes",
    "king_robust",
    "kinship_attack",
    "kinship_counts",
    "likelihood_attack",
    "nn_flags",
    "nn_flags_from_distances",
    "roc_auc",
    "tpr_at_fpr",
]


#: The false-positive rate at which membership attacks report their true-positive rate.
ATTACK_FPR = 0.01


def _scores(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError(f"{name} has no scores")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} has non-finite scores")
    return x


def roc_auc(scores_members: np.ndarray, scores_nonmembers: np.ndarray) -> float:
    """Area under the ROC curve of a membership score (higher score = "member").

    The Mann–Whitney statistic: the probability that a random member scores above a random
    non-member, ties counted 1/2, computed from mid-ranks in O((n1 + n0) log(n1 + n0)).

    Args:
        scores_members: Scores of the members, shape (n1,).
        scores_nonmembers: Scores of the non-members, shape (n0,).

    Returns:
        AUC in [0, 1]; 0.5 = the score does not separate the two sets.
    """
    pos = _scores(scores_members, "scores_members")
    neg = _scores(scores_nonmembers, "scores_nonmembers")
    _, inverse, counts = np.unique(
        np.concatenate([pos, neg]), return_inverse=True, return_counts=True
    )
    below = np.cumsum(counts) - counts  # values strictly below each distinct value
    mid_rank = below + (counts + 1) / 2.0  # 1-based mid-rank of tied values
    rank_sum = mid_rank[inverse[: len(pos)]].sum()
    return float((rank_sum - len(pos) * (len(pos) + 1) / 2.0) / (len(pos) * len(neg)))


def tpr_at_fpr(
    scores_members: np.ndarray, scores_nonmembers: np.ndarray, fpr: float = ATTACK_FPR
) -> float:
    """True-positive rate of the threshold attack "score >= t" at false-positive rate ``fpr``.

    The ROC curve runs through the points (FPR, TPR) of every threshold t (the distinct scores,
    and +inf for (0, 0)); a tie of members and non-members is the straight segment between two
    points (a threshold that guesses "member" at random within the tie, as :func:`roc_auc`
    counts ties 1/2). The TPR is read on that curve at ``fpr``: the highest TPR where a point sits
    exactly at ``fpr``, else linear interpolation between its neighbouring points.

    Args:
        scores_members: Scores of the members, shape (n1,).
        scores_nonmembers: Scores of the non-members, shape (n0,).
        fpr: False-positive rate in [0, 1].

    Returns:
        TPR in [0, 1].
    """
    if not 0.0 <= fpr <= 1.0:
        raise ValueError(f"fpr must be in [0, 1], got {fpr}")
    pos = np.sort(_scores(scores_members, "scores_members"))
    neg = np.sort(_scores(scores_nonmembers, "scores_nonmembers"))
    thresholds = np.unique(np.concatenate([pos, neg]))[::-1]
    tprs = np.concatenate([[0], len(pos) - np.searchsorted(pos, thresholds)]) / len(pos)
    fprs = np.concatenate([[0], len(neg) - np.searchsorted(neg, thresholds)]) / len(neg)
    k = int(np.searchsorted(fprs, fpr, side="right")) - 1  # last point with FPR <= fpr
    if k == len(fprs) - 1 or fprs[k] == fpr:
        return float(tprs[k])
    w = (fpr - fprs[k]) / (fprs[k + 1] - fprs[k])
    return float(tprs[k] + w * (tprs[k + 1] - tprs[k]))


def _attack(members: np.ndarray, nonmembers: np.ndarray, fpr: float) -> dict[str, float]:
    return {"auc": roc_auc(members, nonmembers), "tpr_at_fpr": tpr_at_fpr(members, nonmembers, fpr)}


def likelihood_attack(
    nll_members: np.ndarray, nll_nonmembers: np.ndarray, fpr: float = ATTACK_FPR
) -> dict[str, float]:
    """Membership inference from per-haplotype negative log-likelihoods (score = -NLL).

    Args:
        nll_members: NLL (nats) of training haplotypes under the model, shape (n1,).
        nll_nonmembers: NLL (nats) of held-out haplotypes, shape (n0,).
        fpr: False-positive rate of the reported TPR.

    Returns:
        ``auc`` (0.5 = the model fits seen and unseen haplotypes alike) and ``tpr_at_fpr``.
    """
    return _attack(-np.asarray(nll_members), -np.asarray(nll_nonmembers), fpr)


def distance_attack(
    synthetic: np.ndarray,
    members: np.ndarray,
    nonmembers: np.ndarray,
    *,
    fpr: float = ATTACK_FPR,
    seed: int | np.random.Generator | None = 0,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, float]:
    """Membership inference by distance to the synthetic set (score = -nearest synthetic distance).

    The larger of ``members`` and ``nonmembers`` is subsampled (without replacement) to the size of
    the other, so that the two classes weigh the same.

    Args:
        synthetic: Released 0/1 haplotypes, shape (m, n_variants).
        members: Training haplotypes, shape (n1, n_variants).
        nonmembers: Held-out haplotypes, shape (n0, n_variants).
        fpr: False-positive rate of the reported TPR.
        seed: Seed or generator of the subsampling.
        chunk_size: Rows per block of the distance matrices.

    Returns:
        ``auc``, ``tpr_at_fpr``, and ``n`` (haplotypes per class).
    """
    rng = np.random.default_rng(seed)
    members, nonmembers = np.asarray(members), np.asarray(nonmembers)
    n = min(len(members), len(nonmembers))
    if n == 0:
        raise ValueError("the distance attack needs members and non-members")
    members, nonmembers = (
        x[np.sort(rng.choice(len(x), n, replace=False))] if len(x) > n else x
        for x in (members, nonmembers)
    )
    d_members = nn_distances(members, synthetic, chunk_size=chunk_size)
    d_nonmembers = nn_distances(nonmembers, synthetic, chunk_size=chunk_size)
    return distance_attack_from_distances(d_members, d_nonmembers, fpr)


def distance_attack_from_distances(
    d_members: np.ndarray, d_nonmembers: np.ndarray, fpr: float = ATTACK_FPR
) -> dict[str, float]:
    """:func:`distance_attack` from the classes' nearest-synthetic distances (variants), shapes
    (n,) each (classes of the same size): ``auc``, ``tpr_at_fpr`` and ``n``."""
    if len(d_members) != len(d_nonmembers):
        raise ValueError(
            f"{len(d_members)} members and {len(d_nonmembers)} non-members: the distance attack "
            "weighs classes of the same size"
        )
    return {**_attack(-np.asarray(d_members), -np.asarray(d_nonmembers), fpr), "n": len(d_members)}


def nn_flags_from_distances(
    d_set: np.ndarray,
    d_heldout: np.ndarray,
    *,
    quantile: float = ATTACK_FPR,
    seed: int | np.random.Generator | None = 0,
) -> dict[str, float]:
    """Fraction of a set's haplotypes nearer the training set than held-out haplotypes usually are.

    The held-out haplotypes are split at random into two halves: the threshold is the ``quantile``
    of the first half's nearest-training distances (``np.quantile``, linear interpolation), and a
    haplotype is flagged when its distance is strictly below it. The second half, scored against
    the same threshold, is the real reference (about ``quantile``, less where distances tie).

    Args:
        d_set: Distance (variants) of each set haplotype to its nearest training one, shape (m,).
        d_heldout: The same for held-out haplotypes, shape (n,), n >= 2.
        quantile: Quantile of the held-out distances that sets the threshold.
        seed: Seed or generator of the split.

    Returns:
        ``fraction`` (set flagged), ``heldout_fraction`` (second half flagged), ``threshold``.
    """
    d_set, d_heldout = np.asarray(d_set, float), np.asarray(d_heldout, float)
    if len(d_heldout) < 2 or len(d_set) == 0:
        raise ValueError("nearest-neighbour flags need a set and at least 2 held-out distances")
    order = np.random.default_rng(seed).permutation(len(d_heldout))
    half = len(d_heldout) // 2
    threshold = float(np.quantile(d_heldout[order[:half]], quantile))
    return {
        "fraction": float(np.mean(d_set < threshold)),
        "heldout_fraction": float(np.mean(d_heldout[order[half:]] < threshold)),
        "threshold": threshold,
    }


def nn_flags(
    synthetic: np.ndarray,
    train: np.ndarray,
    heldout: np.ndarray,
    *,
    chunk_size: int = CHUNK_SIZE,
    **kw: Any,
) -> dict[str, float]:
    """:func:`nn_flags_from_distances` (``quantile``, ``seed`` in ``kw``) of 0/1 haplotype sets.

    Shapes: ``synthetic`` (m, L), ``train`` (n_train, L), ``heldout`` (n, L).
    """
    d_set = nn_distances(synthetic, train, chunk_size=chunk_size)
    return nn_flags_from_distances(d_set, nn_distances(heldout, train, chunk_size=chunk_size), **kw)


def attack_panel(
    synthetic: np.ndarray,
    train: np.ndarray,
    heldout: np.ndarray,
    d_set_train: np.ndarray,
    d_heldout_train: np.ndarray,
    d_synthetic: tuple[np.ndarray, np.ndarray],
    *,
    seed: int | np.random.Generator | None = 0,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, Any]:
    """The attack numbers of the realism panel (:func:`~vae_genomics.evaluation.realism.realism_panel`).

    A release of n haplotypes can expose at most n of the n_train training haplotypes: a set of
    copies gives members drawn from the whole training set a distance attack AUC of about
    1/2 + n / (2 n_train) and a TPR at 1% FPR of about n / n_train (the share of training
    haplotypes it exposes), not 1.

    Args:
        synthetic: The set's 0/1 haplotypes (subsampled), shape (n, L).
        train: All training haplotypes, shape (n_train, L) (kinship: every training individual).
        heldout: Held-out haplotypes (subsampled), shape (n, L) (the attack's non-members).
        d_set_train: Nearest-training distances of ``synthetic``, shape (n,).
        d_heldout_train: Nearest-training distances of ``heldout``, shape (n,).
        d_synthetic: The distance attack's scores: the distances of a training subsample of n
            (its members) and of ``heldout`` to their nearest ``synthetic`` haplotype, each (n,)
            (a privacy draw's :class:`~vae_genomics.evaluation.privacy.DrawDistances`).
        seed: Seed or generator of the held-out split of the flags.
        chunk_size: Rows per block of the distance and kinship matrices.

    Returns:
        ``distance_attack_auc``, ``distance_attack_tpr_at_1pct_fpr``, ``nn_flag_fraction``,
        ``heldout_nn_flag_fraction``, ``kinship_train`` and ``heldout_kinship_train`` (pairs per
        KING degree of set / held-out individuals with training individuals) and
        ``kinship_pairs`` (pairs compared, the same for both).
    """
    attack = distance_attack_from_distances(*d_synthetic)
    flags = nn_flags_from_distances(d_set_train, d_heldout_train, seed=seed)
    kin = kinship_attack(synthetic, train, heldout, chunk_size=chunk_size)
    return {
        "distance_attack_auc": attack["auc"],
        "distance_attack_tpr_at_1pct_fpr": attack["tpr_at_fpr"],
        "nn_flag_fraction": flags["fraction"],
        "heldout_nn_flag_fraction": flags["heldout_fraction"],
        "kinship_train": kin["set"],
        "heldout_kinship_train": kin["heldout"],
        "kinship_pairs": kin["set_pairs"],
    }


def repeated_distance_attack(
    panel: dict[str, Any], later: list[tuple[np.ndarray, np.ndarray]]
) -> dict[str, float]:
    """The distance attack as a mean ± SD over the realism panel's privacy draws (the first
    draw's numbers are already in ``panel``).

    Args:
        panel: Holds the first draw's ``distance_attack_auc`` and its TPR at 1% FPR.
        later: The later draws' scores: each draw's members' and non-members' distances to their
            nearest synthetic haplotype, (n,) each (:func:`distance_attack_from_distances`).

    Returns:
        ``distance_attack_auc`` and ``distance_attack_tpr_at_1pct_fpr`` (means over the draws) and
        ``distance_attack_auc_sd``.
    """
    aucs = [panel["distance_attack_auc"]]
    tprs = [panel["distance_attack_tpr_at_1pct_fpr"]]
    for d_members, d_nonmembers in later:
        attack = distance_attack_from_distances(d_members, d_nonmembers)
        aucs.append(attack["auc"])
        tprs.append(attack["tpr_at_fpr"])
    return {
        "distance_attack_auc": float(np.mean(aucs)),
        "distance_attack_auc_sd": float(np.std(aucs, ddof=1)) if len(aucs) > 1 else 0.0,
        "distance_attack_tpr_at_1pct_fpr": float(np.mean(tprs)),
    }
