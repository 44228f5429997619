"""Decompressed text of a VCF: BGZF blocks, plain gzip or plain text, in line-aligned chunks.

BGZF (what ``bgzip`` writes) is a series of gzip members of at most 64 KiB each; they are inflated
with :mod:`zlib` on a background thread (zlib releases the GIL) while the caller parses the previous
chunk. Truncation is detected: a file that ends inside a block (or a gzip member) is an error, and a
BGZF file without its end-of-file marker is one too unless allowed (:func:`check_bgzf_eof`).
"""

from __future__ import annotations

import logging
import queue
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

from vae_genomics.common.errors import DataError

log = logging.getLogger(__name__)

_PIECE = 1 << 22  # compressed bytes read at a time
CHUNK = 1 << 23  # decompressed bytes per chunk (at least, unless the file is smaller)
_BGZF_MAGIC = b"\x1f\x8b\x08\x04"


def file_kind(path: Path) -> str:
    """``"bgzf"``, ``"gzip"``, ``"bcf"`` (BGZF-compressed or plain BCF) or ``"text"``."""
    with path.open("rb") as handle:
        head = handle.read(18)
    if head[:2] == b"\x1f\x8b":
        bgzf = len(head) >= 18 and head[:4] == _BGZF_MAGIC and head[12:14] == b"BC"
        first = b"".join(_inflate_blocks(path, limit=1)) if bgzf else b""
        if first.startswith(b"BCF"):
            return "bcf"
        return "bgzf" if bgzf else "gzip"
    return "bcf" if head.startswith(b"BCF") else "text"


#: The empty block that ends every BGZF file (SAM/BAM format specification, section 4.1.2).
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def check_bgzf_eof(path: Path, allow: bool = False) -> None:
    """Refuse a BGZF file that lacks its end-of-file marker (plain gzip and text pass).

    Most blocks end at a record boundary, so a file cut short between blocks decompresses without
    an error: only the missing marker shows that the rest of the cohort is gone.

    Raises:
        DataError: The marker is missing and ``allow`` is false (with ``allow``: a warning).
    """
    with path.open("rb") as handle:
        head = handle.read(18)
        if not (head[:4] == _BGZF_MAGIC and head[12:14] == b"BC"):
            return
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - len(BGZF_EOF)))
        if handle.read() == BGZF_EOF:
            return
    if allow:
        log.warning("%s: no BGZF end-of-file marker; the file may be truncated", path)
        return
    raise DataError(
        f"{path}: no BGZF end-of-file marker: the file is probably truncated (a download or copy "
        "cut short), and only its first part would be read. Fetch or re-create it and check its "
        "size or checksum; if you know it is complete, set data.allow_truncated: true."
    )


def _inflate_blocks(path: Path, limit: int | None = None) -> Iterator[bytes]:
    """Decompressed BGZF blocks in order; raises on a truncated or corrupt block."""
    with path.open("rb") as handle:
        buffer, offset, done, eof_marker = b"", 0, 0, False
        while True:
            available = len(buffer) - offset
            if available >= 18:
                if buffer[offset : offset + 4] != _BGZF_MAGIC or (
                    buffer[offset + 12 : offset + 14] != b"BC"
                ):
                    raise DataError(
                        f"{path}: no BGZF block starts at byte {handle.tell() - available}; the "
                        "file is corrupt or not bgzip-compressed. Re-create it with bgzip."
                    )
                size = struct.unpack_from("<H", buffer, offset + 16)[0] + 1
                if available >= size:
                    data = _inflate_block(path, buffer, offset, size)
                    offset += size
                    eof_marker = not data
                    if data:
                        yield data
                    done += 1
                    if limit is not None and done >= limit:
                        return
                    continue
            more = handle.read(_PIECE)
            if not more:
                if available:
                    raise truncated(path)
                if not eof_marker:  # refused up front unless allowed (check_bgzf_eof)
                    log.debug("%s: no BGZF end-of-file marker", path)
                return
            buffer, offset = buffer[offset:] + more, 0


def _inflate_block(path: Path, buffer: bytes, offset: int, size: int) -> bytes:
    try:
        data = zlib.decompress(memoryview(buffer)[offset + 18 : offset + size - 8], -15)
    except zlib.error as exc:
        raise DataError(
            f"{path}: a BGZF block is corrupt ({exc}). Re-download or re-create the file."
        ) from exc
    if len(data) != struct.unpack_from("<I", buffer, offset + size - 4)[0]:
        raise truncated(path)
    if zlib.crc32(data) != struct.unpack_from("<I", buffer, offset + size - 8)[0]:
        raise DataError(
            f"{path}: a BGZF block fails its CRC-32 check: the file is corrupt (damaged on disk "
            "or in transfer). Re-download or re-create it."
        )
    return data


def truncated(path: Path) -> DataError:
    """The error for a compressed file that ends inside a block."""
    return DataError(
        f"{path}: the compressed file is truncated (it ends inside a block). The download or copy "
        "was probably cut short: fetch or re-create the file and check its size or checksum."
    )


def _inflate_gzip(path: Path) -> Iterator[bytes]:
    """Decompressed pieces of a plain (multi-member) gzip file."""
    with path.open("rb") as handle:
        inflater, started = zlib.decompressobj(31), False
        while data := handle.read(_PIECE):
            while data:
                try:
                    out = inflater.decompress(data)
                except zlib.error as exc:
                    raise DataError(f"{path}: corrupt gzip data ({exc}).") from exc
                started = True
                if out:
                    yield out
                if inflater.eof:
                    data = inflater.unused_data
                    inflater, started = zlib.decompressobj(31), False
                else:
                    data = b""
        if started and not inflater.eof:
            raise truncated(path)


def _plain(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while piece := handle.read(CHUNK):
            yield piece


def _line_chunks(pieces: Iterator[bytes]) -> Iterator[tuple[bytes, int]]:
    """``(data, end)`` pairs: ``data[:end]`` holds complete lines (at least CHUNK bytes)."""
    parts: list[bytes] = []
    size = 0
    rest = b""
    for piece in pieces:
        parts.append(piece)
        size += len(piece)
        if size >= CHUNK:
            data = b"".join([rest, *parts])
            parts, size = [], 0
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            yield data, cut
            rest = data[cut:]
    data = b"".join([rest, *parts])
    if data:
        data = data if data.endswith(b"\n") else data + b"\n"
        yield data, len(data)


def _prefetch(chunks: Iterator[tuple[bytes, int]], depth: int = 2) -> Iterator[tuple[bytes, int]]:
    """Run ``chunks`` on a background thread, ``depth`` chunks ahead; errors are re-raised here."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in chunks:
                while not stop.is_set():
                    try:
                        slots.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(done)
        except BaseException as exc:  # handed to the consumer
            slots.put(exc)

    thread = threading.Thread(target=produce, name="vcf-inflate", daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                slots.get_nowait()
            except queue.Empty:
                thread.join(0.05)


def text_chunks(path: Path, kind: str, background: bool = True) -> Iterator[tuple[bytes, int]]:
    """Line-aligned chunks of the decompressed text of ``path`` (see :func:`_line_chunks`).

    Args:
        path: The file.
        kind: ``"bgzf"``, ``"gzip"`` or ``"text"`` (see :func:`file_kind`).
        background: Decompress on a background thread.
    """
    pieces = {"bgzf": _inflate_blocks, "gzip": _inflate_gzip, "text": _plain}[kind](path)
    chunks = _line_chunks(pieces)
    return _prefetch(chunks) if background else chunks
