"""Decoding of the sample columns of VCF text records into int8 allele rows.

:class:`CallDecoder` decodes the candidate records of a chunk that
:class:`~vae_genomics.data.textvcf.TextVcfReader` split: those whose calls are all in the fixed
``a|b`` layout a block at a time, any other (haploid or mixed-ploidy calls, more FORMAT keys, odd
spacing) with the per-record parser :func:`parse_calls`, which also produces the exact error
messages.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from vae_genomics.common.errors import DataError
from vae_genomics.data.matrix import ABSENT, MISSING

_ALLELE = np.full(256, 127, dtype=np.int8)  # byte -> allele; 127 marks an invalid byte
_ALLELE[ord("0")], _ALLELE[ord("1")], _ALLELE[ord(".")] = 0, 1, MISSING
_CALL = re.compile(rb"^(\d+|\.)(?:([|/])(\d+|\.))*$")
# Bytes 1 and 3 of each 4-byte call "a|b\t" (little-endian), two calls per uint64.
_SEPARATORS = np.uint64(0xFF00FF00FF00FF00)
_PHASED_PAIR = np.uint64(0x09007C0009007C00)
_PHASED_LAST = np.uint64(0x0A007C0009007C00)
_DOT, _MISSING_U8 = ord(".") - ord("0") + 256, MISSING + 256  # as uint8, after subtracting '0'


class CallDecoder:
    """Decodes the sample columns of a chunk's candidate records into allele rows.

    Records in the fixed ``a|b`` layout are decoded a block at a time; the others, and fixed-layout
    records whose block check fails, by :func:`parse_calls`.

    Args:
        n: Number of samples the header declares.
        path: The VCF (for messages).
    """

    def __init__(self, n: int, path: Path) -> None:
        self.n = n
        self.path = path
        self._scratch = np.zeros((0, 0), dtype=np.uint8)

    def decode(
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
        n = self.n
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
