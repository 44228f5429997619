"""Attack-based privacy metrics of a generated haplotype set: membership inference and kinship.

Pure numpy; distances are Hamming distances between 0/1 haplotypes (differing variants), computed a
block of rows at a time by :func:`vae_genomics.evaluation.privacy.nn_distances`.

- **Membership inference**: an attacker guesses "was in the training set" when a haplotype's score
  exceeds a threshold; :func:`roc_auc` (0.5 = chance) and :func:`tpr_at_fpr` (at e.g. 1% false
  positives) measure how well the score separates training members from held-out non-members.
  :func:`distance_attack` scores minus the distance to the nearest synthetic haplotype (copies of
  training data put members at 0); :func:`likelihood_attack` minus a per-haplotype negative
  log-likelihood computed elsewhere (an overfitted model gives members a higher likelihood).
- **Kinship** (:func:`king_robust`, :func:`kinship_counts`): synthetic individuals (haplotype rows
  2i, 2i+1) against real ones, KING-robust (Manichaikul et al. 2010) in KING's degrees: a released
  duplicate or first-degree relative of a training individual leaks much of that genome.
- **Nearest-neighbour flags** (:func:`nn_flags`): synthetic haplotypes nearer a training haplotype
  than all but 1% of held-out haplotypes are.

Each number has a real reference: held-out haplotypes (or individuals) scored the same way against
the training set (:func:`attack_panel`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from vae_genomics.common.hamming import CHUNK_SIZE, nn_distances

#: KING's degree thresholds on the kinship coefficient phi (Manichaikul et al. 2010): a pair is of
#: the first degree (from the top) whose lower bound phi exceeds.
KING_DEGREES: dict[str, float] = {
    "duplicate": 2.0**-1.5,  # duplicate / monozygotic twin: phi > 0.354
    "first": 2.0**-2.5,  # parent-offspring, full siblings: phi > 0.177
    "second": 2.0**-3.5,  # half-siblings, avuncular, grandparent: phi > 0.0884
    "third": 2.0**-4.5,  # first cousins: phi > 0.0442
}

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
    return {**_attack(-d_members, -d_nonmembers, fpr), "n": n}


def genotypes(haplotypes: np.ndarray) -> np.ndarray:
    """Genotypes of individuals made of consecutive haplotype rows (2i, 2i+1).

    Args:
        haplotypes: 0/1 haplotypes, shape (2k, n_variants).

    Returns:
        ALT allele counts in {0, 1, 2}, int8, shape (k, n_variants).
    """
    x = np.asarray(haplotypes)
    if x.ndim != 2 or len(x) % 2:
        raise ValueError(f"need an even number of haplotype rows (pairs), got shape {x.shape}")
    return (x[0::2].astype(np.int8) + x[1::2].astype(np.int8)).astype(np.int8)


def _king_blocks(
    g_a: np.ndarray, g_b: np.ndarray, between_family: bool, chunk_size: int
) -> Iterator[np.ndarray]:
    """KING-robust phi of ``chunk_size`` rows of ``g_a`` at a time against all of ``g_b``."""
    g_a, g_b = np.asarray(g_a), np.asarray(g_b)
    if g_a.ndim != 2 or g_b.ndim != 2 or g_a.shape[1] != g_b.shape[1]:
        raise ValueError(f"genotypes of shapes {g_a.shape} and {g_b.shape} do not pair up")
    for g in (g_a, g_b):
        if g.size and not np.all((g == 0) | (g == 1) | (g == 2)):
            raise ValueError("genotypes must be ALT allele counts 0, 1 or 2")
    n_sites = g_a.shape[1]
    c_b = g_b.astype(np.float32) - 1.0
    het_b = (g_b == 1).sum(axis=1).astype(np.float64)
    for start in range(0, len(g_a), chunk_size):
        block = g_a[start : start + chunk_size]
        het_a = (block == 1).sum(axis=1).astype(np.float64)[:, None]
        # exact in float32 below 2^24 sites; see king_robust for the identity
        numerator = (block.astype(np.float32) - 1.0) @ c_b.T + het_a + het_b[None, :] - n_sites
        with np.errstate(divide="ignore", invalid="ignore"):
            if between_family:
                low = np.minimum(het_a, het_b[None, :])
                phi = 0.5 + (2.0 * numerator - het_a - het_b[None, :]) / (4.0 * low)
            else:
                phi = numerator / (het_a + het_b[None, :])
        yield np.where(np.isfinite(phi), phi, np.nan)


def king_robust(
    g_a: np.ndarray,
    g_b: np.ndarray,
    *,
    between_family: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> np.ndarray:
    """KING-robust kinship coefficients of every pair of individuals (Manichaikul et al. 2010).

    For genotype vectors g_i, g_j in {0, 1, 2} (ALT allele counts) over L sites, with N_Aa,Aa the
    sites where both are heterozygous, N_AA,aa those where they carry opposite homozygotes, and
    N_Aa(i) the heterozygous sites of i::

        phi_ij = [N_Aa,Aa - 2 N_AA,aa] / [N_Aa(i) + N_Aa(j)]

    (``between_family=False``, the default). KING applies that form to pairs within a family; for
    pairs from different families it divides by the smaller heterozygosity instead
    (``between_family=True``)::

        phi_ij = 1/2 + [2 N_Aa,Aa - 4 N_AA,aa - N_Aa(i) - N_Aa(j)] / [4 min(N_Aa(i), N_Aa(j))]

    The two agree when N_Aa(i) = N_Aa(j). phi is 1/2 for duplicates, 1/4 for parent-offspring and
    full siblings, 1/8 for second-degree relatives, about 0 for unrelated individuals of one
    population (degrees: :data:`KING_DEGREES`). Monomorphic sites contribute nothing.

    Vectorised with one matrix product per block of rows: with c = g - 1 in {-1, 0, 1}, the dot
    product c_i·c_j counts same-homozygote sites minus opposite-homozygote ones, and the sites where
    both are homozygous number L - N_Aa(i) - N_Aa(j) + N_Aa,Aa, so
    N_Aa,Aa - 2 N_AA,aa = c_i·c_j + N_Aa(i) + N_Aa(j) - L.

    Args:
        g_a: Genotypes, shape (n_a, L), values in {0, 1, 2} (:func:`genotypes`).
        g_b: Genotypes, shape (n_b, L).
        between_family: Use KING's between-family normalisation (above).
        chunk_size: Rows of ``g_a`` per block (memory ``chunk_size * n_b`` floats).

    Returns:
        phi, float64, shape (n_a, n_b); NaN where the denominator is 0 (no heterozygous site).
    """
    blocks = list(_king_blocks(g_a, g_b, between_family, chunk_size))
    return np.concatenate(blocks) if blocks else np.zeros((0, np.shape(g_b)[0]))


def kinship_counts(
    g_a: np.ndarray,
    g_b: np.ndarray,
    *,
    between_family: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, int]:
    """Pairs (one individual of ``g_a``, one of ``g_b``) per KING degree, without the full matrix.

    Args:
        g_a: Genotypes, shape (n_a, L), values in {0, 1, 2}.
        g_b: Genotypes, shape (n_b, L).
        between_family: Passed to :func:`king_robust`.
        chunk_size: Rows of ``g_a`` per block.

    Returns:
        Counts per key of :data:`KING_DEGREES`, in disjoint bins: ``duplicate`` (phi > 2^-1.5),
        ``first`` (2^-2.5 < phi <= 2^-1.5), ``second`` and ``third`` likewise. NaN pairs count in
        none.
    """
    bounds = [np.inf, *KING_DEGREES.values()]
    counts = dict.fromkeys(KING_DEGREES, 0)
    for phi in _king_blocks(g_a, g_b, between_family, chunk_size):
        phi = phi[~np.isnan(phi)]
        for (name, low), high in zip(KING_DEGREES.items(), bounds, strict=False):
            counts[name] += int(np.count_nonzero((phi > low) & (phi <= high)))
    return counts


def _individuals(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return genotypes(x[: len(x) - len(x) % 2])


def kinship_attack(
    synthetic: np.ndarray,
    train: np.ndarray,
    heldout: np.ndarray,
    *,
    between_family: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, Any]:
    """Relatives of training individuals among synthetic ones, beside the held-out reference.

    Individuals are consecutive haplotype rows (2i, 2i+1) of each set (an odd last row is left
    out). Where a set's rows are not ordered by sample (a random subsample, or a split by haplotype)
    its "individuals" pair unrelated haplotypes; one copied haplotype then shows as a first-degree
    relative, two as a duplicate. Held-out individuals, paired the same way, are the reference.

    Args:
        synthetic: 0/1 haplotypes, shape (m, n_variants).
        train: Training haplotypes, shape (n_train, n_variants).
        heldout: Held-out haplotypes, shape (n_heldout, n_variants).
        between_family: Passed to :func:`king_robust`.
        chunk_size: Individuals per block of the kinship matrix.

    Returns:
        ``set`` and ``heldout``: :func:`kinship_counts` against the training individuals;
        ``set_pairs`` and ``heldout_pairs``: the numbers of pairs compared.
    """
    g_train = _individuals(train)
    out: dict[str, Any] = {}
    for name, x in (("set", synthetic), ("heldout", heldout)):
        g = _individuals(x)
        out[name] = kinship_counts(g, g_train, between_family=between_family, chunk_size=chunk_size)
        out[f"{name}_pairs"] = len(g) * len(g_train)
    return out


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
    members: np.ndarray,
    heldout: np.ndarray,
    d_set_train: np.ndarray,
    d_heldout_train: np.ndarray,
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
        members: A training subsample, shape (n, L) (the distance attack's members).
        heldout: Held-out haplotypes (subsampled), shape (n, L) (its non-members).
        d_set_train: Nearest-training distances of ``synthetic``, shape (n,).
        d_heldout_train: Nearest-training distances of ``heldout``, shape (n,).
        seed: Seed or generator of the held-out split of the flags.
        chunk_size: Rows per block of the distance and kinship matrices.

    Returns:
        ``distance_attack_auc``, ``distance_attack_tpr_at_1pct_fpr``, ``nn_flag_fraction``,
        ``heldout_nn_flag_fraction``, ``kinship_train`` and ``heldout_kinship_train`` (pairs per
        KING degree of set / held-out individuals with training individuals) and
        ``kinship_pairs`` (pairs compared, the same for both).
    """
    attack = distance_attack(synthetic, members, heldout, seed=seed, chunk_size=chunk_size)
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
