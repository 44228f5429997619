"""The :class:`HaplotypeMatrix`, the log of what happened to every record, and ploidy resolution.

Rows are haplotypes: each sample owns two rows, ``<sample>_A`` (the first allele of a call, left of
``|``) and ``<sample>_B``. A matrix straight from a reader keeps both rows of every sample and may
hold two sentinel values besides 0 (REF) and 1 (ALT):

- :data:`MISSING` (-1): a missing allele (``.``), present only under the ``impute-af`` policy;
- :data:`ABSENT` (-2): no allele, i.e. the second slot of a haploid call such as ``1`` on chrY.

:meth:`HaplotypeMatrix.select_variants` turns a column range (one section) into a clean 0/1 matrix:

- **ploidy**: a sample keeps its B row only if that row carries an allele somewhere in the range, so
  on chrY, MT or chrX outside the PARs a male has the single row ``<sample>_A``. Rows are decided per
  section, not per contig, because chrX mixes both (the PARs are diploid in males);
- **mixed ploidy**: where a sample kept its B row but a record in the range has a haploid call, the
  allele is written into both rows (a hemizygous call counted as homozygous, as ``bcftools
  +fixploidy`` does), and counted as ``haploid_filled``;
- **imputation**: missing alleles become seeded draws from the site's ALT allele frequency among
  called alleles (:func:`impute_draws`); a call with no allele at all (``.``) is missing in every row
  the sample keeps. Draws depend only on the seed, contig, position, sample ID and row, so the same
  section gets the same values whichever way (file, region query, cache) it was read.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

#: Allele codes besides 0/1 (the same as VCF Zarr's ``call_genotype``).
MISSING, ABSENT = -1, -2

#: Record status codes in :class:`RecordLog` (index into :data:`STATUS_NAMES`).
KEPT, MULTIALLELIC, NOT_SNP, MISSING_DROPPED, MONOMORPHIC, BELOW_MAF, BELOW_MAC = range(7)
STATUS_NAMES = (
    "kept",
    "multiallelic",
    "not_snp",
    "missing_dropped",
    "monomorphic",
    "below_min_maf",
    "below_min_mac",
)


@dataclass
class RecordLog:
    """What happened to every record read (kept or not), for counts per file and per section.

    Attributes:
        contigs: Contig names; ``contig`` indexes into them.
        contig: Contig index of each record, int32, shape (n_records,).
        positions: 1-based positions, int64, shape (n_records,).
        status: Status code of each record (:data:`STATUS_NAMES`), uint8, shape (n_records,).
        missing_calls: Genotype calls with a missing allele at each biallelic-SNP record, int32.
    """

    contigs: list[str]
    contig: np.ndarray
    positions: np.ndarray
    status: np.ndarray
    missing_calls: np.ndarray

    def counts(self, contig: str | None = None, start: int = 0, end: int | None = None) -> dict:
        """Records per status (and missing calls) over all records or one contig's ``[start, end]``.

        Records are grouped by contig and sorted by position within it (the readers check this),
        so a range costs two binary searches and a pass over its own records only.

        Returns:
            ``{"records_read": n, "multiallelic": n, ..., "kept": n, "missing_calls": n}``.
        """
        lo, hi = 0, self.status.size
        if contig is not None:
            lo, hi = self._span(contig)
            positions = self.positions[lo:hi]
            last = np.iinfo(np.int64).max if end is None else end
            lo, hi = (
                lo + np.searchsorted(positions, start),
                lo + np.searchsorted(positions, last, side="right"),
            )
        by_status = np.bincount(self.status[lo:hi], minlength=len(STATUS_NAMES))
        out = {"records_read": int(hi - lo)}
        out.update({name: int(by_status[i]) for i, name in enumerate(STATUS_NAMES) if i != KEPT})
        out["kept"] = int(by_status[KEPT])
        out["missing_calls"] = int(self.missing_calls[lo:hi].sum())
        return out

    def duplicates(self) -> dict[str, int]:
        """Records at the position of the record before them (sorted within a contig).

        Returns:
            ``duplicate_positions`` over all records and ``duplicate_kept`` among the kept SNPs.
        """

        def repeats(contig: np.ndarray, positions: np.ndarray) -> int:
            return int(((contig[1:] == contig[:-1]) & (positions[1:] == positions[:-1])).sum())

        kept = self.status == KEPT
        return {
            "duplicate_positions": repeats(self.contig, self.positions),
            "duplicate_kept": repeats(self.contig[kept], self.positions[kept]),
        }

    def _span(self, contig: str) -> tuple[int, int]:
        """Index range of one contig's records (empty for an unknown contig)."""
        if contig not in self.contigs:
            return 0, 0
        code = self.contigs.index(contig)
        lo = int(np.searchsorted(self.contig, code, side="left"))
        hi = int(np.searchsorted(self.contig, code, side="right"))
        if lo == hi or self.contig[lo:hi].min() != code:  # codes are in order of appearance
            where = np.flatnonzero(self.contig == code)
            return (int(where[0]), int(where[-1]) + 1) if where.size else (0, 0)
        return lo, hi


@dataclass
class HaplotypeMatrix:
    """Haplotypes of a cohort over a set of biallelic SNPs.

    Attributes:
        haplotypes: int8 array, shape (n_haplotypes, n_variants), values 0/1 (ALT allele present);
            straight from a reader also :data:`MISSING`/:data:`ABSENT` (see the module docstring).
            Usually a transposed (Fortran-ordered) view of variant-major storage.
        chrom: Contig of each variant, shape (n_variants,).
        positions: 1-based positions, int64, shape (n_variants,).
        variant_ids: ID column of each variant ("." when absent), shape (n_variants,).
        ref: REF allele of each variant, shape (n_variants,).
        alt: ALT allele of each variant, shape (n_variants,).
        sample_ids: Sample IDs in file order, shape (n_samples,).
        haplotype_ids: Row names, ``<sample>_A`` / ``<sample>_B``, shape (n_haplotypes,).
        haplotype_samples: Sample ID of each row, shape (n_haplotypes,).
        filter_counts: Records removed by each filter, ``records_read``, ``kept`` and call counts
            (``missing_calls``, ``unphased_calls``, ``haploid_calls``; after :meth:`select_variants`
            also ``imputed_calls``, ``haploid_filled`` and ``haploid_samples``) over the matrix's
            records.
        source: The file the matrix was read from.
        site_counts: Per-variant int32 arrays, shape (n_variants,): ``alt`` and ``called`` alleles
            (before imputation), ``unphased`` heterozygous and ``haploid`` calls.
        records: Every record read, kept or not; ``None`` when not tracked.
        impute_seed: Seed of the imputation draws (used by :meth:`select_variants`).
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
    site_counts: dict[str, np.ndarray] | None = None
    records: RecordLog | None = None
    impute_seed: int = 0

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

    def select_variants(
        self, start: int, stop: int, bounds: tuple[str, int, int] | None = None
    ) -> HaplotypeMatrix:
        """Columns ``start:stop`` (0-based, half-open) as a clean, C-contiguous 0/1 matrix.

        Rows are resolved for these columns (ploidy, mixed ploidy, imputation: see the module
        docstring). ``filter_counts`` then describes the records in the range.

        Args:
            start: First column.
            stop: One past the last column.
            bounds: ``(contig, first, last)`` 1-based inclusive range whose records the counts
                describe (default: the contig and positions of the first and last column).

        Returns:
            The section's matrix: haplotypes (n_rows, stop - start) int8 with values 0/1.
        """
        stop = min(stop, self.n_variants)
        cols = slice(start, stop)
        variant_major = np.asarray(self.haplotypes[:, cols]).T  # (m, 2n) view
        values, rows, extra = resolve_calls(
            variant_major,
            self.sample_ids,
            self.chrom[cols],
            self.positions[cols],
            None if self.site_counts is None else self.site_counts["alt"][cols],
            None if self.site_counts is None else self.site_counts["called"][cols],
            self.impute_seed,
        )
        site_counts = None
        if self.site_counts is not None:
            site_counts = {key: per_site[cols] for key, per_site in self.site_counts.items()}
        counts = dict(self.filter_counts)
        if self.records is not None and stop > start:
            contig, first, last = bounds or (
                str(self.chrom[start]),
                int(self.positions[start]),
                int(self.positions[stop - 1]),
            )
            counts.update(self.records.counts(contig, first, last))
        if site_counts is not None:
            counts["unphased_calls"] = int(site_counts["unphased"].sum())
            counts["haploid_calls"] = int(site_counts["haploid"].sum())
        counts.update(extra)
        return HaplotypeMatrix(
            haplotypes=np.ascontiguousarray(values.T),
            chrom=self.chrom[cols],
            positions=self.positions[cols],
            variant_ids=self.variant_ids[cols],
            ref=self.ref[cols],
            alt=self.alt[cols],
            sample_ids=self.sample_ids,
            haplotype_ids=self.haplotype_ids[rows],
            haplotype_samples=self.haplotype_samples[rows],
            filter_counts=counts,
            source=self.source,
            site_counts=site_counts,
            records=None,
            impute_seed=self.impute_seed,
        )


def haplotype_labels(sample_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row names ``<sample>_A``, ``<sample>_B`` and the sample of each row, shape (2 n_samples,)."""
    ids = np.asarray([f"{s}_{h}" for s in sample_ids for h in "AB"], dtype=object)
    return ids, np.repeat(np.asarray(sample_ids, dtype=object), 2)


def resolve_calls(
    values: np.ndarray,
    sample_ids: np.ndarray,
    chrom: np.ndarray,
    positions: np.ndarray,
    alt_count: np.ndarray | None,
    called_count: np.ndarray | None,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Resolve ploidy and missing alleles of a variant-major block (see the module docstring).

    Args:
        values: int8, shape (n_variants, 2 n_samples), values 0/1/MISSING/ABSENT.
        sample_ids: Shape (n_samples,).
        chrom, positions: Contig and position of each variant, shape (n_variants,).
        alt_count, called_count: Per-variant allele counts for imputation, shape (n_variants,).
        seed: Seed of the imputation draws.

    Returns:
        ``(values, rows, counts)``: the clean 0/1 block, shape (n_variants, n_rows); the kept row
        indices, shape (n_rows,); and ``imputed_calls``/``haploid_filled``/``haploid_samples``.
    """
    n_rows = values.shape[1]
    if values.size == 0 or values.min(initial=0) >= 0:
        counts = {"imputed_calls": 0, "haploid_filled": 0, "haploid_samples": 0}
        return values, np.arange(n_rows), counts
    out = np.array(values, dtype=np.int8, copy=True)
    first, second = out[:, 0::2], out[:, 1::2]  # views into out
    keep_second = (second >= 0).any(axis=0)
    no_allele = (first == MISSING) & (second == ABSENT)
    hemizygous = (second == ABSENT) & keep_second & ~no_allele
    second[hemizygous] = first[hemizygous]
    second[no_allele & keep_second] = MISSING
    row_kept = np.stack([np.ones_like(keep_second), keep_second], axis=1).reshape(-1)
    missing_rows = (out == MISSING) & row_kept
    n_imputed = int(missing_rows.sum())
    if n_imputed:
        if alt_count is None or called_count is None:
            raise ValueError("allele counts are needed to impute missing calls")
        var, col = np.nonzero(missing_rows)
        freq = alt_count[var] / np.maximum(called_count[var], 1)
        samples = sample_ids[col // 2]
        out[var, col] = impute_draws(seed, chrom[var], positions[var], samples, col % 2, freq)
    rows = np.flatnonzero(row_kept)
    counts = {
        "imputed_calls": n_imputed,
        "haploid_filled": int(hemizygous.sum()),
        "haploid_samples": int((~keep_second).sum()),
    }
    return out[:, rows], rows, counts


_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _string_keys(values: np.ndarray) -> np.ndarray:
    """CRC-32 of each distinct string, broadcast back, as uint64."""
    uniques, inverse = np.unique(np.asarray(values, dtype=object).astype(str), return_inverse=True)
    keys = np.array([zlib.crc32(u.encode()) for u in uniques], dtype=np.uint64)
    return keys[inverse.reshape(-1)]


def impute_draws(
    seed: int,
    chrom: np.ndarray,
    positions: np.ndarray,
    samples: np.ndarray,
    slot: np.ndarray,
    alt_frequency: np.ndarray,
) -> np.ndarray:
    """Seeded Bernoulli draws for missing alleles, one per (site, sample, row).

    Each draw is a counter-based hash of ``(seed, contig, position, sample ID, row)`` compared with
    the site's ALT allele frequency, so it does not depend on which other records or samples were
    read, nor on the order of reading.

    Args:
        seed: Imputation seed.
        chrom, positions, samples, slot: Contig, position, sample ID and row (0 = A, 1 = B) of each
            missing allele, shape (n,).
        alt_frequency: ALT allele frequency among called alleles at the site, shape (n,).

    Returns:
        int8 alleles, shape (n,).
    """
    with np.errstate(over="ignore"):
        key = _mix(np.full(len(positions), np.uint64(seed & 0xFFFFFFFFFFFFFFFF)))
        key = _mix(key ^ _string_keys(chrom))
        key = _mix(key ^ np.asarray(positions, dtype=np.uint64))
        key = _mix(key ^ _string_keys(samples))
        key = _mix(key ^ np.asarray(slot, dtype=np.uint64)) & _MASK64
    uniform = (key >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return (uniform < np.asarray(alt_frequency, dtype=np.float64)).astype(np.int8)
