"""VCF/BCF → :class:`HaplotypeMatrix` with cyvcf2.

Rows of the matrix are haplotypes: one phased diploid sample gives two rows, ``<sample>_A`` (the allele
left of ``|``) and ``<sample>_B``. Values are 0 (REF) and 1 (ALT), stored as int8.

Filters applied while reading, each counted in :attr:`HaplotypeMatrix.filter_counts` and logged:

- ``multiallelic``: records with more than one ALT allele are skipped;
- ``not_snp``: indels, MNPs and symbolic alleles are skipped;
- ``monomorphic``: sites where every kept haplotype carries the same allele are skipped;
- ``below_min_maf``: polymorphic sites whose minor allele frequency is below ``min_maf``.

Missing or unphased genotypes are errors that name the record and the sample: haplotype rows built from
them would be meaningless.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vae_genomics.errors import DataError

log = logging.getLogger(__name__)

#: Allele codes cyvcf2 uses for a missing allele and for the padding of a haploid call.
_MISSING, _VECTOR_END = -1, -2


@dataclass
class HaplotypeMatrix:
    """Phased haplotypes of a cohort over a set of biallelic SNPs.

    Attributes:
        haplotypes: int8 array, shape (n_haplotypes, n_variants), values 0/1 (ALT allele present).
        chrom: Contig of each variant, shape (n_variants,).
        positions: 1-based positions, int64, shape (n_variants,).
        variant_ids: ID column of each variant ("." when absent), shape (n_variants,).
        ref: REF allele of each variant, shape (n_variants,).
        alt: ALT allele of each variant, shape (n_variants,).
        sample_ids: Sample IDs in file order, shape (n_samples,).
        haplotype_ids: Row names, ``<sample>_A`` / ``<sample>_B``, shape (n_haplotypes,).
        haplotype_samples: Sample ID of each row, shape (n_haplotypes,).
        filter_counts: Number of records removed by each filter, and ``records_read``/``kept``.
        source: The file the matrix was read from.
    """

    haplotypes: np.ndarray
    chrom: np.ndarray
    positions: np.ndarray
    variant_ids: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    sample_ids: np.ndarray
    haplotype_ids: np.ndarray
    haplotype_samples: np.ndarray
    filter_counts: dict[str, int] = field(default_factory=dict)
    source: str = ""

    @property
    def n_haplotypes(self) -> int:
        """Number of rows."""
        return int(self.haplotypes.shape[0])

    @property
    def n_variants(self) -> int:
        """Number of columns."""
        return int(self.haplotypes.shape[1])

    @property
    def contigs(self) -> list[str]:
        """Contigs in file order."""
        _, first = np.unique(self.chrom, return_index=True)
        return [str(self.chrom[i]) for i in sorted(first)]

    def select_variants(self, start: int, stop: int) -> HaplotypeMatrix:
        """Columns ``start:stop`` (0-based, half-open) as a new matrix sharing the row metadata."""
        cols = slice(start, stop)
        return HaplotypeMatrix(
            haplotypes=self.haplotypes[:, cols],
            chrom=self.chrom[cols],
            positions=self.positions[cols],
            variant_ids=self.variant_ids[cols],
            ref=self.ref[cols],
            alt=self.alt[cols],
            sample_ids=self.sample_ids,
            haplotype_ids=self.haplotype_ids,
            haplotype_samples=self.haplotype_samples,
            filter_counts=dict(self.filter_counts),
            source=self.source,
        )


def _open(path: Path):
    """Open a VCF/BCF with cyvcf2, turning htslib failures into a :class:`DataError`."""
    from cyvcf2 import VCF

    if not path.is_file():
        raise DataError(f"{path}: VCF/BCF file not found. Check data.vcf in your config.")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty. Expected a VCF, bgzipped VCF or BCF.")
    try:
        return VCF(str(path), gts012=False, lazy=True)
    except (OSError, Exception) as exc:  # cyvcf2 raises plain Exception for bad headers
        raise DataError(
            f"{path}: cannot be read as VCF/BCF ({exc}). Check that it is a complete, "
            "bgzip-compressed (not plain gzip) VCF or a BCF with a '#CHROM' header line."
        ) from exc


def read_vcf(
    path: str | Path,
    min_maf: float = 0.0,
    region: str | None = None,
    progress: bool | None = None,
) -> HaplotypeMatrix:
    """Read phased biallelic SNPs from a VCF/BCF into a haplotype matrix.

    Args:
        path: VCF, bgzipped VCF or BCF file with a GT FORMAT field.
        min_maf: Minimum minor allele frequency over haplotypes, in [0, 0.5]. Monomorphic sites are
            always removed.
        region: Optional ``contig`` or ``contig:start-end`` (1-based inclusive); needs an index.
        progress: Show a progress bar (default: when stderr is a terminal).

    Returns:
        The matrix, haplotypes × variants, with the filter counts.

    Raises:
        DataError: The file cannot be read, has no samples or no GT field, or contains a missing or
            unphased genotype (the message names the record and the sample).
    """
    path = Path(path)
    vcf = _open(path)
    samples = np.asarray(vcf.samples, dtype=object)
    if samples.size == 0:
        raise DataError(
            f"{path}: the VCF has no samples. A cohort with genotype columns is needed."
        )
    if "GT" not in {h.info().get("ID") for h in vcf.header_iter() if h.type == "FORMAT"}:
        raise DataError(f"{path}: the header declares no GT FORMAT field; genotypes are required.")

    counts = {"records_read": 0, "multiallelic": 0, "not_snp": 0}
    columns: list[np.ndarray] = []
    chrom: list[str] = []
    pos: list[int] = []
    ids: list[str] = []
    refs: list[str] = []
    alts: list[str] = []
    show = sys.stderr.isatty() if progress is None else progress
    records = vcf(region) if region else vcf
    try:
        for rec in tqdm(records, desc=f"reading {path.name}", unit=" records", disable=not show):
            counts["records_read"] += 1
            if len(rec.ALT) != 1:
                counts["multiallelic"] += 1
                continue
            if not rec.is_snp:
                counts["not_snp"] += 1
                continue
            gt = rec.genotype.array()
            alleles = gt[:, :2]
            if (alleles < 0).any():
                _raise_bad_call(path, rec, samples, alleles)
            if not gt[:, 2].all():
                bad = int(np.flatnonzero(gt[:, 2] == 0)[0])
                raise DataError(
                    f"{path}: record {rec.CHROM}:{rec.POS} has an unphased genotype for sample "
                    f"'{samples[bad]}'. Haplotype rows need phased calls ('0|1'): phase the cohort "
                    "first (e.g. with SHAPEIT or Beagle)."
                )
            columns.append(alleles.reshape(-1).astype(np.int8))
            chrom.append(rec.CHROM)
            pos.append(rec.POS)
            ids.append(rec.ID or ".")
            refs.append(rec.REF)
            alts.append(rec.ALT[0])
    except DataError:
        raise
    except Exception as exc:
        raise DataError(
            f"{path}: reading stopped after {counts['records_read']} records: {exc}. "
            "The file may be truncated or corrupt; re-download or re-create it."
        ) from exc
    finally:
        vcf.close()

    n_hap = 2 * samples.size
    hap = np.stack(columns, axis=1) if columns else np.zeros((n_hap, 0), dtype=np.int8)
    keep, mono, low = _frequency_filter(hap, min_maf)
    counts["monomorphic"] = mono
    counts["below_min_maf"] = low
    counts["kept"] = int(keep.sum())
    log.info(
        "%s: read %d records, kept %d biallelic SNPs (skipped %d multi-allelic, %d non-SNP, "
        "%d monomorphic, %d below MAF %.3g) for %d haplotypes",
        path.name, counts["records_read"], counts["kept"], counts["multiallelic"],
        counts["not_snp"], mono, low, min_maf, n_hap,
    )  # fmt: skip
    return HaplotypeMatrix(
        haplotypes=np.ascontiguousarray(hap[:, keep]),
        chrom=np.asarray(chrom, dtype=object)[keep],
        positions=np.asarray(pos, dtype=np.int64)[keep],
        variant_ids=np.asarray(ids, dtype=object)[keep],
        ref=np.asarray(refs, dtype=object)[keep],
        alt=np.asarray(alts, dtype=object)[keep],
        sample_ids=samples,
        haplotype_ids=np.asarray([f"{s}_{h}" for s in samples for h in "AB"], dtype=object),
        haplotype_samples=np.repeat(samples, 2),
        filter_counts=counts,
        source=str(path),
    )


def _raise_bad_call(path: Path, rec, samples: np.ndarray, alleles: np.ndarray) -> None:
    bad_row = int(np.flatnonzero((alleles < 0).any(axis=1))[0])
    sample = samples[bad_row]
    if (alleles[bad_row] == _VECTOR_END).any():
        raise DataError(
            f"{path}: record {rec.CHROM}:{rec.POS} has a haploid call for sample '{sample}'. "
            "Only diploid phased calls are supported so far; remove haploid contigs (chrX in "
            "males, chrY, MT) from the input."
        )
    raise DataError(
        f"{path}: record {rec.CHROM}:{rec.POS} has a missing genotype for sample '{sample}'. "
        "Impute missing calls before training (e.g. with Beagle), or drop the site."
    )


def _frequency_filter(hap: np.ndarray, min_maf: float) -> tuple[np.ndarray, int, int]:
    """Mask of sites to keep, and the numbers removed as monomorphic and below ``min_maf``."""
    if hap.shape[1] == 0:
        return np.zeros(0, dtype=bool), 0, 0
    alt_count = hap.sum(axis=0, dtype=np.int64)
    n = hap.shape[0]
    mac = np.minimum(alt_count, n - alt_count)
    monomorphic = mac == 0
    low = ~monomorphic & (mac / n < min_maf)
    keep = ~monomorphic & ~low
    return keep, int(monomorphic.sum()), int(low.sum())


def read_populations(path: str | Path, sample_ids: np.ndarray) -> np.ndarray:
    """Population label of each sample from a TSV with columns ``sample`` and ``population``.

    Args:
        path: Tab-separated file with a header naming (at least) ``sample`` and ``population``.
        sample_ids: Samples to label, shape (n_samples,).

    Returns:
        Labels, shape (n_samples,); ``"unknown"`` for samples not in the file (counted in the log).

    Raises:
        DataError: The file is missing or lacks the two columns.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"{path}: population file not found. Fix data.populations or set it to null."
        )
    table = pd.read_csv(path, sep="\t", dtype=str)
    missing = {"sample", "population"} - set(table.columns)
    if missing:
        raise DataError(
            f"{path}: expected tab-separated columns 'sample' and 'population' in the header, "
            f"missing {sorted(missing)} (found {list(table.columns)})."
        )
    lookup = dict(zip(table["sample"], table["population"], strict=True))
    labels = np.asarray([lookup.get(s, "unknown") for s in sample_ids], dtype=object)
    unlabeled = int((labels == "unknown").sum())
    if unlabeled:
        log.warning("%s: %d of %d samples have no population label", path, unlabeled, labels.size)
    return labels
