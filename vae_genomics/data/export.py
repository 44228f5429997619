"""Exchange with other tools: synthetic haplotypes as a phased VCF, latent codes as a TSV, and the
haplotypes of another VCF at a section's sites (to embed them with a trained model).

Pairing rule of :func:`write_haplotype_vcf`: haplotype rows 2i and 2i + 1 become the first and second
phased haplotype of synthetic sample i + 1 (``syn0001``, ...): GT ``h[2i]|h[2i+1]``. Generated
haplotypes are independent draws, so this pairs them at random (random mating, no relatedness); an
odd number of haplotypes cannot be paired and is an error.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from vae_genomics.common.errors import DataError
from vae_genomics.common.io import atomic_write_text, publish

log = logging.getLogger(__name__)

_GT_HEADER = '##FORMAT=<ID=GT,Number=1,Type=String,Description="Phased genotype">'

#: A contig name a VCF header and records can carry (VCF 4.3, section 1.4.7): no whitespace, no
#: control characters, none of ``,<>[]`{}()\\'"``, and not starting with ``*`` or ``=``.
_CONTIG_NAME = re.compile(r"[0-9A-Za-z!#$%&+./:;?@^_|~-][0-9A-Za-z!#$%&*+./:;=?@^_|~-]*\Z")
#: Characters that may not appear in a header line: control characters (tab, line breaks, C1) and
#: the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: ... and in a sample ID or an ID column, any whitespace too.
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
#: A biallelic SNP's REF / ALT allele (the only records the models are trained on).
_BASES = re.compile(r"[ACGTNacgtn]\Z")


def _unwritable(source: str, what: str, value: str, expected: str) -> DataError:
    """The error for a value that would break the VCF's layout (or inject lines into it)."""
    from vae_genomics.common.errors import bounded

    return DataError(
        bounded(
            f"{source}: {what} {value!r} cannot be written to a VCF: {expected}. A tab or line "
            "break would add columns or lines to the file; fix the value where it came from (or "
            "retrain from a VCF with valid names).",
            800,
        )
    )


def check_vcf_values(
    contig: str,
    samples: Sequence[str],
    positions: np.ndarray,
    columns: dict[str, Sequence[str]],
    header_lines: Sequence[str],
    source: str,
) -> None:
    """Refuse values that are not valid in the VCF text they go into.

    Args:
        contig: The ``##contig`` ID and CHROM of every record.
        samples: Sample IDs of the ``#CHROM`` line.
        positions: POS of every record (for messages).
        columns: ``ID``, ``REF`` and ``ALT`` column values, one per record.
        header_lines: Extra ``##`` lines.
        source: Where the values come from (e.g. a run's ``sites.tsv``), for the message.

    Raises:
        DataError: The first offending value, named with its source, record and what a VCF allows.
    """
    if not _CONTIG_NAME.match(contig):
        raise _unwritable(
            source, "contig name", contig, "a contig name holds no whitespace, control characters "
            "or any of , < > [ ] ` { } ( ) ' \" \\, and does not start with * or =",
        )  # fmt: skip
    for sample in samples:
        if not sample or _SPACE_OR_CONTROL.search(sample):
            raise _unwritable(source, "sample ID", sample, "a sample ID is non-empty, without "
                              "whitespace or control characters")  # fmt: skip
    for column, values in columns.items():
        for j, value in enumerate(values):
            value = str(value)
            bad = (
                not value or bool(_SPACE_OR_CONTROL.search(value))
                if column == "ID"
                else not _BASES.match(value)
            )
            if bad:
                expected = (
                    "an ID holds no whitespace or control characters"
                    if column == "ID"
                    else "a biallelic SNP's allele is one of A, C, G, T, N"
                )
                where = f"{column} of record {contig}:{positions[j]}"
                raise _unwritable(source, where, value, expected)
    for line in header_lines:
        if not line.startswith("##") or _CONTROL.search(line):
            raise _unwritable(source, "header line", line, "a header line starts with ## and "
                              "holds no tab, line break or other control character")  # fmt: skip


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

    command = _CONTROL.sub(lambda m: repr(m.group())[1:-1], command)
    source = f"##source=vae-genomics {__version__}" + (f" {command}" if command else "")
    return [source, f"##vae_genomics_version={__version__}"]


def write_haplotype_vcf(
    path: str | Path,
    haplotypes: np.ndarray,
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
) -> Path | None:
    """Write 0/1 haplotypes as a phased, BGZF-compressed VCF (cyvcf2 ``Writer``, mode ``wz``).

    A tabix index (``.tbi``, pysam) is written beside the file, so it can be queried by region
    right away (``bcftools view -r``, ``tabix``).

    Args:
        path: Output file (``.vcf.gz``); written to a temporary name and renamed when complete.
            ``-`` writes uncompressed VCF text to standard output instead (no index).
        haplotypes: Shape (n, n_variants), values 0 (REF) / 1 (ALT); n even (module docstring).
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

    Returns:
        ``path`` (``None`` for standard output).

    Raises:
        DataError: A contig name, sample ID, ID, allele or header line that is not valid in a
            VCF (a tab or line break would add columns or lines), named with ``source``.
    """
    hap = np.asarray(haplotypes)
    n, n_variants = hap.shape
    check_haplotype_count(n)
    positions = np.asarray(positions, dtype=np.int64)
    _check_haplotype_shapes(hap, positions, ref, alt)
    ids = ["."] * n_variants if ids is None else [str(i) or "." for i in ids]
    samples = _sample_ids(n, sample_prefix, sample_names)
    columns = {"ID": ids, "REF": ref, "ALT": alt}
    check_vcf_values(str(contig), samples, positions, columns, header_lines, source)
    header = vcf_header(contig, samples, header_lines, contig_length=contig_length)
    lines = _record_lines(hap, contig, positions, ids, ref, alt)
    if str(path) == "-":
        sys.stdout.write(header)
        for line in lines:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
        return None
    path = Path(path)
    _write_bgzf(path, header, lines, index, overwrite)
    log.info("wrote %d haplotypes (%d samples) × %d variants to %s", n, n // 2, n_variants, path)
    return path


def _check_haplotype_shapes(
    hap: np.ndarray, positions: np.ndarray, ref: Sequence[str], alt: Sequence[str]
) -> None:
    """Refuse haplotypes whose columns do not match the sites, or that hold values other than 0/1.

    Args:
        hap: Haplotypes, shape (n, n_variants).
        positions: Positions, one per variant.
        ref: REF allele per variant.
        alt: ALT allele per variant.

    Raises:
        ValueError: The counts disagree, or a value is neither 0 nor 1.
    """
    n_variants = hap.shape[1]
    if not len(positions) == len(ref) == len(alt) == n_variants:
        raise ValueError(
            f"{n_variants} variants in the haplotypes but {len(positions)} positions, "
            f"{len(ref)} REF and {len(alt)} ALT alleles"
        )
    if not np.isin(hap, (0, 1)).all():
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


def _record_lines(
    hap: np.ndarray,
    contig: str,
    positions: np.ndarray,
    ids: Sequence[str],
    ref: Sequence[str],
    alt: Sequence[str],
) -> Iterator[str]:
    """The VCF record lines (without line breaks) of 0/1 haplotypes, one per variant.

    Args:
        hap: Haplotypes, shape (n, n_variants), n even.
        contig: CHROM of every record.
        positions: POS per variant.
        ids: ID per variant.
        ref: REF allele per variant.
        alt: ALT allele per variant.

    Returns:
        The lines, made as they are read: GT ``h[2i]|h[2i+1]`` for sample i.
    """
    # GT strings per variant: '0|1' for each sample (rows 2i, 2i+1)
    digits = np.where(hap == 1, "1", "0")
    calls = np.char.add(np.char.add(digits[0::2], "|"), digits[1::2])  # (n/2, n_variants)
    return (
        f"{contig}\t{positions[j]}\t{ids[j]}\t{ref[j]}\t{alt[j]}\t.\tPASS\t.\tGT\t"
        + "\t".join(calls[:, j])
        for j in range(hap.shape[1])
    )


def _write_bgzf(
    path: Path, header: str, lines: Iterable[str], index: bool, overwrite: bool
) -> None:
    """Write a VCF's header and records BGZF-compressed to a temporary name, index it, then
    publish both under ``path`` (the temporary files are removed on any error).

    Args:
        path: Final file.
        header: Header text.
        lines: Record lines, without line breaks.
        index: Write the tabix index (``<path>.tbi``).
        overwrite: Replace an existing file (else the final rename is exclusive: ``publish``).
    """
    from cyvcf2 import Writer

    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial.gz")
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = Writer.from_string(str(tmp), header, mode="wz")
    try:
        for line in lines:
            writer.write_record(writer.variant_from_string(line))
        writer.close()
        if index:
            import pysam

            pysam.tabix_index(str(tmp), preset="vcf", force=True)
        publish(tmp, path, overwrite)
        if index:  # after the data, so the index is never older than the file it indexes
            os.replace(f"{tmp}.tbi", f"{path}.tbi")
    except BaseException:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.tbi").unlink(missing_ok=True)
        raise


class SiteColumns(Protocol):
    """The sites a synthetic VCF is written at (a run's variant matrix, a loaded region)."""

    positions: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    variant_ids: np.ndarray


def write_synthetic_vcf(
    path: str | Path,
    haplotypes: np.ndarray,
    contig: str,
    sites: SiteColumns,
    header_line: str,
    *,
    command: str = "",
    contig_length: int | None = None,
    source: str = "the haplotypes' sites",
    overwrite: bool = True,
    sample_names: Sequence[str] | None = None,
) -> Path | None:
    """Write generated haplotypes at a run's or a region's sites (:func:`write_haplotype_vcf`),
    under the provenance header (:func:`provenance_header`) and one line of their own.

    Args:
        path: Output file (``.vcf.gz``), or ``-`` for standard output.
        haplotypes: Shape (n, n_sites), 0/1, n even.
        contig: Contig of every record.
        sites: Positions, REF, ALT and ID columns of the sites.
        header_line: The ``##`` line that says what was sampled, after the provenance lines.
        command: The command line, for the ``##source`` line.
        contig_length: Length of the contig for its ``##contig`` line.
        source: Where the sites come from, for messages.
        overwrite: Replace an existing file.
        sample_names: One name per sample, or None for ``syn0001``, ...

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
        header_lines=[*provenance_header(command), header_line],
        contig_length=contig_length,
        source=source,
        overwrite=overwrite,
    )


def write_latent_tsv(
    path: str | Path,
    haplotype_ids: Sequence[str],
    samples: Sequence[str],
    mean: np.ndarray,
    log_var: np.ndarray,
    populations: Sequence[str] | None = None,
    split: Sequence[str] | None = None,
) -> Path:
    """Write posterior means and standard deviations per haplotype as a TSV.

    Columns: ``haplotype``, ``sample``, ``population`` (``unknown`` when not given), ``split``,
    ``mean_1..L``, ``sd_1..L`` (the same layout as a run's ``latent.tsv``).

    Args:
        path: Output file.
        haplotype_ids: Row names, shape (n,).
        samples: Sample of each row, shape (n,).
        mean: Posterior means, shape (n, L).
        log_var: Posterior log-variances, shape (n, L).
        populations: Population label per row, or None.
        split: ``train`` / ``validation`` / ``external`` per row, or None (``unknown``).

    Returns:
        ``path``.
    """
    n, dims = np.shape(mean)
    table = pd.DataFrame(
        {
            "haplotype": list(haplotype_ids),
            "sample": list(samples),
            "population": list(populations) if populations is not None else ["unknown"] * n,
            "split": list(split) if split is not None else ["unknown"] * n,
        }
    )
    sd = np.exp(0.5 * np.asarray(log_var, dtype=np.float64))
    table = pd.concat(
        [
            table,
            pd.DataFrame(np.asarray(mean), columns=[f"mean_{k}" for k in range(1, dims + 1)]),
            pd.DataFrame(sd, columns=[f"sd_{k}" for k in range(1, dims + 1)]),
        ],
        axis=1,
    )
    atomic_write_text(Path(path), table.to_csv(sep="\t", index=False, float_format="%.6g"))
    return Path(path)


@dataclass
class SiteHaplotypes:
    """Haplotypes of a VCF at given sites.

    Attributes:
        haplotypes: int8, shape (2 * n_samples, n_sites), 0/1, columns in the order asked for.
        sample_ids: Samples in file order.
        haplotype_ids: ``<sample>_A`` / ``<sample>_B`` per row.
        haplotype_samples: Sample of each row.
    """

    haplotypes: np.ndarray
    sample_ids: np.ndarray
    haplotype_ids: np.ndarray
    haplotype_samples: np.ndarray


def read_section_haplotypes(
    path: str | Path,
    contig: str,
    positions: np.ndarray,
    ref: Sequence[str],
    alt: Sequence[str],
) -> SiteHaplotypes:
    """Read the phased haplotypes of a VCF/BCF at exactly the given biallelic sites.

    Unlike the training reader no frequency filter applies (a site monomorphic in this file is
    kept): the columns must line up with a trained model's. A record matches a site when contig,
    position, REF and ALT are equal; other records are ignored. Records are read by the training
    readers, through the file's index when there is one, and checked as strictly
    (:func:`vae_genomics.data.at_sites.read_at_sites`).

    Args:
        path: VCF, bgzipped VCF or BCF with a GT field, diploid phased calls.
        contig: The sites' contig, as :func:`~vae_genomics.data.at_sites.read_at_sites` takes it
            (with ``positions``, ``ref`` and ``alt``).
        positions: The sites' 1-based positions.
        ref: Their REF alleles.
        alt: Their ALT alleles.

    Returns:
        The haplotypes at the sites, rows named ``<sample>_A`` / ``<sample>_B``.

    Raises:
        DataError: The file or its index cannot be used; a record is damaged; sites are missing
            (count and the first ones named) or have other alleles; a site's call is missing,
            haploid or unphased heterozygous, its record has no GT field, or two records of the
            site disagree (each with its own message naming file, record and sample).
    """
    from vae_genomics.data.at_sites import read_at_sites

    found = read_at_sites(path, contig, positions, ref, alt)
    samples = np.asarray(found.sample_ids, dtype=object)
    return SiteHaplotypes(
        haplotypes=found.haplotypes,
        sample_ids=samples,
        haplotype_ids=np.asarray([f"{s}_{h}" for s in samples for h in "AB"], dtype=object),
        haplotype_samples=np.repeat(samples, 2),
    )
