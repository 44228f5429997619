"""Joint latent models over consecutive sections: codes z_1..z_K drawn together, not one by one.

Each section's VAE has its own latent space; a synthetic haplotype over a region needs one code per
section, z_k of dimension L_k. Fitted on the training haplotypes' posterior codes of every section
(haplotype i contributes the tuple (z_1^i, ..., z_K^i)):

- ``chain``: a Markov chain along the genome, p(z_1) ∏_k p(z_k | z_{k-1}). p(z_1) is a Gaussian
  mixture; each link fits a Gaussian mixture to the concatenated pairs [z_{k-1}, z_k] and conditions
  it on z_{k-1} in closed form (:func:`condition_gaussian` per component, the component weights
  re-weighted by how well each explains z_{k-1}). It scales to any number of sections, and every
  mixture lives in at most 2 · max L_k dimensions.
- ``joint``: one Gaussian mixture over the concatenation [z_1, ..., z_K] (short regions: its
  dimension grows with K and the training set does not).
- ``independent``: a Gaussian mixture per section, drawn independently: the floor, what sampling
  each section on its own gives (a haplotype becomes an unrelated one at every boundary).
- ``mosaic``: no mixture: the sections' aggregate posteriors, a training haplotype's posterior per
  section, switching at each boundary to one of the nearest training haplotypes in the section
  before (:mod:`vae_genomics.generate.mosaic`; fitted on posterior means and spreads).

The chain is the Gaussian-mixture analogue of the joint latent model H2G2 fits across sections
(there a WGAN over neighbouring sections' codes). Components are chosen by BIC among 1, 2, 4, ...
and the largest count the training set supports (at most ``max_components``; ~5 points per
parameter block), unless fixed. Draws are seeded with numpy generators.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Sequence
from typing import Literal

import numpy as np
from scipy.special import logsumexp
from sklearn.mixture import GaussianMixture

from vae_genomics.generate.mosaic import MosaicPosterior

log = logging.getLogger(__name__)

JOINT_MODELS = ("mosaic", "chain", "joint", "independent")
Seed = int | np.random.Generator | None


def condition_gaussian(
    mean: np.ndarray, cov: np.ndarray, x_a: np.ndarray, n_a: int
) -> tuple[np.ndarray, np.ndarray]:
    """Conditional of a Gaussian N(mean, cov) over [a, b] given a = x_a (Bishop 2006, eq. 2.81-2.82).

    mean_b|a = mu_b + S_ba S_aa^-1 (x_a - mu_a);  cov_b|a = S_bb - S_ba S_aa^-1 S_ab.

    Args:
        mean: Joint mean, shape (d_a + d_b,).
        cov: Joint covariance, shape (d_a + d_b, d_a + d_b), positive definite.
        x_a: Observed values of the first ``n_a`` coordinates, shape (m, n_a).
        n_a: Number of conditioning coordinates d_a.

    Returns:
        ``(means, cov_b)``: conditional means, shape (m, d_b), and the conditional covariance,
        shape (d_b, d_b) (the same for every x_a).
    """
    mean, cov = np.asarray(mean, np.float64), np.asarray(cov, np.float64)
    mu_a, mu_b = mean[:n_a], mean[n_a:]
    s_aa, s_ab, s_bb = cov[:n_a, :n_a], cov[:n_a, n_a:], cov[n_a:, n_a:]
    gain = np.linalg.solve(s_aa, s_ab).T  # S_ba S_aa^-1, shape (d_b, d_a)
    means = mu_b + (np.atleast_2d(x_a) - mu_a) @ gain.T
    cov_b = s_bb - gain @ s_ab
    return means, 0.5 * (cov_b + cov_b.T)


def gaussian_logpdf(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """log N(x; mean, cov) of each row of ``x`` (m, d), nats, shape (m,)."""
    chol = np.linalg.cholesky(cov)
    diff = np.linalg.solve(chol, (np.atleast_2d(x) - mean).T)  # (d, m)
    log_det = 2.0 * np.log(np.diag(chol)).sum()
    d = len(mean)
    return -0.5 * ((diff**2).sum(axis=0) + log_det + d * np.log(2.0 * np.pi))


def fit_mixture(
    points: np.ndarray,
    n_components: int | None,
    max_components: int = 8,
    reg_covar: float = 1e-4,
    seed: int = 0,
) -> GaussianMixture:
    """A full-covariance Gaussian mixture on ``points`` (n, d); components by BIC when None.

    Fitted on one BLAS/OpenMP thread: the d × d algebra is too small to share, and threads waiting
    on each other made these fits about 4× slower on 2 cores (experiments/notebook/regions.md, "Regions").
    """
    from threadpoolctl import threadpool_limits

    points = np.asarray(points, np.float64)
    if n_components is not None:
        candidates = [min(n_components, len(points))]
    else:  # at least ~5 points per parameter block keeps a full covariance estimable
        limit = max(1, min(max_components, len(points) // (5 * (points.shape[1] + 1))))
        candidates = sorted({*(2**i for i in range(limit.bit_length()) if 2**i <= limit), limit})
    best, best_bic = None, np.inf
    with threadpool_limits(limits=1):
        for k in candidates:
            gmm = GaussianMixture(k, covariance_type="full", reg_covar=reg_covar, random_state=seed)
            gmm.fit(points)
            bic = gmm.bic(points) if len(candidates) > 1 else 0.0
            if bic < best_bic:
                best, best_bic = gmm, bic
    assert best is not None
    return best


def _draw_components(log_weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One component per row from row-wise log weights (m, C), by inverse CDF."""
    w = np.exp(log_weights - logsumexp(log_weights, axis=1, keepdims=True))
    cdf = np.cumsum(w, axis=1)
    u = rng.random((len(w), 1)) * cdf[:, -1:]
    return np.minimum((u > cdf).sum(axis=1), w.shape[1] - 1)


def sample_mixture(gmm: GaussianMixture, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws of a fitted mixture, shape (n, d), in random component order."""
    comp = _draw_components(np.tile(np.log(gmm.weights_), (n, 1)), rng)
    chol = np.linalg.cholesky(gmm.covariances_)
    eps = rng.standard_normal((n, gmm.means_.shape[1]))
    return gmm.means_[comp] + np.einsum("nij,nj->ni", chol[comp], eps)


class ConditionalMixture:
    """p(b | a) of a Gaussian mixture fitted to pairs [a, b] (module docstring).

    Given a, component c has weight ∝ w_c N(a; mu_a^c, S_aa^c) and the Gaussian conditional
    N(mu_b|a^c, S_b|a^c) of :func:`condition_gaussian`.

    Attributes:
        gmm_: The joint mixture over [a, b].
        n_a_: Dimension of a.
    """

    def __init__(
        self, n_components: int | None = None, max_components: int = 8, seed: int = 0
    ) -> None:
        self.n_components = n_components
        self.max_components = max_components
        self.seed = seed

    def fit(self, a: np.ndarray, b: np.ndarray) -> ConditionalMixture:
        """Fit on paired rows: ``a`` (n, d_a), ``b`` (n, d_b)."""
        self.n_a_ = int(np.shape(a)[1])
        pairs = np.concatenate([np.asarray(a), np.asarray(b)], axis=1)
        self.gmm_ = fit_mixture(pairs, self.n_components, self.max_components, seed=self.seed)
        return self

    def component_log_weights(self, a: np.ndarray) -> np.ndarray:
        """log p(c | a) for each row of ``a`` (m, d_a), shape (m, C), normalised per row."""
        g, n_a = self.gmm_, self.n_a_
        logw = np.stack(
            [
                np.log(g.weights_[c]) + gaussian_logpdf(a, g.means_[c, :n_a], g.covariances_[c, :n_a, :n_a])
                for c in range(g.n_components)
            ],
            axis=1,
        )  # fmt: skip
        return logw - logsumexp(logw, axis=1, keepdims=True)

    def sample(self, a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One draw of b for each row of ``a`` (m, d_a), shape (m, d_b)."""
        g, n_a = self.gmm_, self.n_a_
        comp = _draw_components(self.component_log_weights(a), rng)
        out = np.empty((len(a), g.means_.shape[1] - n_a))
        for c in np.unique(comp):
            rows = comp == c
            means, cov = condition_gaussian(g.means_[c], g.covariances_[c], a[rows], n_a)
            chol = np.linalg.cholesky(cov + 1e-9 * np.eye(len(cov)))
            out[rows] = means + rng.standard_normal(means.shape) @ chol.T
        return out


class RegionLatentModel:
    """A joint latent model over K sections' codes (``mosaic``, ``chain``, ``joint`` or
    ``independent``).

    Args:
        kind: Which model (module docstring).
        n_components: Mixture components (None: BIC over ``1..max_components``).
        max_components: Largest number tried by BIC.
        seed: Seed of the mixture fits (and of the mosaic's tie-breaking).
        neighbours: Candidates of each switch of the ``mosaic`` (None: scaled to the number of
            training haplotypes, :func:`~vae_genomics.generate.mosaic.default_neighbours`).
    """

    def __init__(
        self,
        kind: Literal["mosaic", "chain", "joint", "independent"] = "chain",
        n_components: int | None = None,
        max_components: int = 8,
        seed: int = 0,
        neighbours: int | None = None,
    ) -> None:
        if kind not in JOINT_MODELS:
            raise ValueError(f"unknown joint model {kind!r}: use one of {', '.join(JOINT_MODELS)}")
        self.kind = kind
        self.n_components = n_components
        self.max_components = max_components
        self.seed = seed
        self.neighbours = neighbours

    def fit(
        self,
        codes: Sequence[np.ndarray],
        stds: Sequence[np.ndarray] | None = None,
        groups: np.ndarray | None = None,
        switch_on: Sequence[np.ndarray] | None = None,
    ) -> RegionLatentModel:
        """Fit on per-section codes of the same haplotypes: ``codes[k]`` has shape (n, L_k);
        ``mosaic`` also takes the posterior standard deviations ``stds`` (same shapes; default
        zero: the codes themselves) and, optionally, a group label per haplotype (shape (n,):
        switches stay inside each group) and what each boundary's switch is chosen on
        (``switch_on``, :class:`MosaicPosterior`)."""
        codes = [np.asarray(z, np.float64) for z in codes]
        if len({len(z) for z in codes}) != 1:
            raise ValueError("every section's codes must have one row per training haplotype")
        self.dims_ = [z.shape[1] for z in codes]
        if self.kind == "mosaic":
            spreads = stds if stds is not None else [np.zeros_like(z) for z in codes]
            self.mosaic_ = MosaicPosterior(self.neighbours, self.seed).fit(
                codes, spreads, groups, switch_on
            )
            self.mixtures_ = []
            within = (
                "" if groups is None else f" (at most), within each of {len(set(groups))} groups"
            )
            log.info("mosaic latent model over %d sections: %d neighbours per switch%s",
                     len(codes), self.mosaic_.neighbours, within)  # fmt: skip
            return self
        fit = lambda x: fit_mixture(x, self.n_components, self.max_components, seed=self.seed)  # noqa: E731
        if self.kind == "joint":
            self.mixtures_ = [fit(np.concatenate(codes, axis=1))]
        elif self.kind == "independent":
            self.mixtures_ = [fit(z) for z in codes]
        else:
            self.mixtures_ = [fit(codes[0])]
            self.links_ = [
                ConditionalMixture(self.n_components, self.max_components, self.seed).fit(a, b)
                for a, b in itertools.pairwise(codes)
            ]
        log.info("%s latent model over %d sections: components %s", self.kind, len(codes),
                 self.components())  # fmt: skip
        return self

    def components(self) -> list[int]:
        """Mixture components: of each mixture (chain: p(z_1) first, then each link; mosaic:
        its neighbours per switch)."""
        if self.kind == "mosaic":
            return [self.mosaic_.neighbours]
        return [int(m.n_components) for m in self.mixtures_] + [
            int(link.gmm_.n_components) for link in getattr(self, "links_", [])
        ]

    def iter_sample(self, n: int, seed: Seed = 0) -> Iterator[np.ndarray]:
        """The codes of ``n`` haplotypes section by section (the k-th: shape (n, L_k)): the
        ``mosaic`` draws them as it goes, the mixtures all at once."""
        if self.kind == "mosaic":
            yield from self.mosaic_.iter_sample(n, np.random.default_rng(seed))
        else:
            yield from self.sample(n, seed)

    def sample(self, n: int, seed: Seed = 0) -> list[np.ndarray]:
        """``n`` code tuples: a list of K arrays, the k-th of shape (n, L_k)."""
        rng = np.random.default_rng(seed)
        if self.kind == "mosaic":
            return self.mosaic_.sample(n, rng)
        if self.kind == "joint":
            z = sample_mixture(self.mixtures_[0], n, rng)
            return np.split(z, np.cumsum(self.dims_)[:-1], axis=1)
        if self.kind == "independent":
            return [sample_mixture(m, n, rng) for m in self.mixtures_]
        out = [sample_mixture(self.mixtures_[0], n, rng)]
        for link in self.links_:
            out.append(link.sample(out[-1], rng))
        return out
