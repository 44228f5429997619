"""Accumulating batches into a :class:`~vae_genomics.data.matrix.HaplotypeMatrix`.

:class:`MatrixBuilder` applies the decisions of :mod:`vae_genomics.data.sites` batch by batch;
:class:`RowStore` holds the kept genotype rows (written in place when the record count is known);
:class:`RecordOrder` checks that records come grouped by contig and sorted.
"""

from __future__ import annotations

import numpy as np

from vae_genomics.common.errors import DataError
from vae_genomics.data.matrix import KEPT, HaplotypeMatrix, RecordLog, haplotype_labels
from vae_genomics.data.sites import (
    CANDIDATE,
    SITE_COUNTS,
    Batch,
    Filters,
    SiteStats,
    first_problem,
    problem_error,
    site_status,
)


class MatrixBuilder:
    """Accumulates batches into a :class:`HaplotypeMatrix` (see the module docstring).

    Args:
        source: File name for messages.
        sample_ids: Samples of the genotype columns, shape (n_samples,).
        filters: Filter and policy settings.
        keep_genotypes: ``False`` to count and filter only (the matrix then has no columns).
        capacity: Upper bound on the number of records (e.g. from the index) to write the kept
            rows in place; 0 when unknown.
    """

    def __init__(
        self,
        source: str,
        sample_ids: np.ndarray,
        filters: Filters,
        keep_genotypes: bool = True,
        capacity: int = 0,
    ) -> None:
        self.source, self.sample_ids, self.filters = source, sample_ids, filters
        self.store = RowStore(
            2 * len(sample_ids), capacity if keep_genotypes else 0, keep_genotypes
        )
        self._meta: dict[str, list] = {k: [] for k in ("chrom", "pos", "id", "ref", "alt")}
        self._counts: dict[str, list[np.ndarray]] = {k: [] for k in SITE_COUNTS}
        self._log: dict[str, list[np.ndarray]] = {"contig": [], "pos": [], "status": [], "miss": []}
        self.order = RecordOrder(source)

    def allocate(self, n: int) -> np.ndarray:
        """Rows a reader writes the next batch's candidate alleles to, shape (n, 2 n_samples)."""
        return self.store.allocate(n)

    def add(self, batch: Batch) -> None:
        """Apply the policies and filters to one batch (raises on the first bad call)."""
        n = len(batch.chrom)
        if n == 0:
            return
        codes = self.order.codes(batch.chrom, batch.positions)
        cand = np.flatnonzero(batch.kind == CANDIDATE)
        status = batch.kind.astype(np.uint8, copy=True)
        missing = np.zeros(n, dtype=np.int32)
        if cand.size:
            stats = SiteStats.compute(batch.genotypes, batch.unphased, batch.clean)
            problem = first_problem(stats, self.filters)
            if problem is not None:
                i, kind = problem
                rec = int(cand[i])
                raise problem_error(
                    self.source, kind, batch.chrom[rec], int(batch.positions[rec]),
                    batch.genotypes[i],
                    None if batch.unphased is None else batch.unphased[i],
                    self.sample_ids,
                )  # fmt: skip
            site = site_status(stats, self.filters)
            status[cand] = site
            missing[cand] = stats.n_missing
            kept = np.flatnonzero(site == KEPT)
            self.store.commit(kept)
            if kept.size:
                for key, values in stats.as_dict().items():
                    self._counts[key].append(values[kept])
                for k in cand[kept]:
                    self._meta["chrom"].append(batch.chrom[k])
                    self._meta["id"].append(batch.ids[k])
                    self._meta["ref"].append(batch.ref[k])
                    self._meta["alt"].append(batch.alt[k])
                self._meta["pos"].append(batch.positions[cand[kept]])
        for key, values in (("contig", codes), ("pos", batch.positions), ("status", status)):
            self._log[key].append(values)
        self._log["miss"].append(missing)

    def finish(self) -> HaplotypeMatrix:
        """The matrix of kept sites; ``haplotypes`` is a transposed view of variant-major rows."""
        variant_major = self.store.finish()

        def cat(parts: list[np.ndarray], dtype) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        records = RecordLog(
            contigs=list(self.order.contigs),
            contig=cat(self._log["contig"], np.int32),
            positions=cat(self._log["pos"], np.int64),
            status=cat(self._log["status"], np.uint8),
            missing_calls=cat(self._log["miss"], np.int32),
        )
        site_counts = {key: cat(parts, np.int32) for key, parts in self._counts.items()}
        counts = records.counts()
        counts["unphased_calls"] = int(site_counts["unphased"].sum())
        counts["haploid_calls"] = int(site_counts["haploid"].sum())
        counts.update(records.duplicates())
        hap_ids, hap_samples = haplotype_labels(self.sample_ids)
        obj = lambda key: np.asarray(self._meta[key], dtype=object)  # noqa: E731
        return HaplotypeMatrix(
            haplotypes=variant_major.T,
            chrom=obj("chrom"),
            positions=cat(self._meta["pos"], np.int64),
            variant_ids=obj("id"),
            ref=obj("ref"),
            alt=obj("alt"),
            sample_ids=self.sample_ids,
            haplotype_ids=hap_ids,
            haplotype_samples=hap_samples,
            filter_counts=counts,
            source=self.source,
            site_counts=site_counts,
            records=records,
            impute_seed=self.filters.impute_seed,
        )


class RowStore:
    """Variant-major rows of the kept sites, written in place when the record count is known.

    With ``capacity`` (an upper bound on the records, e.g. from the index), readers decode straight
    into one preallocated array and filtered rows are compacted in place, so the genotypes are
    written once; without it, blocks are kept and concatenated at the end.

    Args:
        width: Row length (2 n_samples).
        capacity: Rows to preallocate (0: grow by blocks).
        keep: ``False`` to keep nothing (count-only reads reuse one scratch block).
    """

    def __init__(self, width: int, capacity: int = 0, keep: bool = True) -> None:
        self.width, self.keep = width, keep
        self._buffer = np.empty((capacity, width), dtype=np.int8)
        self._used = 0
        self._blocks: list[np.ndarray] = []
        self._pending = np.empty((0, width), dtype=np.int8)
        self._in_buffer = False

    def allocate(self, n: int) -> np.ndarray:
        """Uncommitted rows for the next ``n`` candidate records."""
        self._in_buffer = self.keep and not self._blocks and self._used + n <= len(self._buffer)
        if self._in_buffer:
            self._pending = self._buffer[self._used : self._used + n]
        elif self.keep or len(self._pending) < n:
            self._pending = np.empty((n, self.width), dtype=np.int8)
        return self._pending[:n]

    def commit(self, kept: np.ndarray) -> None:
        """Keep the pending rows ``kept`` (sorted indices), dropping the others."""
        if not self.keep or kept.size == 0:
            return
        rows = self._pending if kept.size == len(self._pending) else self._pending[kept]
        if self._in_buffer:
            if rows is not self._pending:
                self._buffer[self._used : self._used + kept.size] = rows
            self._used += kept.size
        else:
            self._blocks.append(rows)

    def finish(self) -> np.ndarray:
        """All kept rows, shape (n_kept, width)."""
        if not self.keep:
            return np.empty((0, self.width), dtype=np.int8)
        if not self._blocks:
            return self._buffer[: self._used]
        total = self._used + sum(len(b) for b in self._blocks)
        out = np.empty((total, self.width), dtype=np.int8)
        out[: self._used] = self._buffer[: self._used]
        row = self._used
        self._buffer = self._buffer[:0]
        while self._blocks:  # copy block by block so peak memory stays near one copy
            block = self._blocks.pop(0)
            out[row : row + len(block)] = block
            row += len(block)
        return out


class RecordOrder:
    """Contig codes of records in file order, checking that the file is grouped and sorted.

    Args:
        source: File name for messages.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.contigs: dict[str, int] = {}
        self._last: tuple[int, int] = (-1, 0)

    def codes(self, chrom: list[str], positions: np.ndarray) -> np.ndarray:
        """Contig index of each record, int32, shape (n_records,).

        Raises:
            DataError: A contig's records are not contiguous, or positions decrease within one.
        """
        codes = np.empty(len(chrom), dtype=np.int32)
        previous_name = None
        code = -1
        for i, name in enumerate(chrom):
            if name != previous_name:
                known = self.contigs.get(name)
                if known is None:
                    known = self.contigs[name] = len(self.contigs)
                elif known != (self._last[0] if i == 0 else codes[i - 1]):
                    raise DataError(
                        f"{self.source}: variants of contig '{name}' are not contiguous in the "
                        "file; sort the VCF (e.g. bcftools sort) so each contig's records form "
                        "one block."
                    )
                code, previous_name = known, name
            codes[i] = code
        same = np.concatenate([[codes[0] == self._last[0]], codes[1:] == codes[:-1]])
        prev = np.concatenate([[self._last[1]], positions[:-1]])
        unsorted = np.flatnonzero(same & (positions < prev))
        if unsorted.size:
            i = int(unsorted[0])
            raise DataError(
                f"{self.source}: record {chrom[i]}:{positions[i]} comes after position {prev[i]} "
                "of the same contig; the file is not sorted. Sort it (e.g. bcftools sort) and "
                "index it again."
            )
        self._last = (int(codes[-1]), int(positions[-1]))
        return codes
