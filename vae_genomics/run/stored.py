"""The data a finished run carries with it, so it works without the training VCF.

Training writes, beside the model:

- ``sites.tsv``: one row per variant of the section (``contig``, ``position``, ``id``, ``ref``,
  ``alt``) and the contig's length from the VCF header (``contig_length``; empty when the header
  gives none), readable by any tool;
- ``haplotypes.npz``: the section's haplotypes (training and held-out rows, bit-packed with
  ``numpy.packbits`` along the variants), the row names, samples, population labels (and
  superpopulations when the populations file has that column), the sites again, the section and
  the filter counts;
- ``gmm.npz``: the fitted aggregate-posterior mixture that ``sample --sampler gmm`` draws from
  (weights, means, covariances).

``sample``, ``encode``, ``report`` and the Python API read these instead of re-reading the VCF
through the configuration; runs written before these files existed fall back to the VCF.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vae_genomics.common.io import atomic_write_bytes, atomic_write_text
from vae_genomics.data.matrix import HaplotypeMatrix
from vae_genomics.data.sections import Section

log = logging.getLogger(__name__)

SITES_FILE = "sites.tsv"
HAPLOTYPES_FILE = "haplotypes.npz"
GMM_FILE = "gmm.npz"

_SECTION_FIELDS = ("name", "contig", "start", "end", "index_start", "index_stop")
_CONTIG_LINE = re.compile(r"^##contig=<.*?\bID=([^,>]+)(?:.*?\blength=(\d+))?", re.IGNORECASE)


def contig_length(vcf: str | Path | None, contig: str) -> int | None:
    """Length of ``contig`` from a VCF/BCF header's ``##contig`` line, or ``None`` if not given."""
    if vcf is None or not Path(vcf).is_file():
        return None
    from cyvcf2 import VCF

    reader = VCF(str(vcf), lazy=True)
    try:
        header = reader.raw_header
    finally:
        reader.close()
    for line in header.splitlines():
        match = _CONTIG_LINE.match(line)
        if match and match.group(1) == contig and match.group(2):
            return int(match.group(2))
    return None


def superpopulations(path: str | Path | None, populations: np.ndarray | None) -> np.ndarray | None:
    """Superpopulation of each label from a populations TSV with a ``superpopulation`` column.

    Returns:
        Shape like ``populations``; ``None`` when the file has no such column (or no labels).
    """
    if path is None or populations is None or not Path(path).is_file():
        return None
    table = pd.read_csv(path, sep="\t", dtype=str)
    if not {"population", "superpopulation"} <= set(table.columns):
        return None
    lookup = dict(zip(table["population"], table["superpopulation"], strict=True))
    return np.asarray([lookup.get(p, "unknown") for p in populations], dtype=object)


def write_run_data(
    run_dir: Path,
    section: Section,
    matrix: HaplotypeMatrix,
    populations: np.ndarray | None,
    groups: np.ndarray | None = None,
    length: int | None = None,
) -> None:
    """Write ``sites.tsv`` and ``haplotypes.npz`` of a section into a run directory.

    Args:
        run_dir: The (staging) run directory.
        section: The section.
        matrix: Its haplotypes, int8 0/1, shape (n_haplotypes, n_variants), and sites.
        populations: Population label per haplotype row, or ``None``.
        groups: Superpopulation per haplotype row, or ``None``.
        length: Length of the section's contig (``None`` when unknown).
    """
    sites = pd.DataFrame(
        {
            "contig": np.asarray(matrix.chrom, dtype=str),
            "position": np.asarray(matrix.positions, dtype=np.int64),
            "id": np.asarray(matrix.variant_ids, dtype=str),
            "ref": np.asarray(matrix.ref, dtype=str),
            "alt": np.asarray(matrix.alt, dtype=str),
            "contig_length": length if length else pd.NA,
        }
    )
    atomic_write_text(run_dir / SITES_FILE, sites.to_csv(sep="\t", index=False))
    hap = np.ascontiguousarray(matrix.haplotypes, dtype=np.uint8)
    arrays: dict[str, Any] = {
        "haplotypes_packed": np.packbits(hap, axis=1),
        "shape": np.asarray(hap.shape, dtype=np.int64),
        "haplotype_ids": np.asarray(matrix.haplotype_ids, dtype=str),
        "haplotype_samples": np.asarray(matrix.haplotype_samples, dtype=str),
        "sample_ids": np.asarray(matrix.sample_ids, dtype=str),
        "chrom": np.asarray(matrix.chrom, dtype=str),
        "positions": np.asarray(matrix.positions, dtype=np.int64),
        "variant_ids": np.asarray(matrix.variant_ids, dtype=str),
        "ref": np.asarray(matrix.ref, dtype=str),
        "alt": np.asarray(matrix.alt, dtype=str),
        "contig_length": np.asarray(length or -1, dtype=np.int64),
        "section": np.asarray([getattr(section, f) for f in _SECTION_FIELDS], dtype=str),
        "filter_names": np.asarray(list(matrix.filter_counts), dtype=str),
        "filter_values": np.asarray(list(matrix.filter_counts.values()), dtype=np.int64),
    }
    if populations is not None:
        arrays["populations"] = np.asarray(populations, dtype=str)
    if groups is not None:
        arrays["superpopulations"] = np.asarray(groups, dtype=str)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(run_dir / HAPLOTYPES_FILE, buffer.getvalue())


class StoredData:
    """A section's data as stored in a run directory (see the module docstring).

    Attributes:
        section: The section.
        matrix: Haplotypes (int8 0/1, shape (n_haplotypes, n_variants)) and sites.
        populations: Population per haplotype row, or ``None``.
        superpopulations: Superpopulation per haplotype row, or ``None``.
        contig_length: Length of the contig, or ``None`` when the VCF header gave none.
    """

    def __init__(self, path: Path, expected: dict[str, Any] | None = None) -> None:
        from vae_genomics.run.arrays import check_haplotypes_file

        check_haplotypes_file(path, expected)  # the headers' sizes, before anything is allocated
        with np.load(path, allow_pickle=False) as z:
            shape = tuple(int(v) for v in z["shape"])
            hap = np.unpackbits(z["haplotypes_packed"], axis=1, count=shape[1]).astype(np.int8)
            name, contig, start, end, lo, hi = (str(v) for v in z["section"])
            self.section = Section(name, contig, int(start), int(end), int(lo), int(hi))
            counts = dict(zip(z["filter_names"].tolist(), z["filter_values"].tolist(), strict=True))
            self.matrix = HaplotypeMatrix(
                haplotypes=hap,
                chrom=z["chrom"].astype(object),
                positions=z["positions"],
                variant_ids=z["variant_ids"].astype(object),
                ref=z["ref"].astype(object),
                alt=z["alt"].astype(object),
                sample_ids=z["sample_ids"].astype(object),
                haplotype_ids=z["haplotype_ids"].astype(object),
                haplotype_samples=z["haplotype_samples"].astype(object),
                filter_counts={k: int(v) for k, v in counts.items()},
                source=str(path),
            )
            self.populations = z["populations"].astype(object) if "populations" in z else None
            groups = z["superpopulations"].astype(object) if "superpopulations" in z else None
            self.superpopulations = groups
            length = int(z["contig_length"])
            self.contig_length = length if length > 0 else None


def read_run_data(run_dir: Path, expected: dict[str, Any] | None = None) -> StoredData | None:
    """The stored data of a run, or ``None`` for a run written before it was stored.

    ``expected``: the run's recorded ``n_haplotypes`` and ``n_variants`` (``config.yaml``), which
    the file's arrays must match (checked from their headers before they are read).
    """
    path = Path(run_dir) / HAPLOTYPES_FILE
    return StoredData(path, expected) if path.is_file() else None


def write_gmm(path: Path, gmm: Any) -> None:
    """Store a fitted :class:`~vae_genomics.generate.samplers.AggregatePosteriorGMM`'s parameters."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        weights=np.asarray(gmm.weights_, dtype=np.float64),
        means=np.asarray(gmm.means_, dtype=np.float64),
        covariances=np.asarray(gmm.covariances_, dtype=np.float64),
    )
    atomic_write_bytes(Path(path), buffer.getvalue())


def read_gmm(path: Path, latent_dim: int | None = None, max_components: int = 64) -> Any | None:
    """A mixture that samples like the one :func:`write_gmm` stored (``None`` when absent).

    Only sampling needs the parameters (``AggregatePosteriorGMM.sample`` uses the weights, means
    and Cholesky factors of the covariances), so the scikit-learn object is not rebuilt. With
    ``latent_dim`` the file is checked first (:func:`~vae_genomics.run.arrays.check_mixture_file`:
    its sizes from the headers, then its values).
    """
    from vae_genomics.generate.samplers import AggregatePosteriorGMM

    path = Path(path)
    if not path.is_file():
        return None
    if latent_dim is not None:
        from vae_genomics.run.arrays import check_mixture_file

        weights, means, covariances = check_mixture_file(path, latent_dim, max_components)
    else:
        with np.load(path, allow_pickle=False) as z:
            weights, means, covariances = z["weights"], z["means"], z["covariances"]
    gmm = AggregatePosteriorGMM(n_components=len(weights))
    gmm.weights_, gmm.means_, gmm.covariances_ = weights, means, covariances
    gmm.n_components_ = len(gmm.weights_)
    return gmm


def store_run_data(run_dir: Path, config: Any, data: Any) -> None:
    """Write ``sites.tsv`` and ``haplotypes.npz`` of a run being trained.

    Args:
        run_dir: The (staging) run directory.
        config: The run's resolved :class:`~vae_genomics.config.Config`.
        data: The section's :class:`~vae_genomics.data.SectionData`.
    """
    write_run_data(
        run_dir,
        data.section,
        data.matrix,
        data.populations,
        groups=superpopulations(config.data.populations, data.populations),
        length=contig_length(config.data.vcf, data.section.contig),
    )


def population_groups(config: Any, data: Any) -> dict[str, str] | None:
    """Population → superpopulation of a section's labels (``None`` without that column)."""
    groups = superpopulations(config.data.populations, data.populations)
    if groups is None:
        return None
    return dict(zip(map(str, data.populations), map(str, groups), strict=True))


def data_fingerprint(matrix: HaplotypeMatrix) -> dict[str, Any]:
    """What a run was trained on, in a few numbers: its size and SHA-256 digests of its sites
    (contig, position, REF, ALT) and of its haplotypes (with their IDs).

    Stored in ``config.yaml`` (``resolved.data``); a run re-opened on other data is refused
    (:func:`data_changes`).
    """
    sites = "\n".join(
        f"{c}\t{p}\t{r}\t{a}"
        for c, p, r, a in zip(matrix.chrom, matrix.positions, matrix.ref, matrix.alt, strict=True)
    )
    haplotypes = hashlib.sha256("\n".join(map(str, matrix.haplotype_ids)).encode())
    haplotypes.update(np.ascontiguousarray(matrix.haplotypes, dtype=np.int8).tobytes())
    return {
        "n_haplotypes": int(matrix.haplotypes.shape[0]),
        "n_variants": int(matrix.haplotypes.shape[1]),
        "sites_sha256": hashlib.sha256(sites.encode()).hexdigest(),
        "haplotypes_sha256": haplotypes.hexdigest(),
    }


def data_changes(stored: dict[str, Any], matrix: HaplotypeMatrix) -> str | None:
    """What differs between a run's stored fingerprint and ``matrix``, or ``None`` if nothing."""
    now = data_fingerprint(matrix)
    changes = []
    for key, what in (("n_haplotypes", "haplotypes"), ("n_variants", "variants")):
        if stored.get(key) != now[key]:
            changes.append(f"{stored.get(key)} {what} at training, {now[key]} now")
    if not changes and stored.get("sites_sha256") != now["sites_sha256"]:
        changes.append("the same number of variants, but other sites (positions or alleles)")
    if not changes and stored.get("haplotypes_sha256") != now["haplotypes_sha256"]:
        changes.append("the same sites and haplotype IDs, but other genotypes")
    return "; ".join(changes) or None
