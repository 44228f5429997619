"""Genomic sections: the slices of the haplotype matrix that each get their own model.

Fixed SNP-count windows (:func:`snp_windows`) cut each contig's filtered variants into consecutive
windows of ``window_snps`` SNPs. Remainder rule: if the last window of a contig has fewer than
``window_snps // 2`` SNPs it is merged into the previous window (so no section is shorter than half a
window, and none longer than 1.5 windows); otherwise it is a section of its own. A contig with fewer
SNPs than that is one section. Sections never cross contigs.

Section names are ``<contig>_<start>-<end>`` with 1-based inclusive positions of the first and last SNP,
with every character outside ``[A-Za-z0-9.]`` in the contig replaced by ``_``: e.g. ``22_16050075-16697840``.
They are stable for a given file and filter settings, and safe as file names and Snakemake wildcards.
"""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import asdict, dataclass

import numpy as np

from vae_genomics.errors import DataError

_UNSAFE = re.compile(r"[^A-Za-z0-9.]")


@dataclass(frozen=True)
class Section:
    """One genomic section.

    Attributes:
        name: Stable, file-name-safe identifier.
        contig: Contig name as in the VCF.
        start: 1-based position of the first variant (inclusive).
        end: 1-based position of the last variant (inclusive).
        index_start: Column of the first variant in the filtered matrix (0-based).
        index_stop: One past the column of the last variant (0-based, exclusive).
    """

    name: str
    contig: str
    start: int
    end: int
    index_start: int
    index_stop: int

    @property
    def n_variants(self) -> int:
        """Number of variants in the section."""
        return self.index_stop - self.index_start

    def to_dict(self) -> dict[str, object]:
        """Plain dictionary (for JSON/YAML)."""
        return {**asdict(self), "n_variants": self.n_variants}


def section_name(contig: str, start: int, end: int) -> str:
    """File-name-safe section name ``<contig>_<start>-<end>``."""
    return f"{_UNSAFE.sub('_', str(contig))}_{int(start)}-{int(end)}"


def window_bounds(n: int, window: int) -> list[tuple[int, int]]:
    """Half-open index ranges of fixed-size windows over ``n`` items, with the remainder rule.

    Args:
        n: Number of items (SNPs on one contig).
        window: Items per window, >= 1.

    Returns:
        ``[(start, stop), ...]`` covering ``range(n)`` in order; empty when ``n == 0``.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if n == 0:
        return []
    bounds = list(itertools.pairwise([*range(0, n, window), n]))
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < window // 2:
        (start, _), (_, stop) = bounds[-2], bounds[-1]
        bounds[-2:] = [(start, stop)]
    return bounds


def snp_windows(chrom: np.ndarray, positions: np.ndarray, window_snps: int) -> list[Section]:
    """Cut variants into fixed SNP-count windows per contig.

    Args:
        chrom: Contig of each variant, shape (n_variants,), grouped by contig (as in a sorted VCF).
        positions: 1-based positions, shape (n_variants,).
        window_snps: SNPs per window.

    Returns:
        Sections in file order.
    """
    sections: list[Section] = []
    chrom = np.asarray(chrom)
    if chrom.size == 0:
        return sections
    change = np.flatnonzero(chrom[1:] != chrom[:-1]) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [chrom.size]])
    seen: set[str] = set()
    for lo, hi in zip(starts, stops, strict=True):
        contig = str(chrom[lo])
        if contig in seen:
            raise DataError(
                f"variants of contig '{contig}' are not contiguous in the file; sort the VCF "
                "(e.g. bcftools sort) so each contig's records form one block."
            )
        seen.add(contig)
        for a, b in window_bounds(int(hi - lo), window_snps):
            i, j = int(lo + a), int(lo + b)
            first, last = int(positions[i]), int(positions[j - 1])
            sections.append(Section(section_name(contig, first, last), contig, first, last, i, j))
    return sections


def find_section(sections: list[Section], name: str) -> Section:
    """The section called ``name``.

    Raises:
        DataError: No such section; the message suggests the nearest names.
    """
    for section in sections:
        if section.name == name:
            return section
    names = [s.name for s in sections]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.3)
    hint = f" Nearest names: {', '.join(close)}." if close else ""
    raise DataError(
        f"unknown section '{name}' ({len(names)} sections defined).{hint} "
        "List them with `vae-genomics sections`."
    )
