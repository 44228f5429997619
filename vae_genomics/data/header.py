"""The VCF header: samples, contigs and the checks every reader applies before the first record."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from vae_genomics.common.errors import DataError

FIXED_COLUMNS = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT")
_CONTIG = re.compile(r"^##contig=<.*?\bID=([^,>]+)(?:.*?\blength=(\d+))?", re.IGNORECASE)


@dataclass
class VcfHeader:
    """What the readers need from a VCF header.

    Attributes:
        samples: Sample IDs in column order, shape (n_samples,).
        contigs: Contigs declared by ``##contig`` lines, in order, with their lengths (or ``None``).
        text: The header from ``##fileformat`` to the ``#CHROM`` line inclusive.
        n_lines: Number of header lines (records start on line ``n_lines + 1``).
    """

    samples: np.ndarray
    contigs: dict[str, int | None] = field(default_factory=dict)
    text: str = ""
    n_lines: int = 0


def parse_header(text: str, source: str, complete: bool = True) -> VcfHeader:
    """Parse and check a header.

    Args:
        text: The header lines (from the start of the file up to and including ``#CHROM``).
        source: File name for messages.
        complete: ``False`` when the file ended (or records started) before a ``#CHROM`` line.

    Raises:
        DataError: Not a VCF, no ``#CHROM`` line, unexpected columns, no samples, duplicate sample
            IDs, or no GT FORMAT field.
    """
    lines = text.replace("\r", "").rstrip("\n").split("\n") if text else []
    if not lines or not lines[0].startswith("##fileformat=VCF"):
        first = lines[0][:60] if lines else ""
        raise DataError(
            f"{source}: cannot be read as VCF/BCF: the first line is {first!r}, not "
            "'##fileformat=VCFv4.x'. Check that it is a complete VCF, a bgzip-compressed VCF or "
            "a BCF."
        )
    if not complete or not lines[-1].startswith("#CHROM"):
        raise DataError(
            f"{source}: no '#CHROM' header line before the first record (after line "
            f"{len(lines)}). A VCF needs the column header line "
            "'#CHROM POS ID REF ALT QUAL FILTER INFO FORMAT <samples...>'; the file may be cut "
            "or damaged, or its header was removed (e.g. by `grep -v '#'`)."
        )
    columns = lines[-1].split("\t")
    if tuple(columns[:8]) != FIXED_COLUMNS[:8] or (len(columns) > 8 and columns[8] != "FORMAT"):
        raise DataError(
            f"{source}: the '#CHROM' header line has the columns {columns[:9]}, expected "
            f"{list(FIXED_COLUMNS)} followed by sample IDs, separated by tabs."
        )
    samples = np.asarray(columns[9:], dtype=object)
    mangled = [str(v) for v in samples if "\ufffd" in v]
    if mangled:
        raise DataError(
            f"{source}: {len(mangled)} sample IDs on the '#CHROM' line hold bytes that are not "
            f"UTF-8 text (e.g. {mangled[0][:40]!r}, undecodable bytes shown as '\ufffd'). Rename "
            "them (e.g. `bcftools reheader --samples`) so that IDs match the population file."
        )
    if samples.size == 0:
        raise DataError(
            f"{source}: the VCF has no samples (no columns after FORMAT on the '#CHROM' line). "
            "A cohort with genotype columns is needed."
        )
    _, first, counts = np.unique(samples.astype(str), return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = samples[first[counts > 1]]
        raise DataError(f"{source}: duplicate sample IDs in the header: {', '.join(dup[:5])}.")
    if not any(line.startswith("##FORMAT=<ID=GT,") for line in lines):
        raise DataError(
            f"{source}: the header declares no GT FORMAT field; genotypes are required "
            "(a '##FORMAT=<ID=GT,...>' line and GT calls)."
        )
    contigs: dict[str, int | None] = {}
    for line in lines:
        match = _CONTIG.match(line)
        if match:
            contigs[match.group(1)] = int(match.group(2)) if match.group(2) else None
    return VcfHeader(
        samples=samples, contigs=contigs, text="\n".join(lines) + "\n", n_lines=len(lines)
    )


def sample_index(header_samples: np.ndarray, wanted: list[str] | None, source: str) -> np.ndarray:
    """Column indices (file order) of the wanted samples; all samples when ``wanted`` is None.

    Raises:
        DataError: Some wanted IDs are not in the file (all of them are listed, up to 20).
    """
    if wanted is None:
        return np.arange(len(header_samples))
    position = {s: i for i, s in enumerate(header_samples)}
    unknown = [s for s in wanted if s not in position]
    if unknown:
        shown = ", ".join(unknown[:20]) + (
            f" (and {len(unknown) - 20} more)" if len(unknown) > 20 else ""
        )
        raise DataError(
            f"{source}: {len(unknown)} of the {len(wanted)} requested samples are not in the file: "
            f"{shown}. Fix the sample list (data.samples) or the VCF."
        )
    return np.sort(np.asarray([position[s] for s in dict.fromkeys(wanted)], dtype=np.int64))
