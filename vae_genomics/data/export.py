"""Exchange with other tools: synthetic haplotypes as a phased VCF and latent codes as a TSV (the
haplotypes of another VCF at a section's sites are read by :mod:`vae_genomics.data.at_sites`).

Pairing rule of :func:`write_haplotype_vcf`: haplotype rows 2i and 2i + 1 become the first and second
phased haplotype of synthetic sample i + 1 (``syn0001``, ...): GT ``h[2i]|h[2i+1]``. Generated
haplotypes are independent draws, so this pairs them at random (random mating, no relatedness); an
odd number of haplotypes cannot be paired and is an error.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vae_genomics.common.errors import DataError
from vae_genomics.common.io import publish
from vae_genomics.data.packed import PackedHaplotypes, rows_of
from vae_genomics.data.vcf_values import CONTROL, check_vcf_values

log = logging.getLogger(__name__)

_GT_HEADER = '##FORMAT=<ID=GT,Number=1,Type=String,Description="Phased genotype">'


def check_haplotype_count(n: int) -> None:
    """Raise a :class:`DataError` unless ``n`` haplotypes can be paired into diploid samples."""
    if n < 2 or n % 2:
        raise DataError(
            f"cannot write {n} haplotypes as diploid samples: haplotypes 2i and 2i+1 form sample "
            f"i, so the number must be even and at least 2 (e.g. --n {max(2, n + n % 2)})."
        )


def vcf_header(
    contig: str,
    samples: Sequence[str],
    header_lines: Sequence[str] = (),
    contig_length: int | None = None,
) -> str:
    """Header text of a phased VCF (VCFv4.2) with one contig and a GT FORMAT field."""
    length = f",length={int(contig_length)}" if contig_length else ""
    lines = [
        "##fileformat=VCFv4.2",
        *header_lines,
        f"##contig=<ID={contig}{length}>",
        _GT_HEADER,
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples),
    ]
    return "\n".join(lines) + "\n"


def provenance_header(command: str = "") -> list[str]:
    """The header lines naming what wrote a synthetic VCF: ``##source`` (version and ``command``,
    its tabs, line breaks and other control characters written as escapes such as ``\\n``)
    and ``##vae_genomics_version``."""
    from vae_genomics import __version__

    command = CONTROL.sub(lambda m: repr(m.group())[1:-1], command)
    source = f"##source=vae-genomics {__version__}" + (f" {command}" if command else "")
    return [source, f"##vae_genomics_version={__version__}"]


def write_haplotype_vcf(
    path: str | Path,
    haplotypes: np.ndarray | Iterable[np.ndarray],
    contig: str,
    positions: np.ndarray,
    ref: Sequence[str],
    alt: Sequence[str],
    ids: Sequence[str] | None = None,
    sample_prefix: str = "syn",
    header_lines: Sequence[str] = (),
    contig_length: int | None = None,
    index: bool = True,
    source: str = "the haplotypes' sites",
    overwrite: bool = True,
    sample_names: Sequence[str] | None = None,
    n_haplotypes: int | None = None,
) -> Path | None:
    """Write 0/1 haplotypes as a phased, BGZF-compressed VCF (:mod:`vae_genomics.data.bgzf`).

    A tabix index (``.tbi``, pysam) is written beside the file, so it can be queried by region
    right away (``bcftools view -r``, ``tabix``). The haplotypes may come as consecutive blocks
    of sites (e.g. a region's sections as they are drawn), so that a large cohort is written
    without ever being held whole.

    Args:
        path: Output file (``.vcf.gz``); written to a temporary name and renamed when complete.
            ``-`` writes uncompressed VCF text to standard output instead (no index).
        haplotypes: Shape (n, n_variants), values 0 (REF) / 1 (ALT); n even (module docstring):
            an array or a :class:`~vae_genomics.data.packed.PackedHaplotypes`; or an iterable of
            blocks (n, n_sites_b) of consecutive sites (with ``n_haplotypes``).
        contig: Contig of every record.
        positions: 1-based positions, increasing, shape (n_variants,).
        ref: REF allele per variant.
        alt: ALT allele per variant.
        ids: ID column per variant (``.`` when None).
        sample_prefix: Sample names are ``<prefix><i>``, zero-padded, from 1.
        header_lines: Extra ``##`` lines (provenance).
        contig_length: Length of the contig for its ``##contig`` line (omitted when ``None``).
        index: Write the tabix index.
        source: Where contig, IDs and alleles come from (e.g. a run's ``sites.tsv``), for
            messages.
        overwrite: Replace an existing file (else the final rename is exclusive: ``publish``).
        sample_names: One name per sample (rows 2i, 2i+1), instead of ``<prefix><i>``.
        n_haplotypes: n, when ``haplotypes`` is an iterable of blocks.

    Returns:
        ``path`` (``None`` for standard output).

    Raises:
        DataError: A contig name, sample ID, ID, allele or header line that is not valid in a
            VCF (a tab or line break would add columns or lines), named with ``source``.
    """
    positions = np.asarray(positions, dtype=np.int64)
    if isinstance(haplotypes, np.ndarray | PackedHaplotypes):
        n, blocks = haplotypes.shape[0], [haplotypes]
    elif n_haplotypes is None:
        raise ValueError("blocks of haplotypes need their number (n_haplotypes)")
    else:
        n, blocks = n_haplotypes, haplotypes
    check_haplotype_count(n)
    n_variants = len(positions)
    _check_site_columns(positions, ref, alt)
    ids = ["."] * n_variants if ids is None else [str(i) or "." for i in ids]
    samples = _sample_ids(n, sample_prefix, sample_names)
    columns = {"ID": ids, "REF": ref, "ALT": alt}
    check_vcf_values(str(contig), samples, positions, columns, header_lines, source)
    header = vcf_header(contig, samples, header_lines, contig_length=contig_length)
    chunks = _record_chunks(blocks, n, contig, positions, ids, ref, alt)
    if str(path) == "-":
        sys.stdout.write(header)
        for chunk in chunks:
            sys.stdout.write(chunk.decode())
        sys.stdout.flush()
        return None
    path = Path(path)
    _write_bgzf(path, header, chunks, index, overwrite)
    log.info("wrote %d haplotypes (%d samples) × %d variants to %s", n, n // 2, n_variants, path)
    return path


def _check_site_columns(positions: np.ndarray, ref: Sequence[str], alt: Sequence[str]) -> None:
    """Refuse site columns of different lengths.

    Raises:
        ValueError: The counts of positions, REF and ALT alleles disagree.
    """
    if not len(positions) == len(ref) == len(alt):
        raise ValueError(
            f"{len(positions)} positions but {len(ref)} REF and {len(alt)} ALT alleles"
        )


def _check_block(hap: np.ndarray | PackedHaplotypes, n: int, first: int, n_variants: int) -> None:
    """Refuse a block of haplotypes that does not fit the sites or holds values other than 0/1.

    Raises:
        ValueError: Another number of rows, more columns than sites are left, or a value that is
            neither 0 nor 1.
    """
    if hap.ndim != 2 or hap.shape[0] != n or first + hap.shape[1] > n_variants:
        raise ValueError(
            f"haplotypes of shape {hap.shape} at variant {first} do not fit {n} haplotypes × "
            f"{n_variants} variants"
        )
    if isinstance(hap, PackedHaplotypes):
        return  # bits: 0/1 by construction
    whole = np.issubdtype(hap.dtype, np.integer)  # then the range says it all (and is quick)
    if hap.size and not (
        (hap.min() >= 0 and hap.max() <= 1) if whole else np.isin(hap, (0, 1)).all()
    ):
        raise ValueError("haplotypes must hold 0 (REF) and 1 (ALT) only")


def _sample_ids(n: int, sample_prefix: str, sample_names: Sequence[str] | None) -> list[str]:
    """The sample IDs of ``n`` haplotypes (rows 2i, 2i+1 form sample i).

    Args:
        n: Number of haplotypes (even).
        sample_prefix: Prefix of the default names ``<prefix><i>``, zero-padded, from 1.
        sample_names: One name per sample instead of the default names, or None.

    Returns:
        One ID per sample.

    Raises:
        ValueError: ``sample_names`` does not hold one name per sample.
    """
    width = max(4, len(str(n // 2)))
    samples = [f"{sample_prefix}{i + 1:0{width}d}" for i in range(n // 2)]
    if sample_names is not None and len(sample_names) != n // 2:
        raise ValueError(f"{len(sample_names)} sample names for {n // 2} samples")
    return samples if sample_names is None else [str(s) for s in sample_names]


#: Bytes of VCF text made at once (a chunk holds whole records).
_CHUNK_BYTES = 4 * 2**20


def _record_chunks(
    blocks: Iterable[np.ndarray],
    n: int,
    contig: str,
    positions: np.ndarray,
    ids: Sequence[str],
    ref: Sequence[str],
    alt: Sequence[str],
) -> Iterator[bytes]:
    """The VCF records of 0/1 haplotypes as bytes, whole records per chunk (about 4 MiB).

    Args:
        blocks: Haplotypes in consecutive blocks of sites, each of shape (n, n_sites_b).
        n: Number of haplotypes (even).
        contig: CHROM of every record.
        positions: POS per variant.
        ids: ID per variant.
        ref: REF allele per variant.
        alt: ALT allele per variant.

    Returns:
        The records, made as the blocks are read: GT ``h[2i]|h[2i+1]`` for sample i.

    Raises:
        ValueError: A block that does not fit, or fewer sites in the blocks than positions.
    """
    step = max(1, _CHUNK_BYTES // (2 * n))
    first = 0
    for block in blocks:
        hap = rows_of(block)  # packed blocks are read a few sites at a time
        _check_block(hap, n, first, len(positions))
        for s in range(0, hap.shape[1], step):
            part = hap[:, s : s + step]
            calls = np.empty((part.shape[1], n // 2, 4), dtype=np.uint8)  # 'a|b\t' per sample
            calls[:, :, 0] = part[0::2].T + 48
            calls[:, :, 1] = 124
            calls[:, :, 2] = part[1::2].T + 48
            calls[:, :, 3] = 9
            calls[:, -1, 3] = 10
            yield b"".join(
                f"{contig}\t{positions[j]}\t{ids[j]}\t{ref[j]}\t{alt[j]}\t.\tPASS\t.\tGT\t".encode()
                + calls[i].tobytes()
                for i, j in enumerate(range(first + s, first + s + part.shape[1]))
            )
        first += hap.shape[1]
        # a drawn block (a region's section: n × its sites) is released before the next is
        # asked for, so two are never held at once
        block = hap = part = calls = None
    if first != len(positions):
        raise ValueError(f"{first} variants in the haplotypes but {len(positions)} positions")


def _write_bgzf(
    path: Path, header: str, chunks: Iterable[bytes], index: bool, overwrite: bool
) -> None:
    """Write a VCF's header and records BGZF-compressed to a temporary name, index it, then
    publish both under ``path`` (the temporary files are removed on any error).

    Args:
        path: Final file.
        header: Header text.
        chunks: Record text, whole lines.
        index: Write the tabix index (``<path>.tbi``).
        overwrite: Replace an existing file (else the final rename is exclusive: ``publish``).
    """
    from vae_genomics.data.bgzf import write_bgzf

    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial.gz")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_bgzf(itertools.chain([header.encode()], chunks), tmp, threads=_threads())
        if index:
            import pysam

            try:
                pysam.tabix_index(str(tmp), preset="vcf", force=True)
            except OSError as exc:  # htslib says only "building of index ... failed"
                raise _index_error(path, exc) from None
        publish(tmp, path, overwrite)
        if index:  # after the data, so the index is never older than the file it indexes
            os.replace(f"{tmp}.tbi", f"{path}.tbi")
    except BaseException:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.tbi").unlink(missing_ok=True)
        raise


def _threads() -> int:
    """Deflate threads: the cores this process may run on (a job's allocation), at most 8."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return max(1, min(8, len(usable) if usable else os.cpu_count() or 1))


#: Free bytes below which a failed index write is taken for a full disk.
_LOW_SPACE = 64 * 2**20


def _index_error(path: Path, exc: OSError) -> OSError:
    """The error of a tabix index that could not be written, with its cause when it is a full
    disk (htslib reports every failure alike)."""
    import errno
    import shutil

    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        free = None
    if free is not None and free < _LOW_SPACE:
        cause = f"no space left on the device to write the VCF's tabix index ({free} bytes free)"
        return OSError(errno.ENOSPC, cause, f"{path}.tbi")
    return OSError(exc.errno or errno.EIO, f"the VCF's tabix index could not be written ({exc})",
                   f"{path}.tbi")  # fmt: skip


class SiteColumns(Protocol):
    """The sites a synthetic VCF is written at (a run's variant matrix, a loaded region)."""

    positions: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    variant_ids: np.ndarray


def sites_header(data: Any, n_sites: int) -> str:
    """The ``##vae_genomics_sites`` line of a synthetic VCF: which of the cohort's records it
    carries, and why the others are absent (the run's ``data`` filters).

    Args:
        data: The run's data settings (``min_maf``, ``min_mac``, ``missing``).
        n_sites: Sites in the file.
    """
    return (
        f"##vae_genomics_sites=<Sites={n_sites},MinMAF={data.min_maf:g},MinMAC={data.min_mac},"
        f'Missing={data.missing},Description="The biallelic SNPs of the training cohort with minor '
        f"allele frequency >= {data.min_maf:g} and minor allele count >= {data.min_mac} (data.min_maf, "
        "data.min_mac); multi-allelic records, indels, monomorphic sites and rarer variants were "
        'not modelled and are not in this file">'
    )


def write_synthetic_vcf(
    path: str | Path,
    haplotypes: np.ndarray | Iterable[np.ndarray],
    contig: str,
    sites: SiteColumns,
    header_line: str,
    *,
    command: str = "",
    contig_length: int | None = None,
    source: str = "the haplotypes' sites",
    overwrite: bool = True,
    sample_names: Sequence[str] | None = None,
    n_haplotypes: int | None = None,
    extra_lines: Sequence[str] = (),
) -> Path | None:
    """Write generated haplotypes at a run's or a region's sites (:func:`write_haplotype_vcf`),
    under the provenance header (:func:`provenance_header`) and one line of their own.

    Args:
        path: Output file (``.vcf.gz``), or ``-`` for standard output.
        haplotypes: Shape (n, n_sites), 0/1, n even; or blocks of consecutive sites.
        contig: Contig of every record.
        sites: Positions, REF, ALT and ID columns of the sites.
        header_line: The ``##`` line that says what was sampled, after the provenance lines.
        command: The command line, for the ``##source`` line.
        contig_length: Length of the contig for its ``##contig`` line.
        source: Where the sites come from, for messages.
        overwrite: Replace an existing file.
        sample_names: One name per sample, or None for ``syn0001``, ...
        n_haplotypes: n, when ``haplotypes`` is an iterable of blocks.
        extra_lines: ``##`` lines after ``header_line`` (e.g. :func:`sites_header`).

    Returns:
        ``path`` (``None`` for standard output).
    """
    return write_haplotype_vcf(
        path,
        haplotypes,
        contig=contig,
        positions=sites.positions,
        ref=sites.ref,
        alt=sites.alt,
        ids=sites.variant_ids,
        sample_names=sample_names,
        header_lines=[*provenance_header(command), header_line, *extra_lines],
        contig_length=contig_length,
        source=source,
        overwrite=overwrite,
        n_haplotypes=n_haplotypes,
    )
