"""Zarr plumbing for the cache: chunk-aligned appends and lazy, slice-only reads."""

from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np

#: Blosc settings: zstd with bit-shuffling for the 0/1 genotypes (bio2zarr uses the same filter at
#: level 7; level 3 writes about 4x faster for a few percent more bytes), byte-shuffling elsewhere.
_GENOTYPE_LEVEL, _OTHER_LEVEL = 3, 5


def open_store(path: str | Path, mode: str) -> Any:
    """A Zarr format-2 group on disk."""
    import zarr

    return zarr.open_group(str(path), mode=mode, zarr_format=2)


def _compressor(genotypes: bool) -> Any:
    from numcodecs import Blosc

    if genotypes:
        return Blosc(cname="zstd", clevel=_GENOTYPE_LEVEL, shuffle=Blosc.BITSHUFFLE)
    return Blosc(cname="zstd", clevel=_OTHER_LEVEL, shuffle=Blosc.SHUFFLE)


class ZarrAppender:
    """An array grown along its first axis, written one whole chunk at a time.

    Args:
        group: The Zarr group.
        name: Array name.
        inner_shape: Shape after the first axis.
        dtype: Element type (``str`` for variable-length strings).
        chunk: Chunk length along the first axis.
        dims: Dimension names (``_ARRAY_DIMENSIONS``, as xarray and sgkit expect).
        inner_chunks: Chunk shape after the first axis (default: whole).
        genotypes: Use the genotype compressor.
        fill_value: Chunks holding only this value are not stored (e.g. ``True`` for phase).
        pool: Executor that performs the writes (one worker keeps them in order), or ``None``.
    """

    def __init__(
        self,
        group: Any,
        name: str,
        inner_shape: tuple[int, ...],
        dtype: Any,
        chunk: int,
        dims: tuple[str, ...],
        inner_chunks: tuple[int, ...] | None = None,
        genotypes: bool = False,
        fill_value: Any = None,
        pool: Executor | None = None,
    ) -> None:
        self.inner_shape = tuple(inner_shape)
        self.chunk = chunk
        self.array = group.create_array(
            name,
            shape=(0, *self.inner_shape),
            chunks=(chunk, *(inner_chunks or self.inner_shape)),
            dtype=dtype,
            compressors=_compressor(genotypes),
            fill_value=fill_value,
            attributes={"_ARRAY_DIMENSIONS": list(dims)},
        )
        self.length = 0
        self._parts: list[np.ndarray] = []
        self._buffered = 0
        self._pool = pool
        self._pending: list = []

    def append(self, values: np.ndarray) -> None:
        """Buffer rows; write every complete chunk."""
        if len(values) == 0:
            return
        self._parts.append(np.array(values, copy=True))
        self._buffered += len(values)
        if self._buffered >= self.chunk:
            self._write(final=False)

    def close(self) -> None:
        """Write what is left and wait for every write."""
        self._write(final=True)
        for future in self._pending:
            future.result()
        self._pending = []

    def _write(self, final: bool) -> None:
        if not self._parts:
            return
        data = np.concatenate(self._parts) if len(self._parts) > 1 else self._parts[0]
        n = len(data) if final else (len(data) // self.chunk) * self.chunk
        if n:
            if self._pool is None:
                self._store(self.length, data[:n])
            else:
                while len(self._pending) >= 4:  # bound the memory held by queued writes
                    self._pending.pop(0).result()
                self._pending.append(self._pool.submit(self._store, self.length, data[:n]))
            self.length += n
        rest = data[n:]
        self._parts = [rest] if len(rest) else []
        self._buffered = len(rest)

    def _store(self, start: int, data: np.ndarray) -> None:
        self.array.resize((start + len(data), *self.inner_shape))
        self.array[start : start + len(data)] = data


class LazyGenotypes:
    """Haplotypes × variants view of a cache's ``call_genotype`` that reads only what is indexed.

    Supports ``shape``, ``ndim``, ``dtype`` and ``view[:, columns]`` (a slice, or sorted indices);
    the result is a numpy int8 array, shape (2 n_samples, n_columns), in the same sentinel coding as
    a freshly read :class:`~vae_genomics.data.matrix.HaplotypeMatrix`.

    Args:
        array: ``call_genotype``, shape (n_variants, n_samples, 2).
        rows: The store rows of the view's columns (sorted), shape (n_columns,).
        samples: Sample columns to keep (sorted), or ``None`` for all.
    """

    dtype = np.dtype(np.int8)
    ndim = 2

    def __init__(self, array: Any, rows: np.ndarray, samples: np.ndarray | None) -> None:
        self.array, self.rows, self.samples = array, np.asarray(rows, dtype=np.int64), samples
        n = array.shape[1] if samples is None else len(samples)
        self.shape = (2 * n, len(self.rows))

    def __getitem__(self, key: Any) -> np.ndarray:
        if not (isinstance(key, tuple) and len(key) == 2 and key[0] == slice(None)):
            raise TypeError("index a LazyGenotypes as view[:, columns]")
        wanted = self.rows[key[1]]
        if wanted.size == 0:
            return np.zeros((self.shape[0], 0), dtype=np.int8)
        lo, hi = int(wanted.min()), int(wanted.max()) + 1
        block = self.array[lo:hi]
        if self.samples is not None:
            block = block[:, self.samples]
        if wanted.size != hi - lo:
            block = block[wanted - lo]
        return block.reshape(len(wanted), -1).T

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = self[:, :]
        return out if dtype is None else out.astype(dtype)


class LazyStrings:
    """One string column of a cache (e.g. ``variant_id``) at given rows, read on indexing.

    Args:
        array: 1-D array, or 2-D with ``column`` given (``variant_allele``).
        rows: Store rows (sorted), shape (n,).
        column: Column of a 2-D array.
    """

    def __init__(self, array: Any, rows: np.ndarray, column: int | None = None) -> None:
        self.array, self.rows, self.column = array, np.asarray(rows, dtype=np.int64), column
        self.shape = (len(self.rows),)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key: Any) -> np.ndarray:
        wanted = self.rows[key]
        if np.ndim(wanted) == 0:
            return self[np.atleast_1d(key)][0]
        if wanted.size == 0:
            return np.zeros(0, dtype=object)
        lo, hi = int(wanted.min()), int(wanted.max()) + 1
        values = self.array[lo:hi] if self.column is None else self.array[lo:hi, self.column]
        return np.asarray(values, dtype=object)[wanted - lo]

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self[:]


class SortedColumn:
    """Binary search over a sorted stretch of a Zarr array, reading one chunk at a time.

    Keeps only the last chunk read, so finding a range costs O(log n) chunk reads and the memory
    of one chunk, whatever the array's length.

    Args:
        array: 1-D array, or 2-D with ``column`` given.
        column: Column of a 2-D array.
    """

    def __init__(self, array: Any, column: int | None = None) -> None:
        self.array, self.column = array, column
        self.chunk = array.chunks[0]
        self._cached: tuple[int, np.ndarray] = (-1, np.zeros(0))

    def value(self, i: int) -> int:
        """Element ``i``."""
        c = i // self.chunk
        if self._cached[0] != c:
            block = self.array[c * self.chunk : (c + 1) * self.chunk]
            self._cached = (c, block if self.column is None else block[:, self.column])
        return int(self._cached[1][i - c * self.chunk])

    def search(self, lo: int, hi: int, value: int, right: bool = False) -> int:
        """First index in ``[lo, hi)`` whose element is ``>= value`` (``> value`` if ``right``)."""
        while lo < hi:
            mid = (lo + hi) // 2
            element = self.value(mid)
            if element < value or (right and element == value):
                lo = mid + 1
            else:
                hi = mid
        return lo

    def range(self, lo: int, hi: int, first: int, last: int) -> tuple[int, int]:
        """Index range of the elements in ``[first, last]`` within the sorted ``[lo, hi)``."""
        start = self.search(lo, hi, first)
        return start, self.search(start, hi, last, right=True)
