"""The ``mosaic`` joint model: the region's aggregate posterior, switching haplotypes at boundaries.

Drawing a synthetic haplotype over K sections: pick a training haplotype i_1 at random and draw
z_1 ~ q(z | x_{i_1}) from section 1's posterior; at each boundary k-1 → k, switch to i_k, drawn
uniformly from the ``neighbours`` training haplotypes whose posterior means in section k-1 are
nearest to i_{k-1}'s (i_{k-1} itself among them), and draw z_k ~ q(z | x_{i_k}) from section k's
posterior. So each section's code is the aggregate posterior of that section (the sampler that
wins within a section: experiments/notebook/generators.md, "Generators"), and the dependence
across a boundary is that of the training haplotypes themselves, a nearest-neighbour estimate
of p(z_k | z_{k-1}).
The switches at the boundaries (hotspots, for sections split there) make each synthetic haplotype
a mosaic of training haplotypes rather than a noisy copy of one over the whole region: with
``neighbours = 1`` it is the region's aggregate posterior (one haplotype throughout), which copies.

The default number of neighbours scales with the training set: ``n_train / 80`` (rounded, at least
1), i.e. 51 of the 4,077 training haplotypes of the 1000 Genomes sections and 18 of 1,440 on the
simulated chromosome (experiments/notebook/region-mosaic.md, "Regions": a fixed 50 forgot too much
of the haplotype on the smaller cohort).

Ties (real sections hold many identical haplotypes, so identical posterior means) are broken at
random: the means are jittered by a ``1e-6`` multiple of their spread before the neighbour search.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from sklearn.neighbors import NearestNeighbors

#: Neighbours a haplotype may switch to at a boundary, as a fraction of the training haplotypes
#: (chosen by measurement: experiments/notebook/region-mosaic.md, "Regions").
NEIGHBOUR_FRACTION = 1 / 80


def default_neighbours(n_train: int) -> int:
    """The default number of neighbours per switch for ``n_train`` training haplotypes (>= 1)."""
    return max(1, round(n_train * NEIGHBOUR_FRACTION))


class MosaicPosterior:
    """Aggregate posteriors of K sections chained by nearest-neighbour switches at boundaries.

    Args:
        neighbours: m, candidates of each switch (>= 1; None: :func:`default_neighbours` of the
            training set's size, resolved by :meth:`fit`).
        seed: Seed of the tie-breaking jitter.
    """

    def __init__(self, neighbours: int | None = None, seed: int = 0) -> None:
        if neighbours is not None and neighbours < 1:
            raise ValueError(f"neighbours must be >= 1, got {neighbours}")
        self.neighbours = None if neighbours is None else int(neighbours)
        self.seed = seed

    def fit(self, means: Sequence[np.ndarray], stds: Sequence[np.ndarray]) -> MosaicPosterior:
        """Keep the posteriors and each section's neighbour table.

        Args:
            means: K arrays of posterior means of the same n training haplotypes, (n, L_k).
            stds: K arrays of posterior standard deviations, (n, L_k).
        """
        self.means_ = [np.asarray(m, np.float64) for m in means]
        self.stds_ = [np.asarray(s, np.float64) for s in stds]
        n = len(self.means_[0])
        if any(len(m) != n for m in self.means_ + self.stds_):
            raise ValueError("every section's posteriors must have one row per training haplotype")
        if self.neighbours is None:
            self.neighbours = default_neighbours(n)
        m = min(self.neighbours, n)
        rng = np.random.default_rng(self.seed)
        self.table_ = []
        for mean in self.means_[:-1]:
            jitter = 1e-6 * (mean.std() + 1e-12) * rng.standard_normal(mean.shape)
            search = NearestNeighbors(n_neighbors=m).fit(mean + jitter)
            self.table_.append(search.kneighbors(mean + jitter, return_distance=False))
        return self

    def sample(self, n: int, rng: np.random.Generator) -> list[np.ndarray]:
        """``n`` code tuples: K arrays, the k-th of shape (n, L_k)."""
        return list(self.iter_sample(n, rng))

    def iter_sample(self, n: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
        """The codes of ``n`` haplotypes section by section (the k-th: shape (n, L_k)); only the
        current training haplotype of each is kept between sections."""
        rows = rng.integers(0, len(self.means_[0]), n)
        for k, (mean, std) in enumerate(zip(self.means_, self.stds_, strict=True)):
            if k:
                table = self.table_[k - 1]
                rows = table[rows, rng.integers(0, table.shape[1], n)]
            yield mean[rows] + std[rows] * rng.standard_normal((n, mean.shape[1]))
