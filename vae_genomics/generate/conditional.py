"""Synthetic haplotypes of chosen groups (populations): the code source refitted on each group.

A generator (:class:`~vae_genomics.generate.generators.Generator`) is fitted once on all training
haplotypes (its ``ld`` head and copy guard learn from all of them, as for an unconditioned sample).
For each group, only its code source is refitted on that group's rows of the training posteriors,
so codes come from the part of the latent space the group's haplotypes occupy, and the shared
decoder turns them into haplotypes. The model itself is not conditioned on the group: a group whose
codes overlap another's in the latent space gets some of the other's haplotypes.

Each group's draws are seeded from the seed and the group's position in the request, so a group's
haplotypes do not depend on how many haplotypes the groups before it asked for.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping

import numpy as np

from vae_genomics.generate.generators import Generator, PriorSource
from vae_genomics.models.vae import HaplotypeVAE


def group_seed(seed: int, position: int) -> int:
    """The draws' seed of the group at ``position`` (0, 1, ...) of a request seeded ``seed``."""
    return int(np.random.SeedSequence([int(seed), int(position)]).generate_state(1)[0])


def group_generator(
    generator: Generator, mean: np.ndarray, log_var: np.ndarray, seed: int | None = 0
) -> Generator:
    """A copy of a fitted ``generator`` whose code source is refitted on ``mean``, ``log_var``
    (a group's training posteriors, (n_group, latent_dim)); decoder, head and guard are shared.

    Raises:
        ValueError: A ``prior`` code source (it is fitted on no posterior, so it cannot be
            conditioned on a group), or no rows.
    """
    if isinstance(generator.source, PriorSource):
        raise ValueError(
            f"generator {generator.name!r}: its codes come from the prior, which no group's "
            "haplotypes change; use a code source fitted on the training posteriors (aggregate[:S], "
            "gmm, gmm-heldout)"
        )
    if len(mean) == 0:
        raise ValueError("a group without training haplotypes")
    source = copy.deepcopy(generator.source)
    source.fit(np.asarray(mean), np.asarray(log_var), seed)
    return dataclasses.replace(generator, source=source)


def sample_groups(
    generator: Generator,
    model: HaplotypeVAE,
    mean: np.ndarray,
    log_var: np.ndarray,
    groups: Mapping[str, np.ndarray],
    counts: Mapping[str, int],
    seed: int,
    fit_seed: int | None = 0,
) -> dict[str, np.ndarray]:
    """Haplotypes of each group, from its own code source and the shared decoder.

    Args:
        generator: A generator fitted on all training haplotypes
            (:meth:`~vae_genomics.generate.generators.Generator.fit_posteriors`).
        model: The trained model.
        mean: Posterior means of the training haplotypes, (n_train, latent_dim).
        log_var: Their posterior log-variances, same shape.
        groups: Group name → rows of ``mean`` (its training haplotypes).
        counts: Group name → haplotypes to draw; the groups are drawn in this order.
        seed: Seed of the draws; group i's draws are seeded by :func:`group_seed` (seed, i).
        fit_seed: Seed of the code sources' fits (a mixture's initialisation).

    Returns:
        Group name → haplotypes, int8 0/1, (counts[name], n_variants), in the order of ``counts``.

    Raises:
        KeyError: A group of ``counts`` not in ``groups``.
        ValueError: See :func:`group_generator`.
    """
    mean, log_var = np.asarray(mean), np.asarray(log_var)
    out: dict[str, np.ndarray] = {}
    for position, (name, n) in enumerate(counts.items()):
        rows = np.asarray(groups[name], dtype=np.int64)
        gen = group_generator(generator, mean[rows], log_var[rows], fit_seed)
        drawn = gen.sample(model, int(n), seed=group_seed(seed, position))
        out[name] = drawn["samples"].astype(np.int8)
    return out
