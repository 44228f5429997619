"""Genomic sections: the slices of the haplotype matrix that each get their own model.

Four ways to cut a cohort (``data.sections``); sections never cross contigs:

- ``snp-windows`` (:func:`snp_windows`): each contig's filtered variants in consecutive windows of
  ``window_snps`` SNPs. Remainder rule: if the last window of a contig has fewer than
  ``window_snps // 2`` SNPs it is merged into the previous window (so no section is shorter than half
  a window, and none longer than 1.5 windows); otherwise it is a section of its own. A contig with
  fewer SNPs than that is one section. Start and end are the first and last SNP's positions.
- ``bp-windows`` (:func:`bp_windows`): fixed windows ``[k W + 1, (k + 1) W]`` of ``window_bp`` base
  pairs from position 1 of each contig; windows without a variant after filtering are not sections.
  Start and end are the window's bounds, so names do not change when the filters do.
- ``bed`` (:func:`read_bed`): one section per line of a BED file. BED intervals are 0-based and
  half-open, so ``chr1 999 2000`` is the section ``1,000-2,000`` (1-based inclusive); the optional
  fourth (name) column names the section.
- ``regions`` (:func:`parse_region`): named regions ``contig:start-end``, 1-based inclusive.

A BED line or region with no variant after filtering is an error (it would be a section without
data); so is a region on a contig the file does not have.

Section names are ``<contig>_<start>-<end>`` (1-based inclusive) with every character outside
``[A-Za-z0-9.]`` in the contig replaced by ``_`` (e.g. ``22_16050075-16697840``), or the BED name
with characters outside ``[A-Za-z0-9._-]`` replaced by ``_``. They are stable for a given file and
settings, and safe as file names and Snakemake wildcards.
"""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from vae_genomics.common.errors import DataError
from vae_genomics.common.io import read_text_file

_UNSAFE = re.compile(r"[^A-Za-z0-9.]")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
_RANGE = re.compile(r"^([0-9,]+)-([0-9,]+)$")
#: End used for a region that is a whole contig.
CONTIG_END = 2**31 - 1
#: What a BED file of sections is and what to do when it is missing (``common.io.require_file``).
BED_FILE = ("BED file", "Fix data.bed.")


@dataclass(frozen=True)
class Section:
    """One genomic section.

    Attributes:
        name: Stable, file-name-safe identifier.
        contig: Contig name as in the VCF.
        start: 1-based position of the first variant (inclusive).
        end: 1-based position of the last variant (inclusive).
        index_start: Column of the first variant in the filtered matrix the sections were cut
            from (0-based): the whole input for ``list_sections``, the section's contig or region
            when a section is loaded.
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


def safe_name(name: str) -> str:
    """A user-given name made safe as a file name and wildcard (``[A-Za-z0-9._-]``, no leading dot)."""
    safe = _UNSAFE_NAME.sub("_", name.strip())
    return "_" + safe[1:] if safe.startswith(".") else safe


@dataclass(frozen=True)
class Region:
    """A named genomic interval, 1-based inclusive."""

    name: str
    contig: str
    start: int
    end: int

    @property
    def label(self) -> str:
        """``contig:start-end`` (or ``contig`` for a whole contig)."""
        if self.start <= 1 and self.end >= CONTIG_END:
            return self.contig
        return f"{self.contig}:{self.start}-{self.end}"


def parse_region(text: str) -> Region:
    """Parse ``contig:start-end`` (1-based inclusive, commas allowed) or a whole ``contig``.

    Text whose part after the last ``:`` is not ``start-end`` names a whole contig (so a typo
    such as ``22:1000`` surfaces as an unknown contig, with the nearest names).

    Raises:
        DataError: Empty, start < 1 or end < start.
    """
    text = text.strip()
    contig, _, span = text.rpartition(":")
    match = _RANGE.match(span) if contig else None
    if match is None:  # a whole contig (its name may contain ':', as HLA contigs do)
        if not text:
            raise DataError(
                "empty region: expected 'contig:start-end' (1-based inclusive, e.g. "
                "'22:16000001-17000000') or a contig name."
            )
        return Region(_UNSAFE.sub("_", text), text, 1, CONTIG_END)
    start, end = (int(g.replace(",", "")) for g in match.groups())
    if start < 1 or end < start:
        raise DataError(
            f"region '{text}': start must be >= 1 and end >= start (1-based inclusive), "
            f"got start {start}, end {end}."
        )
    return Region(section_name(contig, start, end), contig, start, end)


def read_bed(path: str | Path) -> list[Region]:
    """Regions of a BED file (columns contig, start, end and an optional name).

    BED is 0-based half-open: ``start end`` becomes ``start + 1 .. end`` (1-based inclusive).
    ``#``, ``track`` and ``browser`` lines are skipped. Sections are named by the fourth column (made
    file-name safe) or else ``<contig>_<start>-<end>``.

    Raises:
        DataError: Missing file, too few columns, non-integer or negative coordinates,
            ``end <= start``, or a duplicate name (each names the file and line).
    """
    path = Path(path)
    text = read_text_file(path, *BED_FILE)
    regions: list[Region] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        cols = line.split("\t") if "\t" in line else line.split()
        where = f"{path}: line {number}"
        if len(cols) < 3:
            raise DataError(
                f"{where}: expected at least 3 columns (contig, start, end), got {cols}."
            )
        try:
            start0, end = int(cols[1]), int(cols[2])
        except ValueError:
            raise DataError(
                f"{where}: start and end must be whole numbers, got {cols[1:3]}."
            ) from None
        if start0 < 0 or end <= start0:
            raise DataError(
                f"{where}: end {end} {'<' if end < start0 else '='} start {start0}. BED intervals "
                "are 0-based half-open, so end must be greater than start (and start >= 0)."
            )
        contig = cols[0]
        name = safe_name(cols[3]) if len(cols) > 3 and cols[3] not in ("", ".") else ""
        region = Region(name or section_name(contig, start0 + 1, end), contig, start0 + 1, end)
        if region.name in seen:
            raise DataError(
                f"{where}: section name '{region.name}' is already used on line "
                f"{seen[region.name]}; names must be unique."
            )
        seen[region.name] = number
        regions.append(region)
    if not regions:
        raise DataError(f"{path}: the BED file has no intervals.")
    return regions


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


def _contig_blocks(chrom: np.ndarray) -> list[tuple[str, int, int]]:
    """``(contig, lo, hi)`` index ranges of each contig's block of variants, in order."""
    chrom = np.asarray(chrom)
    if chrom.size == 0:
        return []
    change = np.flatnonzero(chrom[1:] != chrom[:-1]) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [chrom.size]])
    return [(str(chrom[lo]), int(lo), int(hi)) for lo, hi in zip(starts, stops, strict=True)]


def bp_windows(chrom: np.ndarray, positions: np.ndarray, window_bp: int) -> list[Section]:
    """Fixed base-pair windows ``[k W + 1, (k + 1) W]`` per contig that hold at least one variant.

    Args:
        chrom: Contig of each variant, grouped by contig.
        positions: 1-based positions, sorted within each contig.
        window_bp: Window width W in base pairs.

    Returns:
        Sections in file order, named by the window's bounds.
    """
    if window_bp < 1:
        raise ValueError(f"window_bp must be >= 1, got {window_bp}")
    sections: list[Section] = []
    for contig, lo, hi in _contig_blocks(chrom):
        window = (np.asarray(positions[lo:hi], dtype=np.int64) - 1) // window_bp
        cut = np.concatenate([[0], np.flatnonzero(np.diff(window)) + 1, [hi - lo]])
        for a, b in itertools.pairwise(cut):
            k = int(window[a])
            start, end = k * window_bp + 1, (k + 1) * window_bp
            sections.append(
                Section(
                    section_name(contig, start, end), contig, start, end, lo + int(a), lo + int(b)
                )
            )
    return sections


def region_sections(
    regions: list[Region],
    chrom: np.ndarray,
    positions: np.ndarray,
    describe: str = "data.regions",
    before: dict[str, int] | None = None,
) -> list[Section]:
    """Sections for named regions or BED intervals over the kept variants.

    Args:
        regions: The regions (1-based inclusive).
        chrom, positions: Kept variants, grouped by contig and sorted within it.
        describe: Where the regions come from, for messages (e.g. the BED file).
        before: Records per region name before filtering (for the error message), if known.

    Raises:
        DataError: A region holds no kept variant, or two regions share a name.
    """
    blocks = {contig: (lo, hi) for contig, lo, hi in _contig_blocks(chrom)}
    sections: list[Section] = []
    names: set[str] = set()
    for region in regions:
        if region.name in names:
            raise DataError(
                f"{describe}: two regions are named '{region.name}'; names must be unique."
            )
        names.add(region.name)
        lo, hi = blocks.get(region.contig, (0, 0))
        contig_pos = positions[lo:hi]
        i = lo + int(np.searchsorted(contig_pos, region.start, side="left"))
        j = lo + int(np.searchsorted(contig_pos, region.end, side="right"))
        if j <= i:
            n_before = (before or {}).get(region.name)
            counted = f" ({n_before} records before filtering)" if n_before is not None else ""
            raise DataError(
                f"{describe}: region '{region.name}' ({region.label}) has no variants after "
                f"filtering{counted}. Remove it, widen it, or relax the filters (data.min_maf, "
                "data.min_mac, data.missing)."
            )
        start, end = region.start, region.end
        if end >= CONTIG_END:  # a whole contig: report the span of its variants
            start, end = int(positions[i]), int(positions[j - 1])
        sections.append(Section(region.name, region.contig, start, end, i, j))
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
