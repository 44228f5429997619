"""Realism and privacy panel of a generated haplotype set, each number beside a real-vs-real ceiling.

:func:`realism_panel` scores a 0/1 set against real held-out haplotypes (and the training ones, for
privacy) with pure numpy:

- privacy (:mod:`vae_genomics.evaluation.privacy`): AATS against held-out and against a same-size
  training subset, the privacy loss (their difference, Yale et al. 2020), the fraction of exact
  training copies and the nearest-neighbour distance to the training set, for the set and for the
  held-out haplotypes (a real haplotype of a dense section is often an exact copy of a training one);
- attacks (:mod:`vae_genomics.evaluation.attacks`, on the same subsets): membership inference by
  distance to the set (training members against held-out non-members: AUC, TPR at 1% FPR), the
  fraction of the set nearer a training haplotype than 99% of held-out haplotypes are, and KING-robust
  relatives of training individuals among the set's individuals (rows 2i, 2i+1), each beside the
  held-out haplotypes' (or individuals') own number;
- LD decay: mean r² of site pairs in bins of base-pair distance, for the held-out set and the set
  (:func:`ld_decay`), and the mean absolute difference over bins;
- site frequency spectrum (:func:`site_frequency_spectrum`), folded, in doubling allele-count bins,
  and the total-variation distance between the set's and the held-out set's;
- the distribution of pairwise Hamming distances within each set and its Wasserstein distance
  (:func:`scipy.stats.wasserstein_distance`) to the held-out one.

:func:`realism_ceiling` is the same panel with real training haplotypes, disjoint from the training
haplotypes they are compared with, as the "set": what a perfect generator of the cohort would score.
Every set is subsampled to one size n (AATS needs equal sizes, and the spectra and distances depend
on it), the smallest of the set, the held-out set, half the training set and ``max_points``.

The privacy numbers (both AATS and their difference) are means over ``privacy_repeats`` draws of
the subsets: a fresh training subset each time, and fresh subsets of the set and the held-out
haplotypes where they hold more than n rows. One draw's subsampling moves the privacy loss of a
generated set by about 0.01 (SD) on a 1,000-haplotype panel of a real section and 0.03 on a
120-haplotype one; five draws halve that (experiments/notebook/privacy.md, "The privacy loss over subset
draws"). The spread of the draws is reported beside the mean (``privacy_loss_sd``).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from scipy.stats import wasserstein_distance

from vae_genomics.common.io import to_jsonable
from vae_genomics.evaluation.attacks import attack_panel, repeated_distance_attack
from vae_genomics.evaluation.prdc import CHUNK_SIZE
from vae_genomics.evaluation.privacy import (
    exact_copy_fraction,
    hamming_matrix,
    nn_distances,
    privacy_loss_from_distances,
    quantiles,
    repeated_draw_distances,
)
from vae_genomics.evaluation.sfs import rare_sfs, site_frequency_spectrum

#: Default number of bp-distance bins of the LD decay.
LD_BINS = 8

#: Default number of subset draws the privacy numbers are averaged over.
PRIVACY_REPEATS = 5


def ld_bin_edges(positions: np.ndarray, n_bins: int = LD_BINS) -> np.ndarray:
    """Bin edges (bp) of the LD decay: 0, then ``n_bins`` geometric edges up to the section's span.

    The first non-zero edge is the median gap between neighbouring sites, so the first bin holds
    about the adjacent pairs; the last edge is one past the span so every pair falls in a bin.
    """
    positions = np.sort(np.asarray(positions, dtype=np.float64))
    span = float(positions[-1] - positions[0]) if len(positions) else 0.0
    gaps = np.diff(positions)
    first = float(np.median(gaps[gaps > 0])) if np.any(gaps > 0) else 1.0
    top = max(span + 1.0, first * 2.0)
    return np.concatenate([[0.0], np.geomspace(first, top, n_bins)])


def _r2_matrix(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean(axis=0)
    sd = np.sqrt((centred**2).mean(axis=0))
    ok = sd > 1e-12
    z = np.where(ok, centred / np.where(ok, sd, 1.0), 0.0)
    r2 = np.minimum(((z.T @ z) / len(x)) ** 2, 1.0)
    r2[~ok, :] = np.nan
    r2[:, ~ok] = np.nan
    return r2


def ld_decay(x: np.ndarray, positions: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Mean r² of site pairs per bp-distance bin.

    Args:
        x: 0/1 haplotypes (or probabilities), shape (n, n_variants).
        positions: Site positions (bp), shape (n_variants,).
        edges: Bin edges (bp), increasing, shape (n_bins + 1,); a pair at distance d is in bin b when
            ``edges[b] <= d < edges[b + 1]``.

    Returns:
        Mean r² per bin, shape (n_bins,); NaN for a bin with no pair where both sites vary.
    """
    positions = np.asarray(positions, dtype=np.float64)
    x = np.asarray(x)
    if x.shape[1] != len(positions):
        raise ValueError(f"x has {x.shape[1]} variants, positions has {len(positions)}")
    r2 = _r2_matrix(x)
    i, j = np.triu_indices(len(positions), k=1)
    dist = np.abs(positions[j] - positions[i])
    values = r2[i, j]
    which = np.digitize(dist, edges) - 1
    out = np.full(len(edges) - 1, np.nan)
    for b in range(len(out)):
        v = values[(which == b) & ~np.isnan(values)]
        if v.size:
            out[b] = v.mean()
    return out


def sfs_bins(sfs: np.ndarray) -> np.ndarray:
    """Fractions of sites in doubling count bins of a folded spectrum: {0}, {1}, {2}, {3,4}, {5..8}, …"""
    sfs = np.asarray(sfs, dtype=np.float64)
    edges = [0, 1, 2, 3]
    while edges[-1] < len(sfs):
        edges.append(2 * edges[-1] - 1)
    edges[-1] = len(sfs)
    sums = np.array([sfs[a:b].sum() for a, b in itertools.pairwise(edges)])
    return sums / max(sums.sum(), 1.0)


def pairwise_hamming(x: np.ndarray, chunk_size: int = CHUNK_SIZE) -> np.ndarray:
    """Hamming distances of every pair of rows of 0/1 ``x`` (upper triangle), shape (n(n-1)/2,)."""
    parts = []
    for start in range(0, len(x), chunk_size):
        stop = min(start + chunk_size, len(x))
        d = hamming_matrix(x[start:stop], x)
        rows, cols = np.nonzero(np.arange(start, stop)[:, None] < np.arange(len(x))[None, :])
        parts.append(d[rows, cols])
    return np.concatenate(parts) if parts else np.zeros(0)


def _subsample(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    x = np.asarray(x)
    return x[_rows(len(x), n, rng)]


def _rows(size: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """The sorted rows of a draw of ``n`` of ``size`` items; all of them (nothing drawn) when
    ``size <= n``."""
    if size <= n:
        return np.arange(size)
    return np.sort(rng.choice(size, n, replace=False))


def common_size(n_synthetic: int, n_heldout: int, n_train: int, max_points: int) -> int:
    """The size n every set of a panel and its ceiling is subsampled to.

    Half the training set, so that :func:`realism_ceiling` can split it into a set and as many others.
    """
    return int(min(n_synthetic, n_heldout, n_train // 2, max_points))


def realism_panel(
    synthetic: np.ndarray,
    train: np.ndarray,
    heldout: np.ndarray,
    positions: np.ndarray | None = None,
    *,
    seed: int | np.random.Generator | None = 0,
    max_points: int = 1000,
    n_ld_bins: int = LD_BINS,
    max_ld_sites: int = 800,
    max_pairwise: int = 600,
    size: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    privacy_repeats: int = PRIVACY_REPEATS,
) -> dict[str, Any]:
    """The realism and privacy numbers of a 0/1 ``synthetic`` set (module docstring).

    Args:
        synthetic: Generated haplotypes, shape (m, n_variants), 0/1.
        train: Real training haplotypes, shape (n_train, n_variants), 0/1 (the generator's).
        heldout: Real held-out haplotypes, shape (n_heldout, n_variants), 0/1.
        positions: Site positions in bp, shape (n_variants,); the variant index when None.
        seed: Seed or generator of the subsampling.
        max_points: Cap on the common size n.
        n_ld_bins: Bins of the LD decay.
        max_ld_sites: Sites used for the LD decay (an evenly spaced subset; r² over all pairs).
        max_pairwise: Haplotypes per set whose pairwise distances are compared.
        size: Common size n (computed by :func:`common_size` when None).
        chunk_size: Rows per block of the distance matrices.
        privacy_repeats: Subset draws the AATS and privacy loss are averaged over (>= 1).

    Returns:
        JSON-safe dict: ``n``, ``aats_heldout``, ``aats_train``, ``privacy_loss`` (means over the
        draws), ``privacy_loss_sd`` (their standard deviation, 0 for one draw),
        ``privacy_repeats``, ``exact_copy_fraction`` and ``heldout_exact_copy_fraction``
        (copies of a training row),
        ``nn_train`` and ``heldout_nn_train`` (quantiles of the distance to the nearest training
        row, variants), the attacks of :func:`~vae_genomics.evaluation.attacks.attack_panel`
        (``distance_attack_auc``, ``distance_attack_tpr_at_1pct_fpr``, ``nn_flag_fraction``,
        ``heldout_nn_flag_fraction``, ``kinship_train``, ``heldout_kinship_train``,
        ``kinship_pairs``), ``ld_decay`` (``edges`` bp, ``heldout``, ``set``, ``mae``), ``sfs``
        (``heldout``/``set`` binned fractions, ``tv_distance``; ``rare``: the sites at 1..10
        copies, :func:`~vae_genomics.evaluation.sfs.rare_sfs`), ``pairwise`` (``wasserstein``,
        ``mean_heldout``, ``mean_set``).
    """
    rng = np.random.default_rng(seed)
    synthetic, train, heldout = (np.asarray(a) for a in (synthetic, train, heldout))
    widths = {synthetic.shape[1], train.shape[1], heldout.shape[1]}
    if len(widths) != 1:
        raise ValueError(
            f"sets cover different numbers of variants: synthetic {synthetic.shape[1]}, "
            f"train {train.shape[1]}, held-out {heldout.shape[1]}"
        )
    n_variants = heldout.shape[1]
    positions = np.arange(n_variants) if positions is None else np.asarray(positions)
    if len(positions) != n_variants:
        raise ValueError(f"{len(positions)} positions for {n_variants} variants")
    n = size or common_size(len(synthetic), len(heldout), len(train), max_points)
    if n < 2:
        raise ValueError(f"the realism panel needs at least 2 haplotypes per set, got {n}")
    first = tuple(_rows(len(x), n, rng) for x in (synthetic, heldout, train))
    syn, ref, train_n = synthetic[first[0]], heldout[first[1]], train[first[2]]
    if len(syn) != n or len(ref) != n or len(train_n) != n:
        raise ValueError(f"a set has fewer than the {n} haplotypes the panel compares")

    panel = _privacy_numbers((synthetic, train, heldout), first, rng, chunk_size, privacy_repeats)
    panel.update(
        _structure_numbers(syn, ref, positions, n_ld_bins, max_ld_sites, max_pairwise, chunk_size)
    )
    return to_jsonable(panel)


def _privacy_numbers(
    whole: tuple[np.ndarray, np.ndarray, np.ndarray],
    first: tuple[np.ndarray, np.ndarray, np.ndarray],
    rng: np.random.Generator,
    chunk_size: int,
    privacy_repeats: int,
) -> dict[str, Any]:
    """AATS and privacy loss over repeated draws, exact copies, nearest distances and attacks.

    Args:
        whole: The synthetic, training and held-out sets, whole (more draws come from them).
        first: The rows of their first draws of the common size n: synthetic, held-out,
            training.
        rng: The panel's generator (the draws after the first; the attacks' child stream).
        chunk_size: Rows per block of the distance matrices.
        privacy_repeats: Draws the AATS and privacy loss are averaged over (>= 1).

    Returns:
        ``n``, ``privacy_repeats`` and the privacy numbers of :func:`realism_panel`.
    """
    synthetic, train, heldout = whole
    syn, ref = synthetic[first[0]], heldout[first[1]]
    n = len(syn)
    if privacy_repeats < 1:
        raise ValueError(f"privacy_repeats must be at least 1, got {privacy_repeats}")
    rows = [first] + [
        tuple(_rows(len(x), n, rng) for x in (synthetic, heldout, train))
        for _ in range(privacy_repeats - 1)
    ]
    distances = repeated_draw_distances(synthetic, train, heldout, rows, chunk_size)
    draws = [privacy_loss_from_distances(d) for d in distances]
    panel: dict[str, Any] = {"n": n, "privacy_repeats": privacy_repeats}
    for key in ("aats_heldout", "aats_train", "privacy_loss"):
        panel[key] = float(np.mean([d[key] for d in draws]))
    losses = [d["privacy_loss"] for d in draws]
    panel["privacy_loss_sd"] = float(np.std(losses, ddof=1)) if len(draws) > 1 else 0.0
    panel["exact_copy_fraction"] = exact_copy_fraction(syn, train)
    panel["heldout_exact_copy_fraction"] = exact_copy_fraction(ref, train)
    d_syn = nn_distances(syn, train, chunk_size=chunk_size)
    d_ref = nn_distances(ref, train, chunk_size=chunk_size)
    panel["nn_train"] = quantiles(d_syn)
    panel["heldout_nn_train"] = quantiles(d_ref)
    # a child stream: the draws above (and a shared generator's later use) stay as they were
    attack_rng = rng.spawn(1)[0]
    scores = [(d.train_to_synthetic, d.heldout_to_synthetic) for d in distances]
    panel.update(
        attack_panel(
            syn, train, ref, d_syn, d_ref, scores[0], seed=attack_rng, chunk_size=chunk_size
        )
    )
    panel.update(repeated_distance_attack(panel, scores[1:]))
    return panel


def _structure_numbers(
    syn: np.ndarray,
    ref: np.ndarray,
    positions: np.ndarray,
    n_ld_bins: int,
    max_ld_sites: int,
    max_pairwise: int,
    chunk_size: int,
) -> dict[str, Any]:
    """LD decay, site frequency spectrum and pairwise distances of a set beside the held-out set.

    Args:
        syn: The synthetic draw, shape (n, n_variants).
        ref: The held-out draw, shape (n, n_variants).
        positions: Site positions, shape (n_variants,).
        n_ld_bins: Bins of the LD decay.
        max_ld_sites: Sites used for the LD decay.
        max_pairwise: Haplotypes per set whose pairwise distances are compared.
        chunk_size: Rows per block of the distance matrices.

    Returns:
        ``ld_decay``, ``sfs`` and ``pairwise`` of :func:`realism_panel`.
    """
    n, n_variants = syn.shape
    panel: dict[str, Any] = {}
    sites = np.unique(np.linspace(0, n_variants - 1, min(max_ld_sites, n_variants)).astype(int))
    edges = ld_bin_edges(positions[sites], n_ld_bins)
    ld_ref = ld_decay(ref[:, sites], positions[sites], edges)
    ld_set = ld_decay(syn[:, sites], positions[sites], edges)
    both = ~np.isnan(ld_ref) & ~np.isnan(ld_set)
    panel["ld_decay"] = {
        "edges": edges,
        "heldout": ld_ref,
        "set": ld_set,
        "mae": float(np.abs(ld_ref - ld_set)[both].mean()) if both.any() else None,
    }
    sfs_ref = sfs_bins(site_frequency_spectrum(ref))
    sfs_set = sfs_bins(site_frequency_spectrum(syn))
    panel["sfs"] = {
        "heldout": sfs_ref,
        "set": sfs_set,
        "tv_distance": float(0.5 * np.abs(sfs_ref - sfs_set).sum()),
        "rare": rare_sfs(ref, syn),
    }
    m = min(n, max_pairwise)
    pw_ref = pairwise_hamming(ref[:m], chunk_size)
    pw_set = pairwise_hamming(syn[:m], chunk_size)
    panel["pairwise"] = {
        "wasserstein": float(wasserstein_distance(pw_ref, pw_set)),
        "mean_heldout": float(pw_ref.mean()),
        "mean_set": float(pw_set.mean()),
    }
    return panel


def realism_ceiling(
    train: np.ndarray,
    heldout: np.ndarray,
    positions: np.ndarray | None = None,
    *,
    seed: int | np.random.Generator | None = 0,
    max_points: int = 1000,
    size: int | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """The panel of a real set: a training subset scored against the *other* training haplotypes.

    The training haplotypes are split at random into the "set" (n rows) and the rest, which plays
    the generator's training data; a perfect generator would score this.

    Args:
        train: Real training haplotypes, shape (n_train, n_variants), n_train >= 4.
        heldout: Real held-out haplotypes, shape (n_heldout, n_variants).
        positions: Site positions (bp), or None.
        seed: Seed or generator of the split and subsampling.
        max_points: Cap on the common size n.
        size: Common size n (computed by :func:`common_size` when None).
        **kwargs: Passed to :func:`realism_panel`.

    Returns:
        The panel (see :func:`realism_panel`).
    """
    rng = np.random.default_rng(seed)
    train = np.asarray(train)
    n = size or common_size(len(train), len(heldout), len(train), max_points)
    if n < 2 or len(train) - n < n:
        raise ValueError(
            f"{len(train)} training haplotypes cannot give a ceiling set of {n} and as many others"
        )
    order = rng.permutation(len(train))
    as_set, rest = train[np.sort(order[:n])], train[np.sort(order[n:])]
    return realism_panel(as_set, rest, heldout, positions, seed=rng, size=n, **kwargs)
