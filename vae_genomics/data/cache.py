"""Convert-once cache: a VCF Zarr store from which a section job reads only its slice.

``vae-genomics cache VCF --out DIR`` (:mod:`~vae_genomics.data.cache_writer`) parses the VCF
once (with the fast text reader) and writes a
`VCF Zarr <https://github.com/sgkit-dev/vcf-zarr-spec>`_ store in Zarr format 2, with bio2zarr's
array names, dimensions and chunking (1,000 variants × 10,000 samples), so sgkit, bio2zarr's tools
and plain ``zarr`` can read it:

- ``sample_id``, ``contig_id``, ``contig_length``; per variant ``variant_contig``,
  ``variant_position``, ``variant_id``, ``variant_allele``; per call ``call_genotype`` (int8,
  -1 missing, -2 the padding of a haploid call) and ``call_genotype_phased``.

It holds the biallelic SNP records (the only ones a section can use) with their raw calls, so one
cache serves every filter setting; two extra arrays make a section load cheap:

- ``variant_vaeg_counts`` (variants × 5, int32): ALT, called, missing, unphased-heterozygous and
  haploid calls per site, so the filters and policies run without touching the genotypes;
- ``vaeg_records`` (records × 3, int32): contig, position and class of *every* VCF record, so the
  counts of skipped records (multi-allelic, indels, ...) are the same as when reading the VCF.

A section load reads only its own rows of those arrays (found by binary search) and then only the
genotype chunks of the section (:class:`~vae_genomics.data.zarr_io.LazyGenotypes`). SNP windows
are defined over a contig's filtered variants, so locating one streams the contig's per-site counts
in blocks of 64 Ki variants and keeps only the window boundaries: neither time nor memory of a
section load depends on the genotypes of the rest of the contig, and memory not on its length.

The store's attributes record the source VCF's size and a SHA-256 fingerprint of its first and last
MiB and 16 evenly spaced 64 KiB blocks; loading with ``data.vcf`` pointing at a different file is an
error. Written into ``.<name>.partial`` and renamed when complete.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from vae_genomics.common.errors import DataError
from vae_genomics.data.header import sample_index
from vae_genomics.data.matrix import KEPT, HaplotypeMatrix, RecordLog, haplotype_labels
from vae_genomics.data.sections import Region, Section, section_name, window_bounds
from vae_genomics.data.sites import (
    CANDIDATE,
    Filters,
    SiteStats,
    first_problem,
    log_counts,
    problem_error,
    site_status,
)
from vae_genomics.data.zarr_io import LazyGenotypes, LazyStrings, SortedColumn, open_store

__all__ = ["CACHE_VERSION", "COUNT_FIELDS", "Cache", "fingerprint", "same_file"]

log = logging.getLogger(__name__)
CACHE_VERSION = 1
COUNT_FIELDS = ("alt", "called", "missing", "unphased", "haploid")
_BLOCK = 1 << 14  # variants per block when streaming (one chunk of the per-site arrays)


class Cache:
    """An opened cache directory.

    Args:
        path: Directory written by :func:`write_cache`.

    Raises:
        DataError: Not a cache, or made by an incompatible version.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise DataError(
                f"{self.path}: "
                f"{'a file, not a cache directory' if self.path.is_file() else 'cache directory not found'}"
                ". Create it with `vae-genomics cache "
                "VCF --out DIR`, or fix data.cache."
            )
        try:
            self.group = open_store(self.path, mode="r")
            meta = dict(self.group.attrs).get("vae_genomics")
        except Exception:  # zarr raises its own errors for directories that are not stores
            meta = None
        if not meta or meta.get("cache_version") != CACHE_VERSION:
            raise DataError(
                f"{self.path}: not a vae-genomics cache of version {CACHE_VERSION} (or "
                "incomplete). Re-create it with `vae-genomics cache VCF --out DIR`."
            )
        self.meta = meta
        self.source: dict = meta["vcf"]
        self.sample_ids = np.asarray(self.group["sample_id"][:], dtype=object)
        self.contigs: list[str] = list(meta["contigs"])

    def check_source(self, vcf: str | Path) -> None:
        """Raise a :class:`DataError` when the cache was made from a file other than ``vcf``."""
        vcf = Path(vcf)
        if not vcf.is_file():
            log.warning("%s: %s not found; cannot check that the cache matches it", self.path, vcf)
            return
        current = fingerprint(vcf)
        if not same_file(self.source, current):
            raise DataError(
                f"{self.path}: this cache was made from {self.source['path']} "
                f"({self.source['size']} bytes, fingerprint {self.source['sha256'][:12]}), not "
                f"from {vcf} ({current['size']} bytes, fingerprint {current['sha256'][:12]}). "
                f"Re-create it (`vae-genomics cache {vcf} --out {self.path} --overwrite`) or "
                "point data.vcf and data.cache at matching files."
            )

    def columns(self, samples: list[str] | None) -> np.ndarray | None:
        """Sample columns of a subset (``None``: all samples of the cache)."""
        columns = sample_index(self.sample_ids, samples, str(self.path))
        return None if len(columns) == len(self.sample_ids) else columns

    def read(
        self,
        region: tuple[str, int, int] | None,
        samples: list[str] | None,
        filters: Filters,
        rows: tuple[int, int] | None = None,
    ) -> HaplotypeMatrix:
        """The filtered matrix of a region (or of everything), with lazily read genotypes.

        Args:
            region: ``(contig, start, end)``, 1-based inclusive, or ``None`` for every contig.
            samples: Sample subset, or ``None``.
            filters: Filters and policies.
            rows: Restrict the variants to these store rows ``[first, stop)`` (records still
                cover the whole region).

        Returns:
            A :class:`~vae_genomics.data.matrix.HaplotypeMatrix` equal to what
            :func:`~vae_genomics.data.vcf.read_vcf` returns for the same settings; its
            ``haplotypes``, IDs and alleles are lazy views that read only what is selected.
        """
        subset = self.columns(samples)
        contigs = [c for c in ([region[0]] if region else self.contigs) if c in self.contigs]
        parts = [self._contig_part(c, region, subset, rows) for c in contigs]
        stats = SiteStats(*(_cat([p["stats"][k] for p in parts], np.int32) for k in range(5)))
        store_rows = _cat([p["rows"] for p in parts], np.int64)
        problem = first_problem(stats, filters)
        if problem is not None:
            i, kind = problem
            raise self._problem(int(store_rows[i]), kind, subset)
        status = site_status(stats, filters)
        kept = np.flatnonzero(status == KEPT)
        records = self._record_log(parts, contigs, status, stats.n_missing)
        site_counts = {k: v[kept] for k, v in stats.as_dict().items()}
        counts = records.counts()
        counts["unphased_calls"] = int(site_counts["unphased"].sum())
        counts["haploid_calls"] = int(site_counts["haploid"].sum())
        counts.update(records.duplicates())
        sample_ids = self.sample_ids if subset is None else self.sample_ids[subset]
        hap_ids, hap_samples = haplotype_labels(sample_ids)
        where = f"{self.path.name}{' ' + Region('', *region).label if region else ''}"
        log_counts(where, counts, filters, len(hap_ids))
        kept_rows = store_rows[kept]
        return HaplotypeMatrix(
            haplotypes=LazyGenotypes(self.group["call_genotype"], kept_rows, subset),
            chrom=_cat([np.full(len(p["rows"]), p["name"], object) for p in parts], object)[kept],
            positions=_cat([p["var_pos"] for p in parts], np.int64)[kept],
            variant_ids=LazyStrings(self.group["variant_id"], kept_rows),
            ref=LazyStrings(self.group["variant_allele"], kept_rows, column=0),
            alt=LazyStrings(self.group["variant_allele"], kept_rows, column=1),
            sample_ids=sample_ids,
            haplotype_ids=hap_ids,
            haplotype_samples=hap_samples,
            filter_counts=counts,
            source=str(self.path),
            site_counts=site_counts,
            records=records,
            impute_seed=filters.impute_seed,
        )

    def snp_windows(
        self, contig: str, window_snps: int, samples: list[str] | None, filters: Filters
    ) -> list[tuple[Section, int, int]]:
        """SNP-count windows of one contig, streamed: memory grows with windows, not variants.

        Gives the same sections as :func:`~vae_genomics.data.sections.snp_windows` over the
        contig's filtered variants (index ranges count the contig's kept variants).

        Returns:
            ``(section, first_row, stop_row)`` per window: the store rows of its variants.

        Raises:
            DataError: A call in the contig breaks a policy (as reading the contig would).
        """
        subset = self.columns(samples)
        _, _, var_lo, var_hi = self.meta["contigs"][contig]
        starts: list[tuple[int, int]] = []  # (position, row) of kept variants W, 2W, ...
        ends: list[tuple[int, int]] = []  # (position, row) of kept variants W - 1, 2W - 1, ...
        n_kept, last = 0, (0, 0)
        for lo in range(var_lo, var_hi, _BLOCK):
            hi = min(var_hi, lo + _BLOCK)
            stats = SiteStats(*self._counts(lo, hi, subset))
            problem = first_problem(stats, filters)
            if problem is not None:
                raise self._problem(lo + problem[0], problem[1], subset)
            kept = np.flatnonzero(site_status(stats, filters) == KEPT)
            if kept.size == 0:
                continue
            positions = self.group["variant_position"][lo:hi][kept]
            index = n_kept + np.arange(kept.size)
            for i in np.flatnonzero(index % window_snps == 0):
                starts.append((int(positions[i]), lo + int(kept[i])))
            for i in np.flatnonzero(index % window_snps == window_snps - 1):
                ends.append((int(positions[i]), lo + int(kept[i])))
            n_kept += kept.size
            last = (int(positions[-1]), lo + int(kept[-1]))
        ends.append(last)
        windows = []
        for a, b in window_bounds(n_kept, window_snps):
            (first, row0), (end, row1) = starts[a // window_snps], ends[(b - 1) // window_snps]
            section = Section(section_name(contig, first, end), contig, first, end, a, b)
            windows.append((section, row0, row1 + 1))
        return windows

    def _contig_part(
        self,
        contig: str,
        region: tuple[str, int, int] | None,
        subset: np.ndarray | None,
        rows: tuple[int, int] | None,
    ) -> dict:
        """Records, candidate rows and their call counts of one contig (within ``region``)."""
        rec_lo, rec_hi, var_lo, var_hi = self.meta["contigs"][contig]
        if region is not None:
            records = SortedColumn(self.group["vaeg_records"], column=1)
            positions = SortedColumn(self.group["variant_position"])
            rec_lo, rec_hi = records.range(rec_lo, rec_hi, region[1], region[2])
            var_lo, var_hi = positions.range(var_lo, var_hi, region[1], region[2])
        if rows is not None:
            var_lo, var_hi = max(var_lo, rows[0]), min(var_hi, rows[1])
        rec = self.group["vaeg_records"][rec_lo:rec_hi]
        return {
            "name": contig,
            "record_pos": rec[:, 1],
            "class": rec[:, 2],
            "rows": np.arange(var_lo, var_hi, dtype=np.int64),
            "var_pos": self.group["variant_position"][var_lo:var_hi],
            "stats": self._counts(var_lo, var_hi, subset),
        }

    def _counts(self, lo: int, hi: int, subset: np.ndarray | None) -> list[np.ndarray]:
        """Per-site counts of store rows ``[lo, hi)`` (:data:`COUNT_FIELDS` order), int32."""
        if subset is None:
            block = self.group["variant_vaeg_counts"][lo:hi]
            return [np.ascontiguousarray(block[:, k], dtype=np.int32) for k in range(5)]
        chunk = self.group["call_genotype"].chunks[0]
        out = np.zeros((5, hi - lo), dtype=np.int32)
        for a in range(lo, hi, chunk):  # over a subset: recount, one genotype chunk at a time
            b = min(hi, a + chunk)
            genotypes = self.group["call_genotype"][a:b][:, subset].reshape(b - a, -1)
            phased = self.group["call_genotype_phased"][a:b][:, subset]
            out[:, a - lo : b - lo] = SiteStats.compute(genotypes, ~phased, clean=False).fields()
        return list(out)

    def _record_log(
        self, parts: list[dict], contigs: list[str], status: np.ndarray, n_missing: np.ndarray
    ) -> RecordLog:
        """The record log of the parts: record classes, with candidates' statuses filled in."""
        record_status, record_missing, offset = [], [], 0
        for part in parts:
            codes = part["class"].astype(np.uint8)
            cand = np.flatnonzero(part["class"] == CANDIDATE)
            missing = np.zeros(len(codes), np.int32)
            codes[cand] = status[offset : offset + len(cand)]
            missing[cand] = n_missing[offset : offset + len(cand)]
            offset += len(cand)
            record_status.append(codes)
            record_missing.append(missing)
        contig_codes = [np.full(len(p["record_pos"]), i, np.int32) for i, p in enumerate(parts)]
        return RecordLog(
            contigs=contigs,
            contig=_cat(contig_codes, np.int32),
            positions=_cat([p["record_pos"] for p in parts], np.int64),
            status=_cat(record_status, np.uint8),
            missing_calls=_cat(record_missing, np.int32),
        )

    def _problem(self, row: int, kind: str, subset: np.ndarray | None) -> DataError:
        genotypes = self.group["call_genotype"][row]
        phased = self.group["call_genotype_phased"][row]
        sample_ids = self.sample_ids
        if subset is not None:
            genotypes, phased, sample_ids = genotypes[subset], phased[subset], sample_ids[subset]
        contig = self.group["contig_id"][int(self.group["variant_contig"][row])]
        position = int(self.group["variant_position"][row])
        return problem_error(
            str(self.path), kind, str(contig), position, genotypes.reshape(-1), ~phased, sample_ids
        )


def fingerprint(path: Path) -> dict[str, object]:
    """Size and SHA-256 of the first and last MiB and 16 evenly spaced 64 KiB blocks of a file."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as handle:
        offsets = [0, max(0, size - (1 << 20))] + [size * k // 17 for k in range(1, 17)]
        for k, offset in enumerate(offsets):
            handle.seek(offset)
            digest.update(handle.read(1 << 20 if k < 2 else 1 << 16))
    return {"path": str(path.resolve()), "size": size, "sha256": digest.hexdigest()}


def same_file(a: dict, b: dict) -> bool:
    """Whether two :func:`fingerprint` s describe the same content."""
    return a.get("size") == b.get("size") and a.get("sha256") == b.get("sha256")


def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)
