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

The neighbours can be searched on other features than the posterior means (``switch_on``): the
region sampler gives the training haplotypes' alleles at the last common sites (MAF ≥ 1%) before
each boundary, where the linkage across the boundary lives (over the simulated chromosome,
boundary LD 0.91–0.94 × the ceiling against 0.76–0.79 × for the means:
experiments/notebook/region-mosaic.md, "Switches chosen at the boundary").

With a group label per training haplotype (its population or superpopulation), switches stay
inside the template's group: over a chromosome of dozens of sections, free switches let a
haplotype wander across population structure one boundary at a time (on the simulated 20 Mb
chromosome its coverage fell to 0.29 × the real-vs-real ceiling in PCA space), while grouped
switches keep each synthetic haplotype's ancestry from one end to the other
(experiments/notebook/region-mosaic.md, "A chromosome: switches within the population").

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


#: Sites before each boundary whose alleles choose the mosaic's switches (chosen by measurement:
#: experiments/notebook/region-mosaic.md, "Switches chosen at the boundary").
DEFAULT_SWITCH_SITES = 60


#: The same for each population's own mosaic (``sample --region --populations`` or ``--admixed``):
#: 0, switches in the latent space. On the 1000 Genomes region, 60 sites left boundary LD where
#: it was and traded coverage for privacy (experiments/notebook/population-conditioning.md,
#: "Switches chosen at the boundary, by superpopulation").
DEFAULT_GROUP_SWITCH_SITES = 0


def default_neighbours(n_train: int) -> int:
    """The default number of neighbours per switch for ``n_train`` training haplotypes (>= 1)."""
    return max(1, round(n_train * NEIGHBOUR_FRACTION))


def _members(groups: np.ndarray) -> list[np.ndarray]:
    """Row indices of each group, in the order of the sorted labels."""
    return [np.flatnonzero(groups == g) for g in np.unique(groups)]


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

    def fit(
        self,
        means: Sequence[np.ndarray],
        stds: Sequence[np.ndarray],
        groups: np.ndarray | None = None,
        switch_on: Sequence[np.ndarray] | None = None,
    ) -> MosaicPosterior:
        """Keep the posteriors and each section's neighbour table.

        Args:
            means: K arrays of posterior means of the same n training haplotypes, (n, L_k).
            stds: K arrays of posterior standard deviations, (n, L_k).
            groups: A label per training haplotype, shape (n,) (e.g. its population), or None.
                With labels, a haplotype switches only to neighbours of its own group, so a
                synthetic haplotype keeps its template's ancestry along the whole region; each
                group's neighbours are scaled to its own size (unless ``neighbours`` is set,
                then at most the group's size).
            switch_on: K - 1 arrays of what the neighbours are searched on at each boundary,
                the k-th of shape (n, d_k) (e.g. the training haplotypes' alleles at the last sites
                before the boundary, :func:`vae_genomics.generate.region.boundary_alleles`);
                None: the posterior means of the section before.
        """
        self.means_ = [np.asarray(m, np.float64) for m in means]
        self.stds_ = [np.asarray(s, np.float64) for s in stds]
        n = len(self.means_[0])
        if any(len(m) != n for m in self.means_ + self.stds_):
            raise ValueError("every section's posteriors must have one row per training haplotype")
        if groups is not None and len(groups) != n:
            raise ValueError(f"{len(groups)} group labels for {n} training haplotypes")
        if switch_on is not None and (
            len(switch_on) != len(self.means_) - 1 or any(len(f) != n for f in switch_on)
        ):
            raise ValueError(
                f"switch_on needs one array per boundary ({len(self.means_) - 1}), each with "
                f"one row per training haplotype ({n})"
            )
        members = [np.arange(n)] if groups is None else _members(np.asarray(groups))
        widths = [self._width(len(rows)) for rows in members]
        if self.neighbours is None:
            self.neighbours = default_neighbours(n) if groups is None else max(widths)
        self.widths_ = None
        if groups is not None:
            self.widths_ = np.empty(n, dtype=np.int64)
            for rows, m in zip(members, widths, strict=True):
                self.widths_[rows] = m
        rng = np.random.default_rng(self.seed)
        self.table_ = []
        searched = self.means_[:-1] if switch_on is None else switch_on
        for mean in (np.asarray(f, np.float64) for f in searched):
            jittered = mean + 1e-6 * (mean.std() + 1e-12) * rng.standard_normal(mean.shape)
            table = np.zeros((n, max(widths)), dtype=np.int64)
            for rows, m in zip(members, widths, strict=True):
                x = jittered[rows]
                near = NearestNeighbors(n_neighbors=m).fit(x).kneighbors(x, return_distance=False)
                table[rows, :m] = rows[near]
            self.table_.append(table)
        return self

    def _width(self, size: int) -> int:
        """Candidates of each switch in a group of ``size`` training haplotypes."""
        if self.neighbours is None:
            return min(default_neighbours(size), size)
        return min(self.neighbours, size)

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
                if self.widths_ is None:
                    rows = table[rows, rng.integers(0, table.shape[1], n)]
                else:  # each row's own group's candidates
                    rows = table[rows, rng.integers(0, self.widths_[rows])]
            yield mean[rows] + std[rows] * rng.standard_normal((n, mean.shape[1]))
