"""A region's synthetic haplotypes as one phased VCF, with the region's provenance line (used by
``sample --region`` and its ``--populations`` and ``--admixed`` forms)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from vae_genomics.data.export import check_haplotype_count, sites_header, write_synthetic_vcf
from vae_genomics.run.region import LoadedRegion


def write_region_vcf(
    region: LoadedRegion,
    haplotypes: np.ndarray | Iterable[np.ndarray],
    out: str | Path,
    note: str = "",
    command: str = "",
    overwrite: bool = True,
    sample_names: Sequence[str] | None = None,
    n_haplotypes: int | None = None,
) -> Path:
    """Write region haplotypes as one phased, bgzipped VCF with its tabix index (``.tbi``).

    Haplotypes 2i and 2i + 1 are the two haplotypes of synthetic sample i
    (:func:`vae_genomics.data.export.write_haplotype_vcf`); ``note`` is appended to the
    ``##vae_genomics_region`` header line and ``command`` to ``##source``; ``sample_names``
    replaces ``syn0001, ...`` (one per pair of rows). ``haplotypes`` is an array (n, n_sites)
    or the sections' blocks as they are drawn (:func:`~vae_genomics.generate.region.iter_region`,
    with ``n_haplotypes``): then the VCF is written as they come.
    """
    n = len(haplotypes) if isinstance(haplotypes, np.ndarray) else n_haplotypes
    if n is None:
        raise ValueError("blocks of haplotypes need their number (n_haplotypes)")
    check_haplotype_count(n)
    path = write_synthetic_vcf(
        out,
        haplotypes,
        region.contig,
        region,
        f"##vae_genomics_region=<region={region.contig}:{region.start}-{region.end},"
        f"sections={'|'.join(region.section_names)},haplotypes={n}{note}>",
        command=command,
        contig_length=region.sections[0].contig_length,
        source=f"the runs of region {region.name} (e.g. {region.sections[0].run_dir})",
        overwrite=overwrite,
        sample_names=sample_names,
        n_haplotypes=n,
        extra_lines=_sites_lines(region),
    )
    assert path is not None  # a file, not standard output
    return path


def _sites_lines(region: LoadedRegion) -> list[str]:
    """One ``##vae_genomics_sites`` line for the region, or one per section (``Section=`` first)
    when the sections were filtered differently (e.g. a section's own ``data.min_maf``)."""
    data = [run.config.data for run in region.sections]
    filters = {(d.min_maf, d.min_mac, d.missing) for d in data}
    if len(filters) == 1:
        return [sites_header(data[0], len(region.positions))]
    sizes = np.diff(region.offsets)
    return [
        sites_header(d, int(k)).replace("=<", f"=<Section={name},", 1)
        for d, k, name in zip(data, sizes, region.section_names, strict=True)
    ]
