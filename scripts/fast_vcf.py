"""Fast writing of large phased VCFs: numpy-made text, BGZF blocks compressed in parallel, tabix.

Shared by ``scripts/simulate_chromosome.py`` and ``benchmarks/make_data.py``, which write
cohorts of thousands of haplotypes over hundreds of thousands of sites (gigabytes of VCF text).
The genotype text of a block of records is filled into one ``uint8`` array (``0|1\\t...``), the
text is cut into BGZF blocks (gzip members of at most 65,280 input bytes with the ``BC`` extra
field, as htslib's ``bgzip`` writes them) that are compressed on a thread pool (zlib releases the
GIL), and the file gets a tabix index from pysam (or the htslib ``tabix`` program).

Only the standard library, numpy and, for the index, pysam or ``tabix`` are needed.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

#: Input bytes per BGZF block (htslib's ``BGZF_BLOCK_SIZE``).
BGZF_BLOCK = 0xFF00
#: The empty BGZF block that marks the end of a file.
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def bgzf_block(data: bytes, level: int = 6) -> bytes:
    """One BGZF block (a gzip member with the ``BC`` extra field) holding ``data``.

    Args:
        data: At most :data:`BGZF_BLOCK` (65,280) bytes.
        level: zlib compression level.

    Returns:
        The compressed block; stored uncompressed when compression would not fit a block.
    """
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    payload = compressor.compress(data) + compressor.flush()
    if len(payload) > 65_536 - 26:  # incompressible: store
        compressor = zlib.compressobj(0, zlib.DEFLATED, -15)
        payload = compressor.compress(data) + compressor.flush()
    header = struct.pack("<4BI2BH2BHH", 31, 139, 8, 4, 0, 0, 255, 6, 66, 67, 2, len(payload) + 25)
    return header + payload + struct.pack("<2I", zlib.crc32(data), len(data))


def write_bgzf(chunks: Iterable[bytes], path: Path, threads: int = 2) -> None:
    """Compress a stream of byte chunks into a BGZF file, blocks compressed in parallel.

    Args:
        chunks: The file's uncompressed content, in pieces of any size.
        path: Output file (``.gz``), overwritten.
        threads: Compression threads.
    """
    buffer = bytearray()
    with path.open("wb") as out, ThreadPoolExecutor(threads) as pool:
        for chunk in chunks:
            buffer += chunk
            n_full = len(buffer) // BGZF_BLOCK
            if n_full:
                cut = n_full * BGZF_BLOCK
                blocks = [bytes(buffer[i : i + BGZF_BLOCK]) for i in range(0, cut, BGZF_BLOCK)]
                del buffer[:cut]
                for block in pool.map(bgzf_block, blocks):
                    out.write(block)
        if buffer:
            out.write(bgzf_block(bytes(buffer)))
        out.write(BGZF_EOF)


def tabix_index(path: Path) -> None:
    """Write ``<path>.tbi``, the tabix index of a BGZF-compressed, position-sorted VCF.

    Args:
        path: The ``.vcf.gz`` file.

    Raises:
        SystemExit: Neither pysam nor htslib's ``tabix`` is available.
    """
    try:
        import pysam
    except ImportError:
        pysam = None
    if pysam is not None:
        pysam.tabix_index(str(path), preset="vcf", force=True)
    elif shutil.which("tabix"):
        subprocess.run(["tabix", "-f", "-p", "vcf", str(path)], check=True)
    else:
        raise SystemExit("need pysam (pip install -e '.[sim]') or htslib's tabix on PATH")


def phased_records(
    sites: Iterable[tuple[bytes, np.ndarray]], n_haplotypes: int, block: int = 2_000
) -> Iterator[bytes]:
    """VCF record lines of phased diploid genotypes, ``block`` records at a time.

    Args:
        sites: Per record, its first nine columns with the trailing tab (``CHROM`` to ``FORMAT``,
            e.g. ``b"22\\t101\\t.\\tA\\tG\\t.\\tPASS\\t.\\tGT\\t"``) and its 0/1 alleles, shape
            (n_haplotypes,), individual ``i``'s two haplotypes at ``2i`` and ``2i + 1``. The
            array may be reused by the producer once the next record is asked for.
        n_haplotypes: Haplotypes per record (even: diploid individuals).
        block: Records formatted per yielded chunk.

    Returns:
        An iterator of chunks of newline-terminated records (``0|1`` calls, tab-separated).

    Raises:
        ValueError: ``n_haplotypes`` is odd.
    """
    if n_haplotypes % 2:
        raise ValueError(f"{n_haplotypes} haplotypes: phased diploid records need an even number")
    text = np.empty((block, 2 * n_haplotypes), dtype=np.uint8)
    text[:, 1::4] = ord("|")
    text[:, 3::4] = ord("\t")
    text[:, -1] = ord("\n")
    genotypes = np.empty((block, n_haplotypes), dtype=np.int8)
    prefixes: list[bytes] = []
    for prefix, alleles in sites:
        genotypes[len(prefixes)] = alleles
        prefixes.append(prefix)
        if len(prefixes) == block:
            yield _format_block(prefixes, genotypes, text)
            prefixes = []
    if prefixes:
        yield _format_block(prefixes, genotypes, text)


def _format_block(prefixes: list[bytes], genotypes: np.ndarray, text: np.ndarray) -> bytes:
    """The records of the first ``len(prefixes)`` rows of ``genotypes`` (see :func:`phased_records`)."""
    n = len(prefixes)
    text[:n, 0::4] = genotypes[:n, 0::2] + ord("0")
    text[:n, 2::4] = genotypes[:n, 1::2] + ord("0")
    return b"".join(prefix + text[i].tobytes() for i, prefix in enumerate(prefixes))
