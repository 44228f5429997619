"""Bounds on the sizes a user or a file asks for, checked before memory is allocated.

A count given on the command line (``sample --n``) or read from a file is multiplied by the sites
it applies to; the product decides the memory a command holds. :func:`check_sample_memory` prints
the estimate and refuses it beyond a limit (``--max-memory``, default :data:`DEFAULT_MAX_MEMORY`)
before any array is made, instead of the system killing the process mid-way.
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

#: Default largest memory estimate of a command's draws, in bytes (``--max-memory``).
DEFAULT_MAX_MEMORY = 4 * 1024**3

#: Bytes held per drawn haplotype and site while sampling and writing a VCF: the decoder's
#: probabilities and the uniform draws (float32 each), the int8 calls, and the VCF text of the
#: genotypes (two bytes per allele and separator, as 4-byte characters while formatted).
BYTES_PER_CALL = 32

_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)


def parse_size(text: int | str | None, option: str = "--max-memory") -> int:
    """Bytes from ``4G``, ``512M``, ``1.5GB``, ``2GiB`` or a plain number (``None``: the default).

    Raises:
        DataError: Not a size.
    """
    from vae_genomics.common.errors import DataError

    if text is None:
        return DEFAULT_MAX_MEMORY
    if isinstance(text, int):
        value = text
    else:
        match = _SIZE.match(str(text)[:40])
        if not match:
            raise DataError(
                f"{option} {str(text)[:40]!r}: expected a size such as 4G, 512M or 1000000 (bytes)."
            )
        value = int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    if value <= 0:
        raise DataError(f"{option} {text!r}: must be a positive size, e.g. 4G.")
    return value


def human_bytes(n: float) -> str:
    """``n`` bytes as ``1.5 GB`` (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover


def check_sample_memory(n: int, sites: int, limit: int | str | None, what: str) -> int:
    """Refuse drawing ``n`` haplotypes over ``sites`` sites when the estimate exceeds ``limit``.

    Args:
        n: Haplotypes to draw.
        sites: Sites of each haplotype.
        limit: Largest estimate in bytes, or a size string (:func:`parse_size`); None: the default.
        what: What is sampled, for the message (e.g. ``run runs/s/r``).

    Returns:
        The estimate in bytes (``n × sites ×`` :data:`BYTES_PER_CALL`).

    Raises:
        DataError: The estimate exceeds the limit (the message gives both and what to do).
    """
    from vae_genomics.common.errors import DataError

    limit = parse_size(limit)
    estimate = int(n) * int(sites) * BYTES_PER_CALL
    if estimate > limit:
        largest = max(2, (limit // max(1, sites * BYTES_PER_CALL)) // 2 * 2)
        raise DataError(
            f"--n {n}: drawing {n:,} haplotypes × {sites:,} sites of {what} needs about "
            f"{human_bytes(estimate)} of memory, more than the limit of {human_bytes(limit)}. "
            f"Draw at most {largest:,} haplotypes per call (several calls with other --seed "
            "values), or raise the limit with --max-memory (e.g. --max-memory 16G) if this "
            "machine has the memory."
        )
    log.info("drawing %d haplotypes × %d sites of %s: about %s of memory (limit %s)",
             n, sites, what, human_bytes(estimate), human_bytes(limit))  # fmt: skip
    return estimate
