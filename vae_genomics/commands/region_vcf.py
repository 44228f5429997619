"""A region's synthetic haplotypes as one phased VCF, with the region's provenance line (used by
``sample --region`` and its ``--populations`` and ``--admixed`` forms); :func:`draw_region_vcf`
draws it section by section, each block checked by the release attack, and writes it as it
comes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vae_genomics.data.export import check_haplotype_count, sites_header, write_synthetic_vcf
from vae_genomics.data.packed import PackedHaplotypes
from vae_genomics.run.region import LoadedRegion


def write_region_vcf(
    region: LoadedRegion,
    haplotypes: np.ndarray | PackedHaplotypes | Iterable[np.ndarray],
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
    replaces ``syn0001, ...`` (one per pair of rows). ``haplotypes`` is an array (n, n_sites),
    a :class:`~vae_genomics.data.packed.PackedHaplotypes` of that shape, or the sections'
    blocks as they are drawn (:func:`~vae_genomics.generate.region.iter_region`, with
    ``n_haplotypes``): then the VCF is written as they come.
    """
    whole = isinstance(haplotypes, np.ndarray | PackedHaplotypes)
    n = len(haplotypes) if whole else n_haplotypes
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


@dataclass
class RegionDraws:
    """What :func:`~vae_genomics.generate.region.iter_region` draws the VCF's haplotypes from."""

    loaded: LoadedRegion
    model: Any
    n: int
    seed: int
    decoder: str
    head: Any


def draw_region_vcf(
    draws: RegionDraws,
    record: dict[str, Any],
    out: Path,
    n_kept: int,
    note: str,
    command: str,
    overwrite: bool,
    on_released: Callable[[], None] | None = None,
) -> tuple[Path, np.ndarray]:
    """Draw the region section by section into its VCF, each section's block checked by the
    release attack (unless the budget is off) and released before the next is drawn.

    Args:
        draws: The region, its joint model, N, seed, decoder rule and head.
        record: The privacy gate's record (``commands.privacy_gate.gate``).
        out: The region's VCF.
        n_kept: The first haplotypes kept for the evaluation (0: none).
        note: The sampling settings for the VCF's header.
        command: The command line, for the VCF's ``##source`` line.
        overwrite: Replace an existing VCF.
        on_released: Called once every block is drawn and released, before the VCF's final
            rename (e.g. to remove the page of the sample it replaces).

    Returns:
        The VCF's path and the first ``n_kept`` haplotypes over the region, int8, shape
        (n_kept, n_sites).

    Raises:
        PrivacyBudgetError: The attack on a section's block, or on the region, is over the budget
            (nothing is written).
    """
    from vae_genomics.commands.release_gate import RegionReleaseCheck
    from vae_genomics.generate.region import iter_region

    loaded = draws.loaded
    kept: list[np.ndarray] = []
    release = None if record.get("budget") == "off" else (
        RegionReleaseCheck(loaded, record, draws.n, f"region {loaded.name}")
    )  # fmt: skip

    def sections_drawn() -> Iterator[np.ndarray]:
        blocks = iter_region(loaded, draws.model, draws.n, draws.seed, draws.decoder, draws.head)
        for k, part in enumerate(blocks):
            kept.append(part[:n_kept].copy())
            if release is not None:  # over the budget: raises before this block is written
                release.section(k, part)
            yield part
            del part  # written: not held while the next section is drawn
        if release is not None:  # before the VCF's final rename
            release.finish()
        if on_released is not None:
            on_released()

    vcf = write_region_vcf(
        loaded, sections_drawn(), out, note, command, overwrite, n_haplotypes=draws.n
    )
    return vcf, np.concatenate(kept, axis=1)


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
