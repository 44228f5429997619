"""BGZF compression (the blocked gzip of htslib, SAM/BAM specification §4.1) on a thread pool.

A BGZF file is a series of gzip members of at most 64 KiB each, with a ``BC`` extra field holding
the member's size, and an empty end-of-file member; tabix and every htslib reader need it. Blocks
are independent, so they are deflated in parallel (``zlib`` releases the GIL), a bounded batch at a
time so that memory does not grow with the file.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

#: Uncompressed bytes per block (htslib's ``BGZF_BLOCK_SIZE``, which leaves room for the header).
BLOCK = 0xFF00
#: The empty member that ends every BGZF file.
EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
#: Deflate level of the blocks. On 30.5 MB of the 1000 Genomes cohort's genotype text, level 1
#: deflated 382 MB/s per thread to 3.5% of the text, level 6 (htslib's default) 72 MB/s to 2.0%:
#: files 1.7 times larger, written 5 times faster, which a chromosome of 100,000 synthetic
#: haplotypes (16 GB of text) needs (BENCHMARKS.md, "Chromosome-scale generation").
LEVEL = 1


def bgzf_block(data: bytes, level: int = LEVEL) -> bytes:
    """One BGZF block (a gzip member with the BC extra field) holding ``data`` (<= 65,280 bytes)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    payload = compressor.compress(data) + compressor.flush()
    if len(payload) > 65_536 - 26:  # incompressible: stored
        compressor = zlib.compressobj(0, zlib.DEFLATED, -15)
        payload = compressor.compress(data) + compressor.flush()
    header = struct.pack("<4BI2BH2BHH", 31, 139, 8, 4, 0, 0, 255, 6, 66, 67, 2, len(payload) + 25)
    return header + payload + struct.pack("<2I", zlib.crc32(data), len(data))


def write_bgzf_stream(
    chunks: Iterable[bytes], out: BinaryIO, threads: int = 2, level: int = LEVEL
) -> None:
    """Compress a stream of byte chunks into BGZF blocks written to ``out`` (then the EOF block).

    Args:
        chunks: The uncompressed bytes, in any pieces.
        out: An open binary file.
        threads: Blocks deflated at once.
        level: Deflate level (0-9).
    """
    buffer = bytearray()
    batch = BLOCK * 4 * max(1, threads)  # what is held before a batch is compressed
    with ThreadPoolExecutor(max(1, threads)) as pool:
        for chunk in chunks:
            buffer += chunk
            if len(buffer) >= batch:
                cut = len(buffer) // BLOCK * BLOCK
                blocks = [bytes(buffer[i : i + BLOCK]) for i in range(0, cut, BLOCK)]
                del buffer[:cut]
                for block in pool.map(lambda b: bgzf_block(b, level), blocks):
                    out.write(block)
        blocks = [bytes(buffer[i : i + BLOCK]) for i in range(0, len(buffer), BLOCK)]
        for block in pool.map(lambda b: bgzf_block(b, level), blocks):
            out.write(block)
    out.write(EOF)


def write_bgzf(
    chunks: Iterable[bytes], path: str | Path, threads: int = 2, level: int = LEVEL
) -> None:
    """Compress a stream of byte chunks into the BGZF file ``path`` (:func:`write_bgzf_stream`)."""
    with Path(path).open("wb") as out:
        write_bgzf_stream(chunks, out, threads, level)
