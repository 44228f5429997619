"""Site-level decisions shared by every reader (text VCF, htslib, cache).

A reader turns records into :class:`Batch` es;
:class:`~vae_genomics.data.builder.MatrixBuilder` then, for every batch:

1. classifies records by REF/ALT (:func:`classify`): multi-allelic records, indels/MNPs/symbolic
   alleles (``not_snp``) and records without an ALT allele (``monomorphic``) are counted and skipped;
   the rest are *candidate* biallelic SNPs;
2. counts calls per candidate site (:class:`SiteStats`): ALT and called alleles, missing, unphased
   heterozygous and haploid calls;
3. applies the policies (:class:`Filters`): an unphased heterozygous call, or a missing call under
   ``missing: error``, stops reading with an error naming the first such record and sample;
   ``drop-site`` drops sites with a missing call;
4. applies the frequency filters to the *called* alleles (missing ones do not count): monomorphic
   sites, then ``min_maf``, then ``min_mac`` (minor allele count);
5. keeps the genotypes of the sites that pass and logs every record's fate in a
   :class:`~vae_genomics.data.matrix.RecordLog`.

Unphased homozygous calls (``0/0``, ``1/1``) and unphased missing calls are accepted: their haplotype
rows are the same whatever the phase.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np

from vae_genomics.common.errors import DataError
from vae_genomics.data.matrix import (
    ABSENT,
    BELOW_MAC,
    BELOW_MAF,
    KEPT,
    MISSING,
    MISSING_DROPPED,
    MONOMORPHIC,
    MULTIALLELIC,
    NOT_SNP,
)

log = logging.getLogger(__name__)

#: Per-variant call counts a matrix keeps: ALT and called alleles, unphased hets, haploid calls.
SITE_COUNTS = ("alt", "called", "unphased", "haploid")
#: Record class of a candidate biallelic SNP (other classes are the status codes of matrix.py).
CANDIDATE = 255
_BASES = frozenset("ACGTNacgtn")

MissingPolicy = Literal["error", "drop-site", "impute-af"]


def classify(ref: str, alt: str) -> int:
    """Class of a record from its REF and raw ALT column (e.g. ``"G"``, ``"G,T"``, ``"."``)."""
    if "," in alt:
        return MULTIALLELIC
    if alt in (".", ""):
        return MONOMORPHIC
    if len(ref) != 1 or len(alt) != 1 or ref not in _BASES or alt not in _BASES:
        return NOT_SNP
    return CANDIDATE


@dataclass(frozen=True)
class Filters:
    """Filter and policy settings (see ``DataConfig`` for their meaning)."""

    min_maf: float = 0.0
    min_mac: int = 0
    missing: MissingPolicy = "error"
    allow_unphased: bool = False
    impute_seed: int = 0


@dataclass
class Batch:
    """Consecutive records from a reader.

    Attributes:
        chrom, ids, ref, alt: Per record, lists of length n_records (``alt`` as the raw column).
        positions: 1-based positions, int64, shape (n_records,).
        kind: :data:`CANDIDATE` or a status code, uint8, shape (n_records,).
        genotypes: Alleles of the candidate records, int8, shape (n_candidates, 2 n_samples), values
            0/1/MISSING/ABSENT.
        unphased: Whether each diploid call was written unphased (``/``), shape (n_candidates,
            n_samples); ``None`` when every call is phased.
        clean: ``True`` when ``genotypes`` holds only 0 and 1 (lets the counting skip work).
        no_gt: Per candidate record, whether its FORMAT has no GT key (its calls then read as
            missing), shape (n_candidates,); ``None`` when every candidate has GT.
    """

    chrom: list[str]
    positions: np.ndarray
    ids: list[str]
    ref: list[str]
    alt: list[str]
    kind: np.ndarray
    genotypes: np.ndarray
    unphased: np.ndarray | None
    clean: bool = False
    no_gt: np.ndarray | None = None


@dataclass
class SiteStats:
    """Call counts per candidate site, int32 arrays of shape (n_sites,)."""

    n_alt: np.ndarray
    n_called: np.ndarray
    n_missing: np.ndarray
    n_unphased: np.ndarray
    n_haploid: np.ndarray

    def fields(self) -> tuple[np.ndarray, ...]:
        """``(n_alt, n_called, n_missing, n_unphased, n_haploid)``, the cache's column order."""
        return self.n_alt, self.n_called, self.n_missing, self.n_unphased, self.n_haploid

    def as_dict(self) -> dict[str, np.ndarray]:
        """The counts a matrix keeps per variant (:data:`SITE_COUNTS`)."""
        return {
            "alt": self.n_alt,
            "called": self.n_called,
            "unphased": self.n_unphased,
            "haploid": self.n_haploid,
        }

    @classmethod
    def compute(cls, genotypes: np.ndarray, unphased: np.ndarray | None, clean: bool) -> SiteStats:
        """Counts from a block of alleles, shape (n_sites, 2 n_samples)."""
        n_sites, width = genotypes.shape
        zeros = np.zeros(n_sites, dtype=np.int32)
        first, second = genotypes[:, 0::2], genotypes[:, 1::2]
        if clean:
            n_alt = np.count_nonzero(genotypes.view(np.bool_), axis=1).astype(np.int32)
            n_called, n_missing, n_haploid = np.full(n_sites, width, np.int32), zeros, zeros
        else:
            n_alt = np.count_nonzero(genotypes == 1, axis=1).astype(np.int32)
            n_called = np.count_nonzero(genotypes >= 0, axis=1).astype(np.int32)
            missing = (first == MISSING) | (second == MISSING)
            n_missing = np.count_nonzero(missing, axis=1).astype(np.int32)
            n_haploid = np.count_nonzero((second == ABSENT) & (first >= 0), axis=1).astype(np.int32)
        n_unphased = zeros
        if unphased is not None:
            het = unphased & (first != second) & (first >= 0) & (second >= 0)
            n_unphased = np.count_nonzero(het, axis=1).astype(np.int32)
        return cls(n_alt, n_called, n_missing, n_unphased, n_haploid)


def site_status(stats: SiteStats, filters: Filters) -> np.ndarray:
    """Status code (``KEPT`` or why not) of each candidate site, uint8, shape (n_sites,)."""
    status = np.full(stats.n_alt.shape, KEPT, dtype=np.uint8)
    if filters.missing == "drop-site":
        status[stats.n_missing > 0] = MISSING_DROPPED
    mac = np.minimum(stats.n_alt, stats.n_called - stats.n_alt)
    with np.errstate(invalid="ignore", divide="ignore"):
        maf = mac / stats.n_called
    for code, mask in (
        (MONOMORPHIC, mac <= 0),
        (BELOW_MAF, maf < filters.min_maf),
        (BELOW_MAC, mac < filters.min_mac),
    ):
        status[(status == KEPT) & mask] = code
    return status


def first_problem(stats: SiteStats, filters: Filters) -> tuple[int, str] | None:
    """Index and kind (``"unphased"`` or ``"missing"``) of the first site that must stop reading."""
    unphased = stats.n_unphased > 0 if not filters.allow_unphased else np.zeros(0, bool)
    missing = stats.n_missing > 0 if filters.missing == "error" else np.zeros(0, bool)
    bad = np.zeros(stats.n_alt.shape, dtype=bool)
    for mask in (unphased, missing):
        if mask.size:
            bad |= mask
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    return i, "unphased" if unphased.size and unphased[i] else "missing"


def problem_error(
    source: str,
    kind: str,
    chrom: str,
    pos: int,
    alleles: np.ndarray,
    unphased: np.ndarray | None,
    sample_ids: np.ndarray,
) -> DataError:
    """The error for the first bad call of one record (``alleles``: shape (2 n_samples,))."""
    first, second = alleles[0::2], alleles[1::2]
    if kind == "missing":
        sample = sample_ids[int(np.argmax((first == MISSING) | (second == MISSING)))]
        return DataError(
            f"{source}: record {chrom}:{pos} has a missing genotype for sample '{sample}'. "
            "Set data.missing to 'drop-site' (drop sites with a missing call) or 'impute-af' "
            "(seeded draws from the site's allele frequency), or impute the cohort first "
            "(e.g. with Beagle)."
        )
    assert unphased is not None
    het = unphased & (first != second) & (first >= 0) & (second >= 0)
    sample = sample_ids[int(np.argmax(het))]
    return DataError(
        f"{source}: record {chrom}:{pos} has an unphased genotype for sample '{sample}'. "
        "Haplotype rows need phased calls ('0|1'): phase the cohort first (e.g. with SHAPEIT or "
        "Beagle), or set data.allow_unphased: true to take unphased alleles in the order written."
    )


def log_counts(where: str, counts: dict[str, int], filters: Filters, n_haplotypes: int) -> None:
    """Log what reading kept and skipped (and warn about imputed or unphased calls)."""
    log.info(
        "%s: read %d records, kept %d biallelic SNPs (skipped %d multi-allelic, %d non-SNP, "
        "%d with missing calls, %d monomorphic, %d below MAF %.3g, %d below MAC %d) for %d "
        "haplotypes",
        where, counts["records_read"], counts["kept"], counts["multiallelic"],
        counts["not_snp"], counts["missing_dropped"], counts["monomorphic"],
        counts["below_min_maf"], filters.min_maf, counts["below_min_mac"], filters.min_mac,
        n_haplotypes,
    )  # fmt: skip
    if counts.get("duplicate_positions"):
        log.warning(
            "%s: %d records repeat the position of the record before them (%d among the kept "
            "SNPs, each kept as its own column): duplicated records or a split multi-allelic "
            "site. Check with `bcftools norm -d exact` (or `bcftools norm -m +any`).",
            where, counts["duplicate_positions"], counts.get("duplicate_kept", 0),
        )  # fmt: skip
    if counts["missing_calls"] and filters.missing != "error":
        log.warning(
            "%s: %d genotype calls with a missing allele (policy %s)",
            where, counts["missing_calls"], filters.missing,
        )  # fmt: skip
    if counts["unphased_calls"]:
        log.warning(
            "%s: %d unphased heterozygous calls used as if phased (data.allow_unphased)",
            where, counts["unphased_calls"],
        )  # fmt: skip
