"""PCA of haplotypes with Patterson scaling, fitted on real training haplotypes only.

Population-genetics convention (Patterson et al. 2006; scikit-allel's ``scaler='patterson'`` with
ploidy 1): drop sites monomorphic in the fitting set, centre each site by its allele frequency p and
divide by ``sqrt(p (1 - p))``. Everything else (held-out, decoded, generated haplotypes) is projected
with the fitted centring, scaling and axes.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA


class HaplotypePCA:
    """Patterson-scaled PCA of 0/1 haplotypes (rows) in the scikit-learn style.

    Args:
        n_components: Number of principal components.
        random_state: Seed of the randomized solver.

    Attributes:
        keep_: Boolean mask of the sites used (polymorphic in the fitting data), shape (n_variants,).
        mean_: Allele frequency of each kept site, shape (n_kept,).
        scale_: ``sqrt(p (1 - p))`` of each kept site, shape (n_kept,).
        pca_: The fitted :class:`sklearn.decomposition.PCA`.
        explained_variance_ratio_: Fraction of variance per component, shape (n_components,).
    """

    def __init__(self, n_components: int = 4, random_state: int | None = 0) -> None:
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, haplotypes: np.ndarray) -> HaplotypePCA:
        """Fit on real haplotypes, shape (n_haplotypes, n_variants), values in [0, 1]."""
        x = np.asarray(haplotypes, dtype=np.float64)
        p = x.mean(axis=0)
        self.keep_ = (p > 0) & (p < 1)
        if self.keep_.sum() < self.n_components:
            raise ValueError(
                f"PCA needs at least {self.n_components} polymorphic sites, got {self.keep_.sum()}"
            )
        self.mean_ = p[self.keep_]
        self.scale_ = np.sqrt(self.mean_ * (1.0 - self.mean_))
        n_comp = min(self.n_components, x.shape[0] - 1, int(self.keep_.sum()))
        # at most as many variants as haplotypes (the usual section): the eigendecomposition of the
        # variants' covariance gives the same components ~4x faster than the SVD of the data
        solver = "covariance_eigh" if self.keep_.sum() <= x.shape[0] else "full"
        self.pca_ = PCA(n_components=n_comp, svd_solver=solver, random_state=self.random_state)
        self.pca_.fit(self._scale(x))
        self.explained_variance_ratio_ = self.pca_.explained_variance_ratio_
        return self

    def _scale(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64)[:, self.keep_] - self.mean_) / self.scale_

    def transform(self, haplotypes: np.ndarray) -> np.ndarray:
        """Project haplotypes or probabilities, shape (n, n_variants) → (n, n_components)."""
        return self.pca_.transform(self._scale(haplotypes))
