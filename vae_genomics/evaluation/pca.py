"""PCA of haplotypes with Patterson scaling, fitted on real training haplotypes only.

Population-genetics convention (Patterson et al. 2006; scikit-allel's ``scaler='patterson'`` with
ploidy 1): drop sites monomorphic in the fitting set, centre each site by its allele frequency p and
divide by ``sqrt(p (1 - p))``. Everything else (held-out, decoded, generated haplotypes) is projected
with the fitted centring, scaling and axes.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

#: Most sites whose PCA is the full eigendecomposition of their covariance (ARPACK above): the
#: two cost the same at about 1,000 sites on one thread (0.34 s and 0.23 s at 1,171 sites,
#: 3.2 s and 0.67 s at 2,728, 4,003 haplotypes; BENCHMARKS.md, "Evaluation time per section").
EIGH_MAX_SITES = 1000


class HaplotypePCA:
    """Patterson-scaled PCA of 0/1 haplotypes (rows) in the scikit-learn style.

    Args:
        n_components: Number of principal components.
        random_state: Seed of the solver's start (ARPACK).
        max_sites: Thin to at most this many of the polymorphic sites, evenly spaced in site
            order (a region's PCA on thinned sites); None keeps every polymorphic site.

    Attributes:
        keep_: Boolean mask of the sites used (polymorphic in the fitting data), shape (n_variants,).
        mean_: Allele frequency of each kept site, shape (n_kept,).
        scale_: ``sqrt(p (1 - p))`` of each kept site, shape (n_kept,).
        pca_: The fitted :class:`sklearn.decomposition.PCA`.
        explained_variance_ratio_: Fraction of variance per component, shape (n_components,).
    """

    def __init__(
        self, n_components: int = 4, random_state: int | None = 0, max_sites: int | None = None
    ) -> None:
        self.n_components = n_components
        self.random_state = random_state
        self.max_sites = max_sites

    def fit(self, haplotypes: np.ndarray) -> HaplotypePCA:
        """Fit on real haplotypes, shape (n_haplotypes, n_variants), values in [0, 1]."""
        x = np.asarray(haplotypes)
        p = x.mean(axis=0, dtype=np.float64)  # no float copy of the whole matrix
        self.keep_ = _thin((p > 0) & (p < 1), self.max_sites)
        if self.keep_.sum() < self.n_components:
            raise ValueError(
                f"PCA needs at least {self.n_components} polymorphic sites, got {self.keep_.sum()}"
            )
        self.mean_ = p[self.keep_]
        self.scale_ = np.sqrt(self.mean_ * (1.0 - self.mean_))
        n_comp = min(self.n_components, x.shape[0] - 1, int(self.keep_.sum()))
        # up to EIGH_MAX_SITES sites (and no more than haplotypes): the full eigendecomposition
        # of the sites' covariance, ~4x faster than the SVD of the data; more sites (a large
        # section, a region): ARPACK's few leading singular vectors, 5x faster than that
        # eigendecomposition at 2,700 sites and without the full SVD's n_sites × n_haplotypes
        # factor that made a region's PCA take minutes and gigabytes (BENCHMARKS.md, "The region
        # page's PCA"). Both give the same components to ~1e-14; a component whose largest
        # loadings tie in size with opposite signs (complementary sites) may come out flipped.
        n_sites = int(self.keep_.sum())
        solver = "covariance_eigh" if n_sites <= min(EIGH_MAX_SITES, x.shape[0]) else "arpack"
        self.pca_ = PCA(n_components=n_comp, svd_solver=solver, random_state=self.random_state)
        self.pca_.fit(self._scale(x))
        self.explained_variance_ratio_ = self.pca_.explained_variance_ratio_
        return self

    def _scale(self, x: np.ndarray) -> np.ndarray:
        """The kept sites of ``x``, centred and Patterson-scaled, float64 (one copy)."""
        y = np.asarray(x)[:, self.keep_].astype(np.float64)
        y -= self.mean_
        y /= self.scale_
        return y

    def transform(self, haplotypes: np.ndarray) -> np.ndarray:
        """Project haplotypes or probabilities, shape (n, n_variants) → (n, n_components)."""
        return self.pca_.transform(self._scale(haplotypes))


def _thin(keep: np.ndarray, max_sites: int | None) -> np.ndarray:
    """``keep`` (a boolean mask) reduced to at most ``max_sites`` of its sites, evenly spaced."""
    if max_sites is None or keep.sum() <= max_sites:
        return keep
    if max_sites < 1:
        raise ValueError(f"max_sites must be >= 1, got {max_sites}")
    sites = np.flatnonzero(keep)
    chosen = sites[np.unique(np.linspace(0, len(sites) - 1, max_sites).round().astype(np.int64))]
    thinned = np.zeros_like(keep)
    thinned[chosen] = True
    return thinned
