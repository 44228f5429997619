"""Decoder rules: decoder logits to 0/1 alleles — ``bernoulli``, ``temperature:T``, ``calls``
and ``ld[:K[:T]]`` (the LD head, :mod:`vae_genomics.generate.context`); one decode step for
sections and regions; and the numeric parameters of generator names."""

from __future__ import annotations

import logging

import numpy as np
from scipy.special import expit, logit

from vae_genomics.generate.context import DEFAULT_ORDER, ContextHead

log = logging.getLogger(__name__)


DECODERS = ("bernoulli", "temperature", "calls", "ld")

#: Largest temperature T (``temperature:T``, ``ld:K:T``): at T = 10 draws are nearly fair coins.
MAX_TEMPERATURE = 10.0


def number_in_range(
    text: str, default: float, low: float, high: float, what: str, example: str
) -> float:
    """A generator name's numeric parameter: ``default`` when ``text`` is empty, else a finite
    number in ``(low, high]``.

    Args:
        text: The parameter as written (e.g. ``"1.5"`` of ``aggregate:1.5``).
        default: Its value when omitted.
        low: Exclusive lower bound.
        high: Inclusive upper bound.
        what: The name part and parameter, for the message (e.g. ``"aggregate:S"``).
        example: A valid name (e.g. ``"aggregate:1.5"``).

    Raises:
        ValueError: Not a number, not finite (``inf``, ``nan``) or out of range; the message names
            the parameter, what was given and the valid range.
    """
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and low < value <= high):
        raise ValueError(
            f"{what}: {text!r} is not allowed; it must be a finite number in ({low:g}, {high:g}] "
            f"(e.g. {example})"
        )
    return value


def sharpen(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """p^(1/T) / (p^(1/T) + (1 - p)^(1/T)) = sigmoid(logit(p) / T), float64, same shape."""
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature}")
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 1e-12, 1 - 1e-12)
    return expit(logit(p) / temperature)


def decode_codes(probabilities: np.ndarray, decoder: str, rng: np.random.Generator) -> np.ndarray:
    """0/1 haplotypes (int8, same shape) from decoder probabilities with a decoder name
    (not ``ld``, whose head needs the logits: :meth:`ContextHead.sample`)."""
    kind, temperature = parse_decoder(decoder)
    if kind == "ld":
        raise ValueError("the ld decoder draws from a fitted head: use Generator.sample")
    if kind == "calls":
        return (np.asarray(probabilities) >= 0.5).astype(np.int8)
    p = probabilities if kind == "bernoulli" else sharpen(probabilities, temperature)
    return (rng.random(np.shape(p)) < p).astype(np.int8)


def draw_alleles(
    logits: np.ndarray,
    decoder: str,
    rng: np.random.Generator,
    head: ContextHead | None = None,
    probabilities: np.ndarray | None = None,
    offset: int = 0,
    context: np.ndarray | None = None,
) -> np.ndarray:
    """0/1 alleles from decoder logits by a decoder rule: the one decode step of sections
    (:meth:`Generator.sample`) and regions (:func:`vae_genomics.generate.region.decode_region`).

    Args:
        logits: Decoder logits, shape (n, n_sites).
        decoder: ``bernoulli``, ``temperature:T``, ``calls`` or ``ld[:K[:T]]``.
        rng: Generator of the draws.
        head: The fitted ``ld`` head (needed for that rule).
        probabilities: ``sigmoid(logits)`` when already computed (float32), else computed here.
        offset: For ``ld``: the first site of a block of the head's sites.
        context: For ``ld``: the alleles of the sites before the block (:meth:`ContextHead.sample`).

    Returns:
        Alleles, int8 0/1, shape (n, n_sites).

    Raises:
        RuntimeError: An ``ld`` rule without its head.
    """
    kind, temperature = parse_decoder(decoder)
    if kind == "ld":
        if head is None:
            raise RuntimeError("the ld decoder needs its fitted head: fit the generator first")
        return head.sample(logits, rng, temperature, offset, context)
    if probabilities is None:
        probabilities = expit(np.asarray(logits, dtype=np.float64)).astype(np.float32)
    return decode_codes(probabilities, decoder, rng)


def parse_decoder(decoder: str) -> tuple[str, float]:
    """``(kind, temperature)`` of a decoder name (temperature 1 unless ``temperature:T`` or
    ``ld:K:T``; the head's order K is :func:`context_order`)."""
    kind, _, value = decoder.partition(":")
    if kind == "ld":
        context_order(decoder)
        _, _, text = value.partition(":")
    else:
        text = value
        if kind not in DECODERS or (kind == "temperature") != bool(value):
            raise ValueError(
                f"unknown decoder {decoder!r}: use bernoulli, calls, temperature:T "
                "(e.g. temperature:0.5) or ld[:K[:T]] (e.g. ld:8:0.7)"
            )
    what = f"decoder {decoder!r}: T of {'ld:K:T' if kind == 'ld' else 'temperature:T'}"
    example = "ld:8:0.7" if kind == "ld" else "temperature:0.5"
    temperature = number_in_range(text, 1.0, 0.0, MAX_TEMPERATURE, what, example)
    return kind, temperature


def context_order(decoder: str) -> int:
    """K of an ``ld[:K[:T]]`` decoder name (:data:`DEFAULT_ORDER` when omitted), 0 for others."""
    kind, _, value = decoder.partition(":")
    if kind != "ld":
        return 0
    text = value.partition(":")[0]
    if not text:
        return DEFAULT_ORDER
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"decoder {decoder!r}: K must be a whole number >= 1 (e.g. ld:8)")
    return int(text)
