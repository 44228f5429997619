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

Records come out as :class:`~vae_genomics.data.sites.Batch` es, one per decompressed chunk.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from vae_genomics.common.errors import DataError
from vae_genomics.data.header import VcfHeader, parse_header
from vae_genomics.data.inflate import text_chunks
from vae_genomics.data.matrix import ABSENT, MISSING
from vae_genomics.data.sites import CANDIDATE, Batch, classify

_ALLELE = np.full(256, 127, dtype=np.int8)  # byte -> allele; 127 marks an invalid byte
_ALLELE[ord("0")], _ALLELE[ord("1")], _ALLELE[ord(".")] = 0, 1, MISSING
_CALL = re.compile(rb"^(\d+|\.)(?:([|/])(\d+|\.))*$")
# Bytes 1 and 3 of each 4-byte call "a|b\t" (little-endian), two calls per uint64.
_SEPARATORS = np.uint64(0xFF00FF00FF00FF00)
_PHASED_PAIR = np.uint64(0x09007C0009007C00)
_PHASED_LAST = np.uint64(0x0A007C0009007C00)
_DOT, _MISSING_U8 = ord(".") - ord("0") + 256, MISSING + 256  # as uint8, after subtracting '0'

Progress = Callable[[int], None]
Allocate = Callable[[int], np.ndarray]


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
        self._scratch = np.zeros((0, 0), dtype=np.uint8)

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
        """One chunk's records (``chunk[:size]``, whole lines) as a batch, and its line count."""
        n = len(self.header.samples)
        width = 4 * n
        chrom: list[str] = []
        positions: list[int] = []
        ids: list[str] = []
        refs: list[str] = []
        alts: list[str] = []
        kinds: list[int] = []
        fixed: list[tuple[int, int]] = []
        general: list[tuple[int, int, int, bytes]] = []
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
                    raise DataError(
                        f"{self.path}: line {line0 + n_lines}: POS {fields[1][:20]!r} is not a whole "
                        "number; the file is damaged."
                    ) from None
                start = end + 1
                if region is not None and (
                    last_chrom != region[0] or pos < region[1] or pos > region[2]
                ):
                    if last_chrom == region[0]:
                        self._region_seen = True
                        self._region_done = pos > region[2]
                    elif self._region_seen:
                        self._region_done = True
                    if self._region_done:
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
            raise DataError(
                f"{self.path}: line {line0 + n_lines} holds bytes that are not UTF-8 text "
                f"({exc.object[max(0, exc.start - 10) : exc.end + 10]!r}); the file is damaged or "
                "in another encoding. Check it with `bcftools view` or re-export it."
            ) from None
        if not kinds:
            return None, n_lines
        n_cand = len(fixed) + len(general)
        subset = columns is not None and len(columns) < n
        out = allocate(n_cand) if not subset else np.empty((n_cand, 2 * n), dtype=np.int8)
        arr = np.frombuffer(chunk, dtype=np.uint8, count=size)
        unphased, clean = self._decode(arr, fixed, general, chrom, positions, out)
        if subset:
            haplotype_columns = np.stack([2 * columns, 2 * columns + 1], axis=1).reshape(-1)
            selected = allocate(n_cand)
            np.take(out, haplotype_columns, axis=1, out=selected)
            out = selected
            unphased = None if unphased is None else unphased[:, columns]
        lacking = {r for r, _, _, fmt in general if fmt.split(b":", 1)[0] != b"GT"}
        no_gt = None
        if lacking:  # records whose FORMAT has no GT (parse_calls reads their calls as missing)
            candidates = sorted([r for r, _ in fixed] + [g[0] for g in general])
            no_gt = np.array([r in lacking for r in candidates], dtype=bool)
        batch = Batch(
            chrom=chrom, positions=np.asarray(positions, dtype=np.int64), ids=ids, ref=refs,
            alt=alts, kind=np.asarray(kinds, dtype=np.uint8), genotypes=out,
            unphased=unphased, clean=clean, no_gt=no_gt,
        )  # fmt: skip
        return batch, n_lines

    def _decode(
        self,
        arr: np.ndarray,
        fixed: list[tuple[int, int]],
        general: list[tuple[int, int, int, bytes]],
        chrom: list[str],
        positions: list[int],
        out: np.ndarray,
    ) -> tuple[np.ndarray | None, bool]:
        """Write the candidates' alleles to ``out``, shape (n_candidates, 2n).

        Args:
            arr: The chunk as uint8.
            fixed: ``(record, offset of its calls)`` of fixed-layout records.
            general: ``(record, offset, line end, FORMAT)`` of the other candidate records.
            chrom, positions: Per record (for messages).
            out: Destination rows, in record order.

        Returns:
            Unphased flags, shape (n_candidates, n) or ``None``, and whether all alleles are 0/1.
        """
        n = len(self.header.samples)
        width = 4 * n
        records = sorted([r for r, _ in fixed] + [g[0] for g in general])
        row_of = {record: i for i, record in enumerate(records)}
        unphased = None
        clean = not general
        redo: list[tuple[int, int, int, bytes]] = []
        if fixed:
            m = len(fixed)
            if self._scratch.shape[0] < m or self._scratch.shape[1] != width:
                self._scratch = np.empty((max(m, 2 * self._scratch.shape[0]), width), np.uint8)
            block = self._scratch[:m]
            for i, (_, at) in enumerate(fixed):
                block[i] = arr[at : at + width]
            rows = np.fromiter((row_of[r] for r, _ in fixed), dtype=np.int64, count=m)
            contiguous = not general  # then the fixed rows are exactly out[:m]
            target = out[:m] if contiguous else np.empty((m, 2 * n), dtype=np.int8)
            values = target.view(np.uint8)
            np.subtract(block[:, 0::2], ord("0"), out=values)  # bytes 0 and 2 of each call
            bad = np.zeros(m, dtype=bool)
            if values.max(initial=0) > 1:
                clean = False
                bad |= ((values > 1) & (values != _DOT)).any(axis=1)
                values[values == _DOT] = _MISSING_U8
            if not _layout_is_phased(block, n):
                sep, ends = block[:, 1::4], block[:, 3::4]
                ok = ((sep == ord("|")) | (sep == ord("/"))) & (ends == ord("\t"))
                ok[:, -1] = ((sep[:, -1] == ord("|")) | (sep[:, -1] == ord("/"))) & (
                    ends[:, -1] == ord("\n")
                )
                bad |= ~ok.all(axis=1)
                slash = sep == ord("/")
                if slash.any():
                    unphased = np.zeros((len(records), n), dtype=bool)
                    unphased[rows] = slash
            if not contiguous:
                out[rows] = target
            redo = [
                (fixed[i][0], fixed[i][1], fixed[i][1] + width - 1, b"GT")
                for i in np.flatnonzero(bad)
            ]
        for record, tab, end, fmt in [*general, *redo]:
            where = f"record {chrom[record]}:{positions[record]}"
            alleles, slash = parse_calls(arr[tab:end], fmt, n, self.path, where)
            out[row_of[record]] = alleles
            clean = False
            if slash is not None:
                if unphased is None:
                    unphased = np.zeros((len(records), n), dtype=bool)
                unphased[row_of[record]] = slash
            elif unphased is not None:
                unphased[row_of[record]] = False
        return unphased, clean

    def _columns_error(self, line: bytes, number: int) -> None:
        n_columns = line.count(b"\t") + 1
        expected = 9 + len(self.header.samples)
        what = " ".join(part.decode("utf-8", "replace") for part in line.split(b"\t")[:2])
        raise DataError(
            f"{self.path}: line {number} (record '{what[:40]}') has {n_columns} tab-separated "
            f"columns, but the header has {expected} (9 fixed + {expected - 9} samples). The file "
            "is damaged or was edited; check it with `bcftools view`."
        )


def _layout_is_phased(block: np.ndarray, n: int) -> bool:
    """True when every call in ``block`` (rows of 4n bytes) is ``a|b`` followed by a tab/newline."""
    if n % 2:
        words = block.view(np.uint32) & np.uint32(0xFF00FF00)
        return bool((words[:, :-1] == 0x09007C00).all() and (words[:, -1] == 0x0A007C00).all())
    words = block.view(np.uint64) & _SEPARATORS
    return bool((words[:, :-1] == _PHASED_PAIR).all() and (words[:, -1] == _PHASED_LAST).all())


def parse_calls(
    blk: np.ndarray, fmt: bytes, n: int, path: Path, where: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """Decode the sample columns of one biallelic record.

    Args:
        blk: The bytes after the FORMAT column up to the line end, uint8.
        fmt: The FORMAT column.
        n: Number of samples the header declares.
        path, where: For messages.

    Returns:
        ``(alleles, unphased)``: int8 shape (2n,) with 0/1/MISSING/ABSENT, and bool shape (n,)
        flags of calls written with ``/`` (``None`` if none).
    """
    if blk.size and blk[-1] == 13:  # CRLF line ends
        blk = blk[:-1]
    tabs = np.flatnonzero(blk == 9)
    if len(tabs) != n - 1:
        raise DataError(
            f"{path}: {where} has {len(tabs) + 10} tab-separated columns, but the header has "
            f"{n + 9} (9 fixed + {n} samples). The file is damaged or was edited; check it with "
            "`bcftools view`."
        )
    out = np.full((n, 2), ABSENT, dtype=np.int8)
    keys = fmt.split(b":")
    if keys[0] != b"GT":
        if b"GT" in keys:
            raise DataError(f"{path}: {where}: GT is not the first FORMAT key ({fmt.decode()}).")
        out[:, 0] = MISSING  # no GT in this record: every call is missing
        return out.reshape(-1), None
    starts = np.concatenate([[0], tabs + 1])
    ends = np.concatenate([tabs, [blk.size]])
    if len(keys) > 1:
        colons = np.flatnonzero(blk == 58)
        nxt = np.searchsorted(colons, starts)
        cut = np.where(nxt < colons.size, colons[np.minimum(nxt, colons.size - 1)], blk.size)
        ends = np.minimum(ends, cut)
    length = ends - starts
    # an empty last column starts at blk.size: clip (its length 0 sends it to _parse_one)
    first = _ALLELE[blk[np.minimum(starts, blk.size - 1)]] if blk.size else np.zeros(n, np.int8)
    haploid = length == 1
    out[haploid, 0] = first[haploid]
    diploid = np.flatnonzero(length == 3)
    sep = blk[starts[diploid] + 1]
    out[diploid, 0] = first[diploid]
    out[diploid, 1] = _ALLELE[blk[starts[diploid] + 2]]
    bad = np.zeros(n, dtype=bool)
    bad[diploid] = (sep != ord("|")) & (sep != ord("/"))
    bad |= ~(haploid | (length == 3))
    bad |= (out == 127).any(axis=1)
    unphased = np.zeros(n, dtype=bool)
    unphased[diploid] = sep == ord("/")
    for s in np.flatnonzero(bad):
        out[s], unphased[s] = _parse_one(bytes(blk[starts[s] : ends[s]]), path, where, s)
    return out.reshape(-1), unphased if unphased.any() else None


def _parse_one(text: bytes, path: Path, where: str, sample: int) -> tuple[np.ndarray, bool]:
    """Alleles and the unphased flag of one call in an unusual layout (or the error it deserves)."""
    match = _CALL.match(text)
    if not text or text == b".":
        return np.array([MISSING, ABSENT], dtype=np.int8), False
    parts = re.split(rb"[|/]", text) if match else []
    if not match or len(parts) > 2:
        problem = (
            "a call with more than two alleles" if match else f"the malformed call {text[:20]!r}"
        )
        raise DataError(
            f"{path}: {where} has {problem} in sample column {sample + 1}. Only haploid and "
            "diploid calls such as '0', '1|0' or '0/1' are supported."
        )
    alleles = [MISSING if p == b"." else int(p) for p in parts]
    if max(alleles) > 1:
        raise DataError(
            f"{path}: {where} has allele index {max(alleles)} in sample column {sample + 1}, "
            "but the record has one ALT allele. The file is damaged."
        )
    values = np.array(alleles + [ABSENT] * (2 - len(alleles)), dtype=np.int8)
    return values, len(parts) == 2 and b"/" in text
