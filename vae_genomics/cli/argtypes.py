"""Argument types of the command line: finite numbers, lists of them, seeds."""

from __future__ import annotations

import argparse
import math


def floats(text: str) -> list[float]:
    """Parse ``0.1,1,3`` into finite floats (argparse type)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text[:80]!r}"
        ) from exc
    if not values:
        raise argparse.ArgumentTypeError(f"expected at least one number, got {text[:80]!r}")
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text[:80]!r}")
    return values


def seed(text: str) -> int:
    """A seed: an integer from 0 to 2**32 - 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text[:80]!r}") from exc
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to 2**32 - 1, got {value}")
    return value


def positive(text: str) -> int:
    """A whole number >= 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:80]!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value}")
    return value


def finite(text: str) -> float:
    """A finite float (argparse type)."""
    values = floats(text)
    if len(values) != 1:
        raise argparse.ArgumentTypeError(f"expected one number, got {text[:80]!r}")
    return values[0]


def privacy_budget(text: str) -> str:
    """A privacy budget: off, strict, standard, lenient or loss=X,auc=Y (argparse type)."""
    from vae_genomics.config.budget import parse_budget

    try:
        parse_budget(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text
