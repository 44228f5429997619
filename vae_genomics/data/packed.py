"""0/1 haplotypes held one bit per call: a large drawn section kept until it is written.

A region drawn section by section holds each section's calls from the moment its blocks of
haplotypes are drawn until its records are written (:func:`vae_genomics.generate.region.iter_region`):
as int8 that is N × sites bytes, 0.32 GB for 100,000 haplotypes of a 3,164-site section, the
largest array of a chromosome-scale draw. :class:`PackedHaplotypes` keeps the same calls in an
eighth of that (``numpy.packbits`` along the sites of each haplotype) and hands out int8 rows or
columns on demand, so its readers (the VCF writer a few sites at a time, the release attack a
few thousand haplotypes at a time) never unpack the whole.
"""

from __future__ import annotations

import numpy as np


class PackedHaplotypes:
    """An (n, n_sites) matrix of 0/1 calls stored as bits, filled a block of rows at a time.

    Indexing with a row slice, or a row slice and a column slice (steps of 1), returns the calls
    as an int8 array; ``numpy.asarray`` unpacks the whole (for small matrices and tests).

    Args:
        n: Haplotypes (rows).
        n_sites: Sites (columns).
    """

    def __init__(self, n: int, n_sites: int) -> None:
        self.shape = (int(n), int(n_sites))
        self.dtype = np.dtype(np.int8)
        self.ndim = 2
        self.bits = np.zeros((self.shape[0], (self.shape[1] + 7) // 8), dtype=np.uint8)

    def row_view(self, start: int, stop: int) -> PackedHaplotypes:
        """Rows ``start`` to ``stop`` as packed haplotypes that share this matrix's bits (no copy:
        rows set in one are set in the other), e.g. one group's rows of a whole sample.

        Raises:
            ValueError: Rows outside the matrix.
        """
        if not 0 <= start <= stop <= self.shape[0]:
            raise ValueError(f"rows {start}:{stop} of {self.shape[0]} haplotypes")
        out = PackedHaplotypes(0, self.shape[1])  # no bits of its own
        out.bits = self.bits[start:stop]
        out.shape = (stop - start, self.shape[1])
        return out

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def nbytes(self) -> int:
        """Bytes held (an eighth of the int8 matrix, rounded up per row)."""
        return self.bits.nbytes

    def set_rows(self, start: int, calls: np.ndarray) -> None:
        """Store ``calls`` (0/1, shape (b, n_sites)) as rows ``start`` to ``start + b``.

        Raises:
            ValueError: Another number of sites, rows beyond the matrix, or a value other than
                0 or 1.
        """
        calls = np.asarray(calls)
        stop = start + len(calls)
        if calls.ndim != 2 or calls.shape[1] != self.shape[1] or start < 0 or stop > self.shape[0]:
            raise ValueError(
                f"calls of shape {calls.shape} at row {start} do not fit {self.shape[0]} "
                f"haplotypes × {self.shape[1]} sites"
            )
        if calls.size and (calls.min() < 0 or calls.max() > 1):
            raise ValueError("packed haplotypes hold 0 (REF) and 1 (ALT) only")
        self.bits[start:stop] = np.packbits(calls.astype(bool), axis=1)

    def __getitem__(self, key: slice | tuple[slice, slice]) -> np.ndarray:
        rows, cols = key if isinstance(key, tuple) else (key, slice(None))
        if not isinstance(rows, slice) or not isinstance(cols, slice):
            raise TypeError("PackedHaplotypes take a row slice and an optional column slice")
        r0, r1, r_step = rows.indices(self.shape[0])
        c0, c1, c_step = cols.indices(self.shape[1])
        if r_step != 1 or c_step != 1:
            raise TypeError("PackedHaplotypes take slices with a step of 1")
        c1 = max(c0, c1)
        first, last = c0 // 8, (c1 + 7) // 8  # the bytes holding columns c0 to c1
        bits = np.unpackbits(self.bits[r0:r1, first:last], axis=1)
        return bits[:, c0 - 8 * first : c1 - 8 * first].astype(np.int8)

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        whole = self[:, :]
        return whole if dtype is None else whole.astype(dtype)


def rows_of(haplotypes: np.ndarray | PackedHaplotypes) -> np.ndarray | PackedHaplotypes:
    """``haplotypes`` as given when packed (read by slices), else as an array."""
    return haplotypes if isinstance(haplotypes, PackedHaplotypes) else np.asarray(haplotypes)
