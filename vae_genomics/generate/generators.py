"""Generators of synthetic haplotypes: where latent codes come from, and how codes become 0/1.

A generator is a *code source* and a *decoder*, named ``source/decoder`` (:func:`make_generator`),
optionally followed by a copy guard, ``source/decoder/guard[:F]``:

Code sources (fitted to the posteriors q(z|x_i) of the training haplotypes):

- ``prior``: z ~ p(z), the model's prior: N(0, I), or the mixture learned with the model
  (``objective.prior.kind: mog``).
- ``gmm``: a Gaussian mixture on the aggregate posterior, components chosen by BIC
  (:class:`~vae_genomics.generate.samplers.AggregatePosteriorGMM`).
- ``gmm-heldout``: the same mixture, components chosen by the log-likelihood of held-out codes
  (a fifth of the training posteriors' draws, left out of the fit) instead of BIC.
- ``aggregate`` / ``aggregate:S``: the aggregate posterior itself, q(z) = 1/n sum_i q(z|x_i): pick a
  training haplotype i at random and draw z ~ N(mu_i, (S sigma_i)^2). ``S`` (default 1) inflates the
  posterior spread, a guard against decoding codes so close to a training haplotype's that the
  result copies it (the panel's exact-copy fraction and privacy loss measure what is left).

Decoders (of decoder probabilities p = sigmoid(logits)):

- ``bernoulli``: independent draws per site (what a Bernoulli decoder defines, but each site's noise
  is independent, which puts samples away from every real haplotype and weakens LD);
- ``temperature:T``: draws from the sharpened p^(1/T) / (p^(1/T) + (1 - p)^(1/T)) =
  sigmoid(logits / T); T = 1 is ``bernoulli``, T -> 0 is ``calls``;
- ``calls``: p >= 0.5 is ALT, no noise;
- ``ld`` / ``ld:K`` / ``ld:K:T``: an LD-aware head (:mod:`~vae_genomics.generate.context`) draws
  each site given the decoder's logit and the K preceding sites (K = 8 by default), sharpened at
  temperature T (default 1) except at sites whose minor allele is rarer than 1% among the
  training haplotypes (drawn at T = 1, which keeps their count); the head is fitted on the
  training haplotypes when the generator is.

Copy guard (:mod:`~vae_genomics.generate.guard`):

- ``guard`` / ``guard:F``: draw F × n candidates (F = 4 by default) and keep n whose Hamming
  distances to the nearest training haplotype follow those of real haplotypes the model did not
  see (leave-one-out distances within the training set): as many exact copies and near-copies of
  training haplotypes as real unseen haplotypes have, no more.

:data:`DEFAULT_GENERATOR` is what ``sample``, the report's generated set and the sweep use; it was
chosen by measurement (experiments/notebook/generators.md, "Generators").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy.special import expit

from vae_genomics.common.limits import BLOCK_HAPLOTYPES
from vae_genomics.generate import DEFAULT_GENERATOR
from vae_genomics.generate.context import ContextHead
from vae_genomics.generate.decoders import context_order, draw_alleles
from vae_genomics.generate.guard import (
    leave_one_out_distances,
    nearest_training_distances,
    select_matching,
)
from vae_genomics.generate.names import GUARD_FACTOR, parse_generator, parse_source
from vae_genomics.generate.prior import PriorMixture, model_prior
from vae_genomics.generate.samplers import AggregatePosteriorGMM, decode_logits
from vae_genomics.models.inference import encode
from vae_genomics.models.vae import HaplotypeVAE

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_GENERATOR", "Generator", "describe", "make_generator", "make_source"]

Seed = int | np.random.Generator | None


class CodeSource(Protocol):
    """Where latent codes come from: fitted on training posteriors, then drawn."""

    name: str

    def fit(self, mean: np.ndarray, log_var: np.ndarray, seed: Seed = 0) -> CodeSource: ...

    def codes(self, n: int, rng: np.random.Generator) -> np.ndarray: ...


@dataclass
class PriorSource:
    """z ~ p(z) (``prior``): N(0, I) unless :attr:`prior` is set to the model's learned prior
    (:meth:`Generator.fit_posteriors` does)."""

    name: str = "prior"
    latent_dim: int = 0
    prior: PriorMixture | None = None

    def fit(self, mean: np.ndarray, log_var: np.ndarray, seed: Seed = 0) -> PriorSource:
        self.latent_dim = int(np.shape(mean)[1])
        return self

    def codes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.prior is not None:
            return self.prior.sample(n, rng)
        return rng.standard_normal((n, self.latent_dim))


@dataclass
class MixtureSource:
    """Gaussian mixture on the aggregate posterior (``gmm``, ``gmm-heldout``)."""

    name: str = "gmm"
    criterion: str = "bic"
    max_components: int = 8
    mixture: AggregatePosteriorGMM | None = None

    def fit(self, mean: np.ndarray, log_var: np.ndarray, seed: Seed = 0) -> MixtureSource:
        max_k = min(self.max_components, max(1, len(mean) // 2))
        self.mixture = AggregatePosteriorGMM(
            max_components=max_k, criterion=self.criterion, random_state=_int_seed(seed)
        ).fit(mean, log_var)
        return self

    def codes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.mixture is None:
            raise RuntimeError("fit the code source before drawing codes")
        return self.mixture.sample(n, rng)


@dataclass
class AggregateSource:
    """The aggregate posterior itself, spread inflated by ``inflate`` (``aggregate:S``)."""

    name: str = "aggregate"
    inflate: float = 1.0
    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    def fit(self, mean: np.ndarray, log_var: np.ndarray, seed: Seed = 0) -> AggregateSource:
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.exp(0.5 * np.asarray(log_var, dtype=np.float64))
        return self

    def codes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.mean is None or self.std is None:
            raise RuntimeError("fit the code source before drawing codes")
        rows = rng.integers(0, len(self.mean), n)
        eps = rng.standard_normal((n, self.mean.shape[1]))
        return self.mean[rows] + self.inflate * self.std[rows] * eps


def _int_seed(seed: Seed) -> int | None:
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**31 - 1))
    return seed


def make_source(name: str, max_components: int = 8) -> CodeSource:
    """The code source of a name (module docstring; :func:`~vae_genomics.generate.names.parse_source`).

    Raises:
        ValueError: An unknown source, or S of ``aggregate:S`` out of its range.
    """
    kind, inflate = parse_source(name)
    if kind == "prior":
        return PriorSource()
    if kind in ("gmm", "gmm-heldout"):
        criterion = "bic" if kind == "gmm" else "heldout"
        return MixtureSource(name=kind, criterion=criterion, max_components=max_components)
    return AggregateSource(name=name, inflate=inflate)


@dataclass
class Generator:
    """A code source and a decoder (``source/decoder``), fitted to a model's training posteriors,
    with an optional copy guard drawing ``guard`` times the haplotypes asked for."""

    source: CodeSource
    decoder: str = "bernoulli"
    guard: float | None = None
    train: np.ndarray | None = None
    target: np.ndarray | None = None
    head: ContextHead | None = None

    @property
    def name(self) -> str:
        if self.guard is None:
            return f"{self.source.name}/{self.decoder}"
        factor = "" if self.guard == GUARD_FACTOR else f":{self.guard:g}"
        return f"{self.source.name}/{self.decoder}/guard{factor}"

    def fit(self, model: HaplotypeVAE, x_train: np.ndarray, seed: Seed = 0) -> Generator:
        """Fit the code source on the posteriors of ``x_train`` (n_train, n_variants); with a
        guard, keep ``x_train`` and its leave-one-out nearest-neighbour distances (the target)."""
        mean, log_var = encode(model, x_train)
        return self.fit_posteriors(model, x_train, mean, log_var, seed)

    def fit_posteriors(
        self,
        model: HaplotypeVAE,
        x_train: np.ndarray,
        mean: np.ndarray,
        log_var: np.ndarray,
        seed: Seed = 0,
        fit_source: bool = True,
    ) -> Generator:
        """:meth:`fit` with the training posteriors (``mean``, ``log_var``: (n_train, latent_dim))
        already computed: the code source (unless ``fit_source`` is false: a source already fitted
        on these posteriors and shared between generators), the model's prior for the ``prior``
        source, the ``ld`` head and the guard."""
        if fit_source:
            self.source.fit(mean, log_var, seed)
        if isinstance(self.source, PriorSource):
            self.source.prior = model_prior(model)
        order = context_order(self.decoder)
        if order:
            # the head learns from one posterior draw per training haplotype
            rng = np.random.default_rng(_int_seed(seed))
            z = mean + np.exp(0.5 * log_var) * rng.standard_normal(np.shape(mean))
            self.head = ContextHead(order=order).fit(decode_logits(model, z), x_train)
        if self.guard is not None:
            self.fit_guard(x_train, seed)
        return self

    def fit_guard(self, x_train: np.ndarray, seed: Seed = 0) -> Generator:
        """Keep ``x_train`` and its leave-one-out nearest-neighbour distances (the copy guard's
        target); :meth:`fit` calls it when the generator has a guard."""
        self.train = np.asarray(x_train, dtype=np.int8)
        self.target = leave_one_out_distances(self.train, np.random.default_rng(_int_seed(seed)))
        return self

    def sample(
        self, model: HaplotypeVAE, n: int, seed: Seed = 0, batch_size: int = 1024
    ) -> dict[str, np.ndarray]:
        """``latent`` (n, latent_dim), ``probabilities`` (decoder's, before sharpening) and
        ``samples`` (int8 0/1, (n, n_variants)) of ``n`` generated haplotypes."""
        rng = np.random.default_rng(seed)
        pool = n if self.guard is None else int(np.ceil(self.guard * n))
        z = self.source.codes(pool, rng)
        logits = decode_logits(model, z, batch_size)
        probabilities = expit(logits).astype(np.float32)
        samples = draw_alleles(logits, self.decoder, rng, self.head, probabilities)
        if self.guard is not None:
            if self.train is None or self.target is None:
                raise RuntimeError("fit the generator before sampling")
            distances = nearest_training_distances(samples, self.train)
            keep = select_matching(distances, self.target, n, rng)
            z, probabilities, samples = z[keep], probabilities[keep], samples[keep]
        return {
            "latent": np.asarray(z, dtype=np.float32),
            "probabilities": probabilities,
            "samples": samples,
        }

    def iter_samples(
        self, model: HaplotypeVAE, n: int, seed: Seed = 0, block: int = BLOCK_HAPLOTYPES
    ) -> Iterator[np.ndarray]:
        """The ``samples`` of :meth:`sample` with the same ``seed``, ``block`` haplotypes at a time
        (int8 0/1, shape (≤ block, n_variants) each, in order): the codes are drawn first, as
        there, then each block's logits and alleles, whose uniforms are drawn row after row, so
        only a block's logits and uniforms are held. ``block`` must be a multiple of the decoder's
        batch (1,024), so that the logits are computed in the same batches.

        Raises:
            ValueError: A generator with a copy guard (it chooses among all candidates at once),
                or a block that is not a multiple of 1,024.
        """
        if self.guard is not None:
            raise ValueError("a copy guard chooses among all its candidates: use sample()")
        if block % 1024:
            raise ValueError(f"block must be a multiple of 1024, got {block}")
        rng = np.random.default_rng(seed)
        z = self.source.codes(n, rng)
        for start in range(0, n, block):
            logits = decode_logits(model, z[start : start + block], 1024)
            probabilities = expit(logits).astype(np.float32)
            yield draw_alleles(logits, self.decoder, rng, self.head, probabilities)


def make_generator(spec: str, max_components: int = 8) -> Generator:
    """A generator from its name ``source[/decoder[/guard]]`` (decoder ``bernoulli`` when omitted;
    :func:`~vae_genomics.generate.names.parse_generator`).

    Raises:
        ValueError: An unknown source, decoder or guard (the message lists the names), or a
            numeric parameter that is not finite or out of its range (named with the range).
    """
    source, decoder, factor = parse_generator(spec)
    return Generator(make_source(source, max_components), decoder, guard=factor)


def describe(spec: str) -> dict[str, Any]:
    """``{"generator", "source", "decoder"}`` of a generator name, for metrics and reports."""
    gen = make_generator(spec)
    return {
        "generator": gen.name,
        "source": gen.source.name,
        "decoder": gen.decoder,
        "guard": gen.guard,
    }
