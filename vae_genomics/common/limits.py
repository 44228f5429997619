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

#: Haplotypes decoded at once when a region is drawn section by section
#: (:func:`vae_genomics.generate.region.iter_region`): bounds the logits and the LD head's
#: uniforms held (4,096 × 3,164 sites: 52 MB float32 and 104 MB float64). The draws do not
#: depend on it (the uniforms are drawn row after row).
BLOCK_HAPLOTYPES = 4096

#: Bytes held per haplotype of a region drawn section by section besides its calls (one bit per
#: site of the section, :class:`vae_genomics.data.packed.PackedHaplotypes`, until the section is
#: written): the codes of the section being drawn (up to 32 latent dimensions, float64: the
#: mosaic's means, spreads, noise and their sum).
STREAMED_BYTES_PER_HAPLOTYPE = 1024

#: Bytes per haplotype of each further section whose codes are held while a whole region is
#: decoded in blocks (``sample --region --populations``): up to 32 latent dimensions, float64.
CODE_BYTES_PER_SECTION = 256

#: Largest bytes of one block's draws when a whole region is decoded a block of haplotypes at a
#: time (:func:`region_block`): its logits, uniforms and calls, :data:`BYTES_PER_CALL` a site.
REGION_BLOCK_BYTES = 2**28


def region_block(n_sites: int) -> int:
    """Haplotypes per block when a whole region of ``n_sites`` sites is decoded in blocks
    (:func:`vae_genomics.generate.region_groups.decode_region_blocks`): within
    :data:`REGION_BLOCK_BYTES`, at least 64, at most :data:`BLOCK_HAPLOTYPES`."""
    rows = REGION_BLOCK_BYTES // (BYTES_PER_CALL * max(1, int(n_sites)))
    return int(max(64, min(BLOCK_HAPLOTYPES, rows)))


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


def _streamed(sites: int, held_sections: int) -> tuple[int, int]:
    """Bytes per haplotype and haplotypes per block of draws made in blocks into bits."""
    each = -(-sites // 8) + STREAMED_BYTES_PER_HAPLOTYPE
    each += CODE_BYTES_PER_SECTION * (max(1, held_sections) - 1)
    block = BLOCK_HAPLOTYPES if held_sections <= 1 else region_block(sites)
    return each, block


def sample_memory(n: int, sites: int, streamed: bool = False, held_sections: int = 1) -> int:
    """Bytes held by the draws of ``n`` haplotypes over ``sites`` sites (the models and the
    cohort the command loads come on top).

    Args:
        n: Haplotypes drawn.
        sites: Sites of each haplotype drawn at once (of a region drawn section by section: its
            largest section's).
        streamed: Drawn in blocks into bits (:class:`vae_genomics.data.packed.PackedHaplotypes`)
            and written afterwards: ``n × (ceil(sites / 8) +``
            :data:`STREAMED_BYTES_PER_HAPLOTYPE` ``+`` :data:`CODE_BYTES_PER_SECTION` ``×
            (held_sections - 1))`` (the calls as bits, the codes) plus one block's ``min(n,
            block) × sites ×`` :data:`BYTES_PER_CALL`, the block :data:`BLOCK_HAPLOTYPES` for one
            section (``sample RUN``, ``sample --region``) and :func:`region_block` for a whole
            region (``--populations``); otherwise every draw is held: ``n × sites ×``
            :data:`BYTES_PER_CALL`.
        held_sections: Sections whose codes are held at once (a whole region's).

    Returns:
        The estimate in bytes.
    """
    n, sites = int(n), int(sites)
    if not streamed:
        return n * sites * BYTES_PER_CALL
    each, block = _streamed(sites, held_sections)
    return n * each + min(n, block) * sites * BYTES_PER_CALL


def largest_sample(sites: int, limit: int, streamed: bool = False, held_sections: int = 1) -> int:
    """The largest even ``n`` whose :func:`sample_memory` is within ``limit`` (at least 2)."""
    sites = max(1, int(sites))
    if not streamed:
        largest = limit // (sites * BYTES_PER_CALL)
    else:
        each, block = _streamed(sites, held_sections)
        if limit >= sample_memory(block, sites, True, held_sections):
            largest = (limit - block * sites * BYTES_PER_CALL) // each
        else:  # fewer than a block: each haplotype holds its block's share too
            largest = limit // (each + sites * BYTES_PER_CALL)
    return max(2, int(largest) // 2 * 2)


def check_sample_memory(
    n: int,
    sites: int,
    limit: int | str | None,
    what: str,
    streamed: bool = False,
    held_sections: int = 1,
) -> int:
    """Refuse drawing ``n`` haplotypes over ``sites`` sites when the estimate exceeds ``limit``.

    Args:
        n: Haplotypes to draw.
        sites: Sites of each haplotype.
        limit: Largest estimate in bytes, or a size string (:func:`parse_size`); None: the default.
        what: What is sampled, for the message (e.g. ``run runs/s/r``).
        streamed: Drawn in blocks into bits (:func:`sample_memory`).
        held_sections: Sections whose codes are held at once (:func:`sample_memory`).

    Returns:
        The estimate in bytes (:func:`sample_memory`).

    Raises:
        DataError: The estimate exceeds the limit (the message gives both and what to do).
    """
    from vae_genomics.common.errors import DataError

    limit = parse_size(limit)
    estimate = sample_memory(n, sites, streamed, held_sections)
    if estimate > limit:
        largest = largest_sample(sites, limit, streamed, held_sections)
        smallest = sample_memory(2, sites, streamed, held_sections)
        fewer = (
            f"Draw at most {largest:,} haplotypes per call (several calls with other --seed "
            "values), or raise"
            if smallest <= limit
            else f"Even 2 haplotypes need about {human_bytes(smallest)}: raise"
        )
        raise DataError(
            f"--n {n}: drawing {n:,} haplotypes × {sites:,} sites of {what} needs about "
            f"{human_bytes(estimate)} of memory, more than the limit of {human_bytes(limit)}. "
            f"{fewer} the limit with --max-memory (e.g. --max-memory 16G) if this machine has "
            "the memory."
        )
    log.info("drawing %d haplotypes × %d sites of %s: about %s of memory (limit %s)",
             n, sites, what, human_bytes(estimate), human_bytes(limit))  # fmt: skip
    return estimate
