"""Fast reader for VCF text (plain, gzip or BGZF), vectorised with numpy.

Why not cyvcf2 here: htslib parses every FORMAT field of every sample into its own binary record
before cyvcf2 hands one record at a time to Python; on a 5,000-haplotype VCF.gz merely iterating
the records that way takes about 40% of what ``allel.read_vcf`` takes, and decoding the genotypes
brings it to about 55% (BENCHMARKS.md). Phased cohorts are mostly written in one fixed layout:
``FORMAT`` is ``GT`` and each call is ``a|b`` with one-digit alleles, i.e. four bytes per sample.
This reader

1. inflates BGZF blocks with :mod:`zlib` on a background thread (:mod:`~vae_genomics.data.inflate`;
   plain gzip and plain text are streamed too);
2. splits the first nine columns of each record in Python (a few microseconds per record) and
   classifies the record by REF/ALT, so skipped records never have their genotypes parsed;
3. copies the sample columns of candidate records that have exactly that layout into a
   ``(records, 4 n_samples)`` byte block and decodes the block at once: a ``uint64`` view checks
   the separators and tabs of two calls per comparison, and bytes 0 and 2 of each call, minus
   ``'0'``, are the int8 alleles, written straight into the output rows;
4. parses any other record (haploid or mixed-ploidy calls, more FORMAT keys, odd spacing) with a
   per-record vectorised parser, which also produces the exact error messages.

Steps 3 and 4 live in :mod:`~vae_genomics.data.textcalls`.

Records come out as :class:`~vae_genomics.data.sites.Batch` es, one per decompressed chunk.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vae_genomics.common.errors import DataError
from vae_genomics.data.header import VcfHeader, parse_header
from vae_genomics.data.inflate import text_chunks
from vae_genomics.data.sites import CANDIDATE, Batch, classify
from vae_genomics.data.textcalls import CallDecoder

Progress = Callable[[int], None]
Allocate = Callable[[int], np.ndarray]


@dataclass
class _Records:
    """The records of one chunk, per record, and where the candidate records' calls are.

    ``fixed`` holds ``(record, offset of its calls)`` of candidates in the fixed ``a|b`` layout,
    ``general`` ``(record, offset, line end, FORMAT)`` of the other candidates.
    """

    chrom: list[str] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    alts: list[str] = field(default_factory=list)
    kinds: list[int] = field(default_factory=list)
    fixed: list[tuple[int, int]] = field(default_factory=list)
    general: list[tuple[int, int, int, bytes]] = field(default_factory=list)


def _no_gt(records: _Records) -> np.ndarray | None:
    """Flags, per candidate record, of those whose FORMAT has no GT (their calls read as missing).

    Args:
        records: The chunk's records.

    Returns:
        Bool shape (n_candidates,), or ``None`` when every candidate has GT.
    """
    lacking = {r for r, _, _, fmt in records.general if fmt.split(b":", 1)[0] != b"GT"}
    if not lacking:
        return None
    candidates = sorted([r for r, _ in records.fixed] + [g[0] for g in records.general])
    return np.array([r in lacking for r in candidates], dtype=bool)


class TextVcfReader:
    """Streaming reader of one VCF text file.

    Args:
        path: ``.vcf`` or ``.vcf.gz`` (BGZF or gzip).
        kind: Result of :func:`~vae_genomics.data.inflate.file_kind`.
    """

    def __init__(self, path: Path, kind: str) -> None:
        self.path = path
        self._chunks = text_chunks(path, kind)
        self.header, self._first = self._read_header()
        self._decoder = CallDecoder(len(self.header.samples), path)

    def _read_header(self) -> tuple[VcfHeader, tuple[bytes, int]]:
        text, end = b"", 0
        for data, limit in self._chunks:
            text += data[:limit]
            end = 0
            while end < len(text) and text.startswith(b"#", end):
                nl = text.find(b"\n", end)
                if text.startswith(b"#CHROM", end):
                    header = parse_header(text[:nl].decode("utf-8", "replace"), str(self.path))
                    return header, (text[nl + 1 :], len(text) - nl - 1)
                end = nl + 1
            if end < len(text):  # a record line before any #CHROM line
                break
        if not text.strip():
            raise DataError(
                f"{self.path}: the file is empty (no header). Expected a VCF, bgzipped VCF or BCF."
            )
        head = text[: max(end, text.find(b"\n") + 1)].decode("utf-8", "replace")
        parse_header(head, str(self.path), complete=False)
        raise AssertionError("unreachable: parse_header raises for an incomplete header")

    def batches(
        self,
        columns: np.ndarray | None,
        region: tuple[str, int, int] | None,
        allocate: Allocate,
        progress: Progress | None = None,
    ) -> Iterator[Batch]:
        """Records as batches, one per decompressed chunk.

        Args:
            columns: Sample columns to keep (sorted indices), or ``None`` for all.
            region: ``(contig, start, end)``: keep records with ``start <= POS <= end`` only.
            allocate: Returns the int8 rows, shape (n, 2 n_kept_samples), that the candidate
                records' alleles are written to.
            progress: Called with the number of decompressed bytes after each chunk.
        """
        line = self.header.n_lines
        self._region_seen = self._region_done = False
        for data, limit in itertools.chain([self._first], self._chunks):
            if limit:
                batch, n_lines = self._parse_chunk(data, limit, line, columns, region, allocate)
                line += n_lines
                if batch is not None:
                    yield batch
            if progress is not None:
                progress(limit)
            if self._region_done:  # records are grouped and sorted: nothing more can match
                return

    def _parse_chunk(
        self,
        chunk: bytes,
        size: int,
        line0: int,
        columns: np.ndarray | None,
        region: tuple[str, int, int] | None,
        allocate: Allocate,
    ) -> tuple[Batch | None, int]:
        """One chunk's records (``chunk[:size]``, whole lines) as a batch, and its line count.

        Args:
            chunk: Decompressed text, whole lines.
            size: Bytes of ``chunk`` that hold records.
            line0: Number of the line before the chunk's first (for messages).
            columns: Sample columns to keep (sorted indices), or ``None`` for all.
            region: ``(contig, start, end)`` to keep, or ``None`` for every record.
            allocate: Returns the int8 rows the candidate records' alleles are written to.

        Returns:
            The batch (``None`` when the chunk kept no record) and the number of lines read.
        """
        records, n_lines = self._scan(chunk, size, line0, region)
        if not records.kinds:
            return None, n_lines
        out, unphased, clean = self._genotypes(chunk, size, records, columns, allocate)
        batch = Batch(
            chrom=records.chrom, positions=np.asarray(records.positions, dtype=np.int64),
            ids=records.ids, ref=records.refs, alt=records.alts,
            kind=np.asarray(records.kinds, dtype=np.uint8), genotypes=out,
            unphased=unphased, clean=clean, no_gt=_no_gt(records),
        )  # fmt: skip
        return batch, n_lines

    def _scan(
        self, chunk: bytes, size: int, line0: int, region: tuple[str, int, int] | None
    ) -> tuple[_Records, int]:
        """Split the records of ``chunk[:size]``, keep those in ``region``, locate their calls.

        Args:
            chunk: Decompressed text, whole lines.
            size: Bytes of ``chunk`` that hold records.
            line0: Number of the line before the chunk's first (for messages).
            region: ``(contig, start, end)`` to keep, or ``None`` for every record.

        Returns:
            The records kept and the number of lines read.
        """
        width = 4 * len(self.header.samples)
        records = _Records()
        chrom, positions, ids = records.chrom, records.positions, records.ids
        refs, alts, kinds = records.refs, records.alts, records.kinds
        fixed, general = records.fixed, records.general
        find = chunk.find
        last_chrom_b, last_chrom = b"", ""
        start = n_lines = 0
        try:
            while start < size:
                n_lines += 1
                if chunk[start] in (10, 13):  # a blank line (or a CR-LF one)
                    start = find(b"\n", start) + 1
                    continue
                tab = start
                for _ in range(9):
                    tab = find(b"\t", tab, size) + 1
                    if tab == 0:
                        break
                if tab == 0 or find(b"\n", start, tab) != -1:
                    self._columns_error(chunk[start : find(b"\n", start)], line0 + n_lines)
                fields = chunk[start : tab - 1].split(b"\t")
                end = tab + width - 1
                if end >= size or chunk[end] != 10 or find(b"\n", tab, end) != -1:
                    end = find(b"\n", tab)
                if fields[0] != last_chrom_b:
                    last_chrom_b, last_chrom = fields[0], fields[0].decode()
                try:
                    pos = int(fields[1])
                except ValueError:
                    raise self._pos_error(fields[1], line0 + n_lines) from None
                start = end + 1
                if region is not None and (
                    last_chrom != region[0] or pos < region[1] or pos > region[2]
                ):
                    if self._past_region(last_chrom, pos, region):
                        break
                    continue
                if region is not None:
                    self._region_seen = True
                ref, alt = fields[3].decode(), fields[4].decode()
                kind = classify(ref, alt)
                if kind == CANDIDATE:
                    if end - tab == width - 1 and fields[8] == b"GT":
                        fixed.append((len(kinds), tab))
                    else:
                        general.append((len(kinds), tab, end, fields[8]))
                chrom.append(last_chrom)
                positions.append(pos)
                ids.append(fields[2].decode())
                refs.append(ref)
                alts.append(alt)
                kinds.append(kind)
        except UnicodeDecodeError as exc:
            raise self._encoding_error(exc, line0 + n_lines) from None
        return records, n_lines

    def _past_region(self, chrom: str, pos: int, region: tuple[str, int, int]) -> bool:
        """Note a record outside ``region``; whether no later record can be inside it.

        Args:
            chrom: The record's contig.
            pos: The record's position.
            region: ``(contig, start, end)`` being read.

        Returns:
            True once the region has been passed (records are grouped by contig and sorted).
        """
        if chrom == region[0]:
            self._region_seen = True
            self._region_done = pos > region[2]
        elif self._region_seen:
            self._region_done = True
        return self._region_done

    def _genotypes(
        self,
        chunk: bytes,
        size: int,
        records: _Records,
        columns: np.ndarray | None,
        allocate: Allocate,
    ) -> tuple[np.ndarray, np.ndarray | None, bool]:
        """Decode the candidate records' calls, keeping the ``columns`` samples.

        Args:
            chunk: Decompressed text, whole lines.
            size: Bytes of ``chunk`` that hold records.
            records: The chunk's records, from :meth:`_scan`.
            columns: Sample columns to keep (sorted indices), or ``None`` for all.
            allocate: Returns the int8 rows the alleles are written to.

        Returns:
            ``(alleles, unphased flags or None, whether all alleles are 0/1)``, one row per
            candidate record.
        """
        n = len(self.header.samples)
        n_cand = len(records.fixed) + len(records.general)
        subset = columns is not None and len(columns) < n
        out = allocate(n_cand) if not subset else np.empty((n_cand, 2 * n), dtype=np.int8)
        arr = np.frombuffer(chunk, dtype=np.uint8, count=size)
        unphased, clean = self._decoder.decode(
            arr, records.fixed, records.general, records.chrom, records.positions, out
        )
        if subset:
            haplotype_columns = np.stack([2 * columns, 2 * columns + 1], axis=1).reshape(-1)
            selected = allocate(n_cand)
            np.take(out, haplotype_columns, axis=1, out=selected)
            out = selected
            unphased = None if unphased is None else unphased[:, columns]
        return out, unphased, clean

    def _pos_error(self, value: bytes, number: int) -> DataError:
        """The error for a POS column that is not a whole number.

        Args:
            value: The POS column.
            number: Line number.

        Returns:
            The error to raise.
        """
        return DataError(
            f"{self.path}: line {number}: POS {value[:20]!r} is not a whole "
            "number; the file is damaged."
        )

    def _encoding_error(self, exc: UnicodeDecodeError, number: int) -> DataError:
        """The error for a line that is not UTF-8 text.

        Args:
            exc: The decoding error.
            number: Line number.

        Returns:
            The error to raise.
        """
        return DataError(
            f"{self.path}: line {number} holds bytes that are not UTF-8 text "
            f"({exc.object[max(0, exc.start - 10) : exc.end + 10]!r}); the file is damaged or "
            "in another encoding. Check it with `bcftools view` or re-export it."
        )

    def _columns_error(self, line: bytes, number: int) -> None:
        n_columns = line.count(b"\t") + 1
        expected = 9 + len(self.header.samples)
        what = " ".join(part.decode("utf-8", "replace") for part in line.split(b"\t")[:2])
        raise DataError(
            f"{self.path}: line {number} (record '{what[:40]}') has {n_columns} tab-separated "
            f"columns, but the header has {expected} (9 fixed + {expected - 9} samples). The file "
            "is damaged or was edited; check it with `bcftools view`."
        )
