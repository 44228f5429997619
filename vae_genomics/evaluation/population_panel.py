"""Per-population numbers of a labelled synthetic cohort, each beside its real reference.

For every population (or superpopulation) P named in a synthetic cohort's labels, the synthetic
haplotypes of P are compared with the run's held-out real haplotypes of P, and the same numbers
are computed for the run's *training* haplotypes of P (the real reference, as the panel's
ceiling): coverage in Hamming space (Naeem et al. 2020), allele-frequency correlation, Hudson's
F_ST, the share a classifier fitted on the training haplotypes assigns to P
(:mod:`vae_genomics.evaluation.populations`), and the privacy loss (Yale et al. 2020) against
P's training and held-out haplotypes beside a training subset of P released in their place.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vae_genomics.evaluation.populations import (
    AncestryClassifier,
    allele_frequency_correlation,
    classifier_agreement,
    hudson_fst,
)
from vae_genomics.evaluation.prdc import prdc
from vae_genomics.evaluation.privacy import privacy_loss


def _pick(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return x if len(x) <= n else x[np.sort(rng.choice(len(x), n, replace=False))]


def group_numbers(
    syn: np.ndarray,
    train: np.ndarray,
    held: np.ndarray,
    k: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """One population's numbers (module docstring): the synthetic set and the reference.

    Args:
        syn: Synthetic haplotypes of P, (n_s, m).
        train: Training haplotypes of P, (n_t, m).
        held: Held-out haplotypes of P, (n_h, m).
        k: Neighbour rank of the coverage.
        rng: Generator of the subsamples.

    Returns:
        ``n`` (haplotypes per compared set), ``coverage_hamming``, ``af_correlation``, ``fst``,
        ``privacy_loss``, each a ``{"synthetic": x, "reference": y}`` pair.
    """
    n = min(len(syn), len(held), len(train) // 2)
    syn_n, held_n = _pick(syn, n, rng), _pick(held, n, rng)
    order = rng.permutation(len(train))
    released, members = train[order[:n]], train[order[n : 2 * n]]
    pair = lambda f: {"synthetic": f(syn_n), "reference": f(released)}  # noqa: E731
    return {
        "n": n,
        "coverage_hamming": pair(lambda s: prdc(held_n, s, k=k, metric="hamming")["coverage"]),
        "af_correlation": pair(lambda s: allele_frequency_correlation(s, held)),
        "fst": pair(lambda s: hudson_fst(s, held)),
        "privacy_loss": pair(lambda s: privacy_loss(s, members, held_n)["privacy_loss"]),
    }


def population_panel(
    x_syn: np.ndarray,
    syn_labels: np.ndarray,
    x_train: np.ndarray,
    train_labels: np.ndarray,
    x_heldout: np.ndarray,
    heldout_labels: np.ndarray,
    k: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """The numbers of every population of a synthetic cohort (module docstring).

    Args:
        x_syn: Synthetic haplotypes, (n, m) 0/1; ``syn_labels`` their populations, (n,).
        x_train: The run's training haplotypes and ``train_labels``.
        x_heldout: The run's held-out haplotypes and ``heldout_labels``.
        k: Neighbour rank of the coverage (``evaluation.prdc_k``).
        seed: Seed of the subsamples and the classifier.

    Returns:
        Label → ``n_synthetic``, ``n_train``, ``n_heldout``, ``classifier`` (``synthetic`` and
        ``heldout`` assignment rates to the label) and the :func:`group_numbers`; or ``note`` when
        a set has too few haplotypes to score (``k`` or fewer, or under ``2k + 2`` training).
    """
    rng = np.random.default_rng([seed, 41])
    syn_labels, train_labels, heldout_labels = (
        np.asarray(a).astype(str) for a in (syn_labels, train_labels, heldout_labels)
    )
    classifier = AncestryClassifier(seed=seed).fit(x_train, train_labels)
    out: dict[str, Any] = {}
    for label in sorted(set(syn_labels)):
        syn, train = x_syn[syn_labels == label], x_train[train_labels == label]
        held = x_heldout[heldout_labels == label]
        entry: dict[str, Any] = {"n_synthetic": len(syn), "n_train": len(train),
                                 "n_heldout": len(held)}  # fmt: skip
        if min(len(syn), len(held)) <= k or len(train) < 2 * k + 2:
            entry["note"] = f"too few haplotypes to score (more than k = {k} of each needed)"
        else:
            entry["classifier"] = classifier_agreement(classifier, syn, held, label)
            entry.update(group_numbers(syn, train, held, k, rng))
        out[label] = entry
    return out
