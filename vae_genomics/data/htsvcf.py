"""Records through htslib (cyvcf2): BCF files and indexed region queries.

Genotypes are taken as htslib's raw GT encoding (``Variant.format("GT", int)``: ``(allele + 1) << 1``
plus a phase bit, ``0``/``1`` for a missing allele, ``INT32_MIN + 1`` for the padding of a haploid
call) and decoded a batch at a time with numpy, into the same
:class:`~vae_genomics.data.sites.Batch` es the text reader produces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vae_genomics.common.errors import DataError
from vae_genomics.data.header import VcfHeader, parse_header
from vae_genomics.data.matrix import ABSENT
from vae_genomics.data.sites import CANDIDATE, Batch, classify

_VECTOR_END = -(2**31) + 1
_BATCH = 1024


def open_vcf(path: Path, samples: list[str] | None = None) -> Any:
    """A cyvcf2 reader; htslib failures become a :class:`DataError`."""
    from cyvcf2 import VCF

    try:
        return VCF(str(path), gts012=False, lazy=True, samples=samples)
    except Exception as exc:  # cyvcf2 raises plain Exception/OSError for unreadable files
        raise DataError(
            f"{path}: cannot be read as VCF/BCF ({exc}). Check that it is a complete, "
            "bgzip-compressed (not plain gzip) VCF or a BCF with a '#CHROM' header line."
        ) from exc


def read_header(path: Path) -> tuple[VcfHeader, list[str]]:
    """The checked header and the contigs of the index (empty without an index)."""
    vcf = open_vcf(path)
    try:
        header = parse_header(vcf.raw_header, str(path))
        try:
            indexed = list(vcf.seqnames)
        except Exception:  # no index
            indexed = []
        return header, indexed
    finally:
        vcf.close()


def htslib_batches(
    path: Path,
    header: VcfHeader,
    columns: np.ndarray | None = None,
    region: tuple[str, int, int] | None = None,
    allocate: Callable[[int], np.ndarray] | None = None,
    progress: Callable[[int], None] | None = None,
    indexed: bool = True,
) -> Iterator[Batch]:
    """Records of ``path`` (a region through the index when ``region`` is given) as batches.

    Args:
        path: VCF.gz or BCF.
        header: Its parsed header.
        columns: Sample columns to keep (sorted indices), or ``None`` for all.
        region: ``(contig, start, end)``, 1-based inclusive; records with POS in the range.
        allocate: Returns the rows candidate alleles are written to (default: new arrays).
        progress: Called with the number of records after each batch.
        indexed: Whether ``path`` has an index; without one a region is found by a full scan.
    """
    subset = None
    if columns is not None and len(columns) < len(header.samples):
        subset = [str(s) for s in header.samples[columns]]
    n = len(subset) if subset is not None else len(header.samples)
    vcf = open_vcf(path, subset)
    query = region is not None and indexed
    records = vcf(f"{region[0]}:{region[1]}-{region[2]}") if query else vcf
    pending = _Pending(n)
    count = 0
    try:
        for rec in records:
            count += 1
            if region is not None and not _inside(rec.CHROM, rec.POS, region, query):
                continue
            pending.add(rec, path)
            if pending.full():
                yield pending.flush(path, allocate)
                if progress is not None:
                    progress(_BATCH)
        if pending.size():
            yield pending.flush(path, allocate)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(
            f"{path}: reading stopped after {count} records: {exc}. The file may be truncated "
            "or corrupt; re-download or re-create it."
        ) from exc
    finally:
        vcf.close()


def _inside(chrom: str, pos: int, region: tuple[str, int, int], queried: bool) -> bool:
    """Whether a record starts in the region (a query also returns records overlapping it)."""
    contig, first, last = region
    return first <= pos and (queried or (chrom == contig and pos <= last))


class _Pending:
    """Records collected for one batch."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.raw = np.empty((_BATCH, n, 2), dtype=np.int32)
        self._reset()

    def _reset(self) -> None:
        self.meta: dict[str, list] = {k: [] for k in ("chrom", "pos", "id", "ref", "alt", "kind")}
        self.n_cand = 0
        self.no_gt: list[int] = []  # candidates whose FORMAT has no GT

    def size(self) -> int:
        return len(self.meta["pos"])

    def full(self) -> bool:
        return self.size() >= _BATCH

    def add(self, rec: Any, path: Path) -> None:
        ref, alt = rec.REF, ",".join(rec.ALT) or "."
        kind = classify(ref, alt)
        for key, value in zip(
            self.meta, (rec.CHROM, rec.POS, rec.ID or ".", ref, alt, kind), strict=True
        ):
            self.meta[key].append(value)
        if kind != CANDIDATE:
            return
        gt = rec.format("GT", int)
        row = self.raw[self.n_cand]
        if gt is None:  # no GT in this record's FORMAT: every call missing
            row[:, 0], row[:, 1] = 0, _VECTOR_END
            self.no_gt.append(self.n_cand)
        else:
            if gt.shape[1] > 2:
                extra = (gt[:, 2:] != _VECTOR_END).any(axis=1)
                if extra.any():
                    raise DataError(
                        f"{path}: record {rec.CHROM}:{rec.POS} has a call with more than two "
                        f"alleles in sample column {int(np.argmax(extra)) + 1}. Only haploid and "
                        "diploid calls such as '0', '1|0' or '0/1' are supported."
                    )
            row[:, : min(2, gt.shape[1])] = gt[:, :2]
            if gt.shape[1] == 1:
                row[:, 1] = _VECTOR_END
        self.n_cand += 1

    def flush(self, path: Path, allocate: Callable[[int], np.ndarray] | None) -> Batch:
        raw = self.raw[: self.n_cand]
        absent = raw == _VECTOR_END
        alleles = (raw >> 1) - 1
        if alleles.size and alleles.max() > 1:
            rec_i, sample = np.argwhere((alleles > 1).any(axis=2))[0]
            rec = np.flatnonzero(np.asarray(self.meta["kind"]) == CANDIDATE)[rec_i]
            raise DataError(
                f"{path}: record {self.meta['chrom'][rec]}:{self.meta['pos'][rec]} has allele "
                f"index {int(alleles[rec_i, sample].max())} in sample column {sample + 1}, but "
                "the record has one ALT allele. The file is damaged."
            )
        alleles[absent] = ABSENT
        genotypes = (
            allocate(self.n_cand) if allocate else np.empty((self.n_cand, 2 * self.n), np.int8)
        )
        genotypes[:] = alleles.reshape(self.n_cand, 2 * self.n)
        second = raw[:, :, 1]
        slash = ~absent[:, :, 1] & ((second & 1) == 0)
        batch = Batch(
            chrom=self.meta["chrom"],
            positions=np.asarray(self.meta["pos"], dtype=np.int64),
            ids=self.meta["id"],
            ref=self.meta["ref"],
            alt=self.meta["alt"],
            kind=np.asarray(self.meta["kind"], dtype=np.uint8),
            genotypes=genotypes,
            unphased=slash if slash.any() else None,
            clean=bool(genotypes.size == 0 or (genotypes.view(np.uint8) <= 1).all()),
            no_gt=np.isin(np.arange(self.n_cand), self.no_gt) if self.no_gt else None,
        )
        self._reset()
        return batch
