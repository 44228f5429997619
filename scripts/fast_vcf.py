"""Fast writing of large phased VCFs: numpy-made text, BGZF blocks compressed in parallel, tabix.

Shared by ``scripts/simulate_chromosome.py`` and ``benchmarks/make_data.py``, which write
cohorts of thousands of haplotypes over hundreds of thousands of sites (gigabytes of VCF text).
The genotype text of a block of records is filled into one ``uint8`` array (``0|1\\t...``), the
text is cut into BGZF blocks (gzip members of at most 65,280 input bytes with the ``BC`` extra
field, as htslib's ``bgzip`` writes them) that are compressed on a thread pool (zlib releases the
GIL), and the file gets a tabix index from pysam (or the htslib ``tabix`` program).

The BGZF writer is the package's (:mod:`vae_genomics.data.bgzf`); the index needs pysam or
``tabix``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from vae_genomics.data import bgzf

#: Deflate level of the data files (bgzip's default; the synthetic VCFs of ``sample`` use 1).
LEVEL = 6


def write_bgzf(chunks: Iterable[bytes], path: Path, threads: int = 2) -> None:
    """Compress a stream of byte chunks into a BGZF file at :data:`LEVEL`, blocks compressed in
    parallel (:func:`vae_genomics.data.bgzf.write_bgzf`, the package's one BGZF writer).

    Args:
        chunks: The file's uncompressed content, in pieces of any size.
        path: Output file (``.gz``), overwritten.
        threads: Compression threads.
    """
    bgzf.write_bgzf(chunks, path, threads, LEVEL)


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
