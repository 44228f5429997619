"""Importance-weighted estimate of the held-out negative log-likelihood (Burda et al. 2016).

For a haplotype x and K draws z_k ~ q(z|x) (the encoder's diagonal Gaussian),

    log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x)
    log p(x) >= L_K(x) = logsumexp_k(log w_k) - log K

with log p(x|z) = -bernoulli_nll(x, decoder(z)) (sum over variants) and p(z) the model's prior
(N(0, I), or the mixture learned with it; :mod:`~vae_genomics.generate.prior`). L_K increases
with K towards log p(x) and L_1 is the ELBO, so the returned ``-L_K`` is an upper bound on the NLL that
tightens as K grows and is never above the single-sample -ELBO of the same draws (Jensen). Units:
nats per haplotype.

The likelihood is always the Bernoulli one of the decoder's logits, also for a model trained with the
Gaussian option: a Gaussian density on 0/1 data is not a probability of the haplotypes, whereas the
Bernoulli NLL is comparable across models and KL weights.

With an LD-aware head (:class:`~vae_genomics.generate.context.ContextHead`, the ``ld`` decoder),
log p(x|z) is the head's sequential likelihood instead: the estimate is then the NLL of the VAE's
prior and encoder with the head as decoder (the same bound, another decoder).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Sequence

import numpy as np
import tensorflow as tf
from scipy.special import logsumexp

from vae_genomics.generate.context import ContextHead
from vae_genomics.generate.prior import PriorMixture, model_prior
from vae_genomics.models.inference import encode
from vae_genomics.models.vae import HaplotypeVAE

log = logging.getLogger(__name__)

_LOG_2PI = float(np.log(2.0 * np.pi))

#: Model → its compiled :func:`_graph_log_likelihood` (with XLA where the model trains with it
#: (``training.jit_compile``): the terms and their sum fused, a third off the bound's time).
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def bernoulli_log_likelihood(x: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """log p(x|logits) = sum_j x_j l_j - softplus(l_j), stable for large |l|.

    Args:
        x: Alleles in {0, 1}, shape (..., n_variants).
        logits: Decoder logits broadcastable to ``x``.

    Returns:
        Nats, shape ``x.shape[:-1]`` (float64).
    """
    logits = np.asarray(logits, dtype=np.float64)
    return np.sum(np.asarray(x, dtype=np.float64) * logits - np.logaddexp(0.0, logits), axis=-1)


def decoded_log_likelihood(
    model: HaplotypeVAE,
    z: np.ndarray,
    x: np.ndarray,
    heads: Sequence[ContextHead | None] = (None,),
) -> np.ndarray:
    """log p(x|z) under each of several likelihoods of the same decoded codes, computed beside
    the decoder: its independent Bernoulli sites (None) or an LD-aware head.

    The decoder runs once and its logits never leave the graph: each row's sum over variants is
    what comes back (a (b·K, n_variants) array of logits would be the largest allocation of an
    importance-weighted bound). With a head, site j's logit is ``a_j l_j + c_j(x)``
    (:meth:`~vae_genomics.generate.context.ContextHead.offsets`, made once per haplotype). The
    terms and their sum over variants are float32 (TensorFlow's tree reduction): against
    :func:`bernoulli_log_likelihood` (or the head's ``log_prob``) of the same logits the relative
    difference is about 1.5e-7 at 100 to 40,000 sites (0.01 nats of a 40,000-site sum); a float64
    sum took up to a quarter more time (BENCHMARKS.md, "Evaluation time per section").

    Args:
        model: Trained model.
        z: Latent codes, shape (b·K, latent_dim): K consecutive rows per haplotype.
        x: The b haplotypes, 0/1, shape (b, n_variants).
        heads: The likelihoods: None for the decoder's own sites, or a fitted LD-aware head.

    Returns:
        Nats, shape (len(heads), b, K), float64.
    """
    x = np.asarray(x)
    slopes, offsets = [], []
    for head in heads:
        a, c = (np.ones(x.shape[1]), np.zeros(x.shape)) if head is None else head.offsets(x)
        slopes.append(a)
        offsets.append(c)
    fn = _COMPILED.get(model)
    if fn is None:  # one compiled function per model, gone with it; XLA as the model trains
        ref = weakref.ref(model)  # the function must not keep its own key alive
        fn = tf.function(
            lambda z, x, a, c, n: _graph_log_likelihood(ref(), z, x, a, c, n),
            jit_compile=bool(getattr(model, "jit_compile", False)),
            reduce_retracing=True,
        )
        _COMPILED[model] = fn
    args = (z, x, np.stack(slopes), np.stack(offsets))
    out = fn(*(tf.convert_to_tensor(v, tf.float32) for v in args), len(heads))
    return np.asarray(out).reshape(len(heads), len(x), -1)


def _graph_log_likelihood(
    model: HaplotypeVAE,
    z: tf.Tensor,
    x: tf.Tensor,
    slopes: tf.Tensor,
    offsets: tf.Tensor,
    n_heads: int,
) -> tf.Tensor:
    """The graph of :func:`decoded_log_likelihood`: (b·K, latent) codes, (b, L) haplotypes,
    (H, L) slopes and (H, b, L) offsets, H = ``n_heads`` (a Python int: traced once per H)
    → (H, b, K)."""
    logits = tf.cast(model.decode(z, training=False), tf.float32)
    logits = tf.reshape(logits, (tf.shape(x)[0], -1, tf.shape(x)[1]))
    sign = 2.0 * x[:, None, :] - 1.0  # log p(x) = log sigmoid(±eta)
    sums = []
    for h in range(n_heads):  # one (b, K, L) block at a time
        eta = logits * slopes[h] + offsets[h][:, None, :]
        sums.append(tf.cast(tf.reduce_sum(tf.math.log_sigmoid(sign * eta), axis=-1), tf.float64))
    return tf.stack(sums)


def _log_weights(
    model: HaplotypeVAE,
    x: np.ndarray,
    mean: np.ndarray,
    log_var: np.ndarray,
    n_samples: int,
    rng: np.random.Generator,
    prior: PriorMixture,
    heads: Sequence[ContextHead | None],
) -> np.ndarray:
    """log w of ``n_samples`` posterior draws for each of the b haplotypes under each likelihood,
    shape (len(heads), b, n_samples)."""
    b, latent_dim = mean.shape
    eps = rng.standard_normal((b, n_samples, latent_dim))
    std = np.exp(0.5 * log_var)[:, None, :]
    z = mean[:, None, :] + std * eps
    flat_z = z.reshape(b * n_samples, latent_dim).astype(np.float32)  # each haplotype's draws
    log_px_z = decoded_log_likelihood(model, flat_z, x, heads)  # consecutive
    # log q(z|x) at z = mean + std * eps: the squared standardised residual is eps²
    log_qz_x = -0.5 * np.sum(eps**2 + _LOG_2PI + log_var[:, None, :], axis=-1)
    return log_px_z + prior.log_density(z) - log_qz_x


def importance_weighted_nll(
    model: HaplotypeVAE,
    x: np.ndarray,
    n_samples: int = 100,
    seed: int | np.random.Generator | None = 0,
    max_rows: int = 8192,
    head: ContextHead | None = None,
) -> dict[str, float | int | np.ndarray]:
    """Importance-weighted NLL with K = ``n_samples`` posterior draws per haplotype.

    Args:
        model: Trained model.
        x: Held-out haplotypes, shape (n, n_variants), values 0/1.
        n_samples: Importance samples K per haplotype (K = 1 gives the -ELBO estimate).
        seed: Seed or generator of the posterior draws (numpy, independent of Keras's noise).
        max_rows: Decoder rows per forward pass; haplotypes are processed in chunks of
            ``max(1, max_rows // n_samples)``, and K is split when it alone exceeds ``max_rows``.
        head: A fitted LD-aware head to use as the decoder's likelihood (default: the decoder's
            independent Bernoulli sites).

    Returns:
        ``nll``: mean over haplotypes of ``-L_K`` (nats per haplotype);
        ``neg_elbo``: mean over haplotypes and draws of ``-log w`` (the Monte Carlo -ELBO of the same
        draws; ``nll <= neg_elbo`` always); ``per_haplotype``: ``-L_K`` of each haplotype, shape (n,);
        ``n_samples``: K.
    """
    return importance_weighted_nlls(model, x, (head,), n_samples, seed, max_rows)[0]


def importance_weighted_nlls(
    model: HaplotypeVAE,
    x: np.ndarray,
    heads: Sequence[ContextHead | None],
    n_samples: int = 100,
    seed: int | np.random.Generator | None = 0,
    max_rows: int = 8192,
) -> list[dict[str, float | int | np.ndarray]]:
    """:func:`importance_weighted_nll` under each of ``heads`` (None: the decoder's own sites)
    from the same draws, decoded once: each bound equals the one computed alone with the seed.

    Returns:
        One dict of :func:`importance_weighted_nll` per head, in order.
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    rng = np.random.default_rng(seed)
    x = np.asarray(x)
    mean, log_var = encode(model, x)
    mean, log_var = mean.astype(np.float64), log_var.astype(np.float64)
    rows = max(1, max_rows // n_samples)
    k_chunk = min(n_samples, max_rows)
    per_haplotype = np.empty((len(heads), len(x)))
    log_w_sum = np.zeros(len(heads))
    prior = model_prior(model)
    for start in range(0, len(x), rows):
        stop = min(start + rows, len(x))
        parts = [
            _log_weights(
                model,
                x[start:stop],
                mean[start:stop],
                log_var[start:stop],
                min(k_chunk, n_samples - k0),
                rng,
                prior,
                heads,
            )
            for k0 in range(0, n_samples, k_chunk)
        ]
        log_w = np.concatenate(parts, axis=2)
        per_haplotype[:, start:stop] = np.log(n_samples) - logsumexp(log_w, axis=2)
        log_w_sum += log_w.sum(axis=(1, 2))
    out = []
    for h in range(len(heads)):
        nll = float(per_haplotype[h].mean())
        log.debug("IW-NLL with K=%d over %d haplotypes: %.3f nats", n_samples, len(x), nll)
        out.append(
            {
                "nll": nll,
                "neg_elbo": float(-log_w_sum[h] / (len(x) * n_samples)),
                "per_haplotype": per_haplotype[h],
                "n_samples": int(n_samples),
            }
        )
    return out
