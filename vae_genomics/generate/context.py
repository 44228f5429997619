"""An LD-aware decoder head: each site drawn given the decoder's logit and the K sites before it.

The VAE's decoder gives, for a code z, one logit l_j(z) per site, and the Bernoulli decoder draws
every site independently given z. Real haplotypes of a dense section are not independent given a
16-dimensional code: neighbouring sites are in LD beyond what z carries, and per-site noise puts
samples away from every real haplotype. The head adds that local dependence (a first-order
autoregressive model over the K preceding sites, conditioned on z through l_j):

    logit p(x_j = 1 | z, x_<j) = a_j l_j(z) + sum_{i=1..K} w_{j,i} x_{j-i} + b_j

with one (a_j, w_j, b_j) per site. It is fitted **after** training, on the training haplotypes and
one posterior draw z_i ~ q(z | x_i) each, by penalised logistic regression per site (Newton steps,
all sites at once; an L2 penalty lam/2 (|a_j - 1|^2 + |w_j|^2) keeps it near the plain decoder
where the data say little). Drawn at temperature T, each logit is divided by T (T < 1 sharpens),
except at sites whose minor allele is rarer than :data:`RARE_MAF` among the training haplotypes:
sharpening pulls draws towards a site's commoner allele, which at a rare site removes the very
alleles the site frequency spectrum counts. The VAE is not changed, so its likelihood and its
latent use (AU, MI) are what training left: a head fitted post hoc cannot cause posterior
collapse. Drawing is sequential along the section (one vectorised step per site over all
haplotypes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit

#: Preceding sites of the head when the decoder name gives none (``ld``).
DEFAULT_ORDER = 8
#: Sites of one block of :meth:`ContextHead.log_prob` (memory: n × this many float64).
LOG_PROB_SITES = 1024
#: Sites whose minor allele is rarer than this among the training haplotypes are drawn at
#: temperature 1 whatever T: sharpening pulls a site's draws towards its commoner allele, which
#: removes rare alleles (at T = 0.7 on six real sections, 14% of the sites at 1-10 copies on
#: average, against 6% with this rule; experiments/notebook/rare-variants.md) while common
#: sites gain from it.
RARE_MAF = 0.01


def context_features(logits: np.ndarray, x: np.ndarray, order: int, start: int, stop: int):
    """Design tensor of sites ``start..stop-1``: shape (stop - start, n, order + 2), float64.

    Column 0 is the decoder logit l_j, columns 1..order the preceding sites x_{j-1}..x_{j-order}
    (0 before the first site), the last column 1 (the intercept). ``x`` is read once, as
    ``x[:, max(0, start - order):stop]``.
    """
    first = max(0, start - order)
    block = np.asarray(x[:, first:stop])
    features = np.zeros((stop - start, block.shape[0], order + 2))
    features[:, :, 0] = np.asarray(logits[:, start:stop], dtype=np.float64).T
    for i in range(1, order + 1):
        lo = max(start, i)
        if lo < stop:
            features[lo - start :, :, i] = block[:, lo - i - first : stop - i - first].T
    features[:, :, -1] = 1.0
    return features


@dataclass
class ContextHead:
    """Per-site logistic head over the decoder logit and the ``order`` preceding sites.

    Args:
        order: K, preceding sites each site sees (>= 1).
        penalty: lam of the L2 penalty (nats per unit squared weight).
        iterations: Newton steps.
        chunk: Sites per vectorised Newton solve (memory: chunk × n × (K + 2) float64, 9 MB at
            16 sites of 4,003 haplotypes). A chunk that stays in the CPU's cache is faster than a
            larger one: ``make bench ARGS="--only head"``.

    Attributes:
        weights: After :meth:`fit`, shape (n_sites, K + 2): (a_j, w_{j,1..K}, b_j) per site.
        site_maf: After :meth:`fit`, shape (n_sites,): each site's minor-allele frequency among
            the training haplotypes (sites below :data:`RARE_MAF` are not sharpened).
    """

    order: int = DEFAULT_ORDER
    penalty: float = 1.0
    iterations: int = 12
    chunk: int = 16
    weights: np.ndarray | None = None
    site_maf: np.ndarray | None = None

    def fit(self, logits: np.ndarray, x: np.ndarray) -> ContextHead:
        """Fit the head.

        Args:
            logits: Decoder logits at one posterior draw per haplotype, shape (n, n_sites): an
                array, or anything with that ``shape`` read as ``logits[:, start:stop]``.
            x: The haplotypes, 0/1, shape (n, n_sites): an array, or anything with that
                ``shape`` read as ``x[:, start:stop]`` (a region's training rows, not copied).
        """
        if self.order < 1:
            raise ValueError(f"the head's order must be >= 1, got {self.order}")
        if not hasattr(x, "shape"):
            x = np.asarray(x)  # else kept as given (int8): features and targets made per chunk
        if np.shape(logits) != tuple(x.shape):
            raise ValueError(
                f"logits {np.shape(logits)} and haplotypes {x.shape} must have the same shape"
            )
        m = x.shape[1]
        d = self.order + 2
        prior = np.zeros(d)
        prior[0] = 1.0  # a_j is pulled to 1 (the plain decoder), w_j to 0
        scale = np.full(d, self.penalty)
        scale[-1] = 1e-3 * self.penalty  # b_j nearly free (bounded where a site is monomorphic)
        weights = np.tile(prior, (m, 1))
        frequency = np.zeros(m)
        for start in range(0, m, self.chunk):
            stop = min(m, start + self.chunk)
            features = context_features(logits, x, self.order, start, stop)
            y = np.asarray(x[:, start:stop]).T.astype(np.float64)
            frequency[start:stop] = y.mean(axis=1)
            weights[start:stop] = self._newton(features, y, weights[start:stop], prior, scale)
        self.weights = weights
        self.site_maf = np.minimum(frequency, 1.0 - frequency)
        return self

    def _newton(self, features, y, w, prior, scale) -> np.ndarray:
        """Damped Newton steps on all sites of a chunk; returns the weights, shape (c, K + 2).

        Each step is halved until the site's penalised NLL does not rise (plain Newton diverges on
        sites where the decoder's logits are large and p(1 - p) vanishes). The objective and the
        gradient are float64; the Hessian (:meth:`_hessian`) only sets the step's direction.
        """

        def linear(w: np.ndarray) -> np.ndarray:
            return np.matmul(features, w[:, :, None])[..., 0]

        def objective(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            eta = linear(w)
            # log(1 + e^eta) as max(eta, 0) + log1p(e^-|eta|): np.logaddexp's value to an ulp, in
            # a third of its time (it is the line search's inner loop)
            softplus = np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta)))
            nll = (softplus - y * eta).sum(axis=1)
            return nll + 0.5 * (scale * (w - prior) ** 2).sum(axis=1), eta

        prepared = self._hessian_input(features)
        ridge = np.diag(scale)
        value, eta = objective(w)
        for _ in range(self.iterations):
            p = expit(eta)  # the linear predictor of w, kept from the line search
            grad = np.matmul((p - y)[:, None, :], features)[:, 0, :] + scale * (w - prior)
            step = np.linalg.solve(self._hessian(prepared, p) + ridge, grad[..., None])[..., 0]
            size = np.ones(len(w))
            for _ in range(30):
                trial = w - size[:, None] * step
                new, eta = objective(trial)
                worse = ~(new <= value + 1e-9)
                if not worse.any():
                    break
                size[worse] *= 0.5
            w, value = trial, new
            if np.max(np.abs(size[:, None] * step)) < 1e-6:
                break
        return w

    @staticmethod
    def _hessian_input(features: np.ndarray) -> np.ndarray:
        """The chunk's features as the Hessian reads them: float32, made once per chunk."""
        return features.astype(np.float32)

    @staticmethod
    def _hessian(features: np.ndarray, p: np.ndarray) -> np.ndarray:
        """X^T diag(p (1 - p)) X per site, (c, K + 2, K + 2) float64, from the features scaled by
        sqrt(p (1 - p)) multiplied with themselves in float32: a third of the time of the float64
        product, relative error about 1e-7 (the line search and the float64 gradient decide where
        the steps stop)."""
        scaled = features * np.sqrt(p * (1 - p)).astype(np.float32)[..., None]
        return np.matmul(scaled.transpose(0, 2, 1), scaled).astype(np.float64)

    def _check(self, logits: np.ndarray) -> np.ndarray:
        if self.weights is None:
            raise RuntimeError("fit the context head before using it")
        if np.shape(logits)[1] != len(self.weights):
            raise ValueError(
                f"the context head was fitted on {len(self.weights)} sites, "
                f"got logits for {np.shape(logits)[1]}"
            )
        return self.weights

    def log_prob(self, logits: np.ndarray, x: np.ndarray, repeats: int = 1) -> np.ndarray:
        """log p(x | z) under the head, nats per row of ``logits``, shape (n * repeats,)
        (teacher-forced).

        The head's logit of site j is a_j l_j + c_j(x) with c_j(x) = b_j + sum_i w_{j,i} x_{j-i}:
        c depends on the haplotype only, so it is made once per haplotype (one pass per lag over
        a block of sites; the design tensor of :func:`context_features` is never built) and
        shared by its ``repeats`` rows of logits (an importance-weighted bound's draws).

        Args:
            logits: Decoder logits, shape (n * repeats, n_sites): ``repeats`` consecutive rows
                per haplotype.
            x: The haplotypes, 0/1, shape (n, n_sites).
            repeats: Rows of ``logits`` per haplotype.
        """
        weights = self._check(logits)
        x = np.asarray(x)
        n = len(x)
        if np.shape(logits)[0] != n * repeats:
            raise ValueError(
                f"{np.shape(logits)[0]} rows of logits for {n} haplotypes × {repeats} repeats"
            )
        total = np.zeros((n, repeats))
        for start in range(0, x.shape[1], LOG_PROB_SITES):
            stop = min(x.shape[1], start + LOG_PROB_SITES)
            context = self._context(weights, x, start, stop)
            sign = 2 * x[:, None, start:stop].astype(np.float64) - 1  # log sigmoid(±eta)
            block = np.asarray(logits[:, start:stop], dtype=np.float64)
            eta = block.reshape(n, repeats, -1) * weights[start:stop, 0] + context[:, None, :]
            total += log_expit(sign * eta).sum(axis=2)
        return total.reshape(-1)

    def offsets(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The head's logit of site j as ``a_j l_j + c_j(x)``: the slopes and each haplotype's
        offsets, for a caller that applies them to logits it holds (a graph's).

        Args:
            x: The haplotypes, 0/1, shape (n, n_sites).

        Returns:
            ``a``, shape (n_sites,), and ``c``, shape (n, n_sites), float64.
        """
        weights = self._check(np.zeros((0, np.shape(x)[1])))
        x = np.asarray(x)
        context = [
            self._context(weights, x, start, min(x.shape[1], start + LOG_PROB_SITES))
            for start in range(0, x.shape[1], LOG_PROB_SITES)
        ]
        return weights[:, 0].copy(), np.concatenate(context, axis=1)

    def _context(self, weights: np.ndarray, x: np.ndarray, start: int, stop: int) -> np.ndarray:
        """c_j(x) = b_j + sum_i w_{j,i} x_{j-i} of sites ``start..stop-1``, (n, stop - start):
        one pass per lag over the block (the design tensor is never built)."""
        w = weights[start:stop]
        first = max(0, start - self.order)  # the block's sites and the lags before them
        xb = x[:, first:stop].astype(np.float64)
        context = np.broadcast_to(w[:, -1], (len(x), stop - start)).copy()
        for i in range(1, self.order + 1):
            lo = max(start, i)
            if lo < stop:
                context[:, lo - start :] += (
                    xb[:, lo - i - first : stop - i - first] * w[lo - start :, i]
                )
        return context

    def sample(
        self,
        logits: np.ndarray,
        rng: np.random.Generator,
        temperature: float = 1.0,
        offset: int = 0,
        context: np.ndarray | None = None,
    ) -> np.ndarray:
        """Draw haplotypes site by site, int8 0/1 of the shape of ``logits`` (n, n_sites).

        ``temperature`` T divides each site's head logit (T < 1 sharpens, as the ``temperature``
        decoder does for the plain decoder), except at sites whose training minor-allele
        frequency is below :data:`RARE_MAF`, drawn at T = 1. A block of the head's sites (a
        region drawn section by section) starts at site ``offset``, with ``context`` the alleles
        of the sites before it (n, c), in genome order, c >= min(offset, order); without them
        ``logits`` covers every site of the head (or its first ones).
        """
        n, m = np.shape(logits)
        weights = self._block(offset, m)
        c = min(offset, self.order)
        if c and (context is None or context.shape[0] != n or context.shape[1] < c):
            raise ValueError(
                f"a block at site {offset} needs the alleles of the {c} sites before it for "
                f"its {n} haplotypes, got {None if context is None else context.shape}"
            )
        # the last `order` alleles in a ring: site p's allele in column p % order (columns
        # contiguous); memory n × order floats whatever the block's length
        ring = np.zeros((n, self.order), order="F")
        for p in range(offset - c, offset):
            ring[:, p % self.order] = context[:, context.shape[1] - (offset - p)]
        lags = np.zeros(self.order)
        # a head given its weights by hand (no site_maf) sharpens every site
        maf = np.full(m, 0.5) if self.site_maf is None else self.site_maf[offset : offset + m]
        temperatures = np.where(maf < RARE_MAF, 1.0, temperature)
        out = np.empty((n, m), dtype=np.int8)
        uniforms = rng.random((n, m))
        for j in range(m):
            site = offset + j
            k = min(site, self.order)
            eta = weights[j, 0] * logits[:, j] + weights[j, -1]
            if k:
                lags[:] = 0.0
                lags[[(site - i) % self.order for i in range(1, k + 1)]] = weights[j, 1 : k + 1]
                eta = eta + ring @ lags
            drawn = uniforms[:, j] < expit(eta / temperatures[j])
            out[:, j] = drawn
            ring[:, site % self.order] = drawn
        return out

    def _block(self, offset: int, m: int) -> np.ndarray:
        """The head's weights of sites ``offset .. offset + m``."""
        if self.weights is None:
            raise RuntimeError("fit the context head before using it")
        if offset < 0 or offset + m > len(self.weights):
            raise ValueError(
                f"the context head was fitted on {len(self.weights)} sites, got a block of {m} "
                f"at site {offset}"
            )
        return self.weights[offset : offset + m]
