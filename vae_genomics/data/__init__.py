"""Data layer: VCF/BCF reading, sections and population labels. Knows nothing of models."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vae_genomics.config import DataConfig
from vae_genomics.data.sections import Section, find_section, snp_windows
from vae_genomics.data.vcf import HaplotypeMatrix, read_populations, read_vcf

__all__ = [
    "HaplotypeMatrix",
    "Section",
    "SectionData",
    "find_section",
    "list_sections",
    "load_section",
    "read_populations",
    "read_vcf",
    "snp_windows",
]


@dataclass
class SectionData:
    """One section's haplotypes with their labels.

    Attributes:
        section: The section.
        matrix: Haplotypes × the section's variants (int8).
        populations: Population label of each haplotype row, shape (n_haplotypes,), or ``None``.
    """

    section: Section
    matrix: HaplotypeMatrix
    populations: np.ndarray | None


def list_sections(config: DataConfig) -> tuple[HaplotypeMatrix, list[Section]]:
    """Read the configured VCF and cut it into sections.

    Returns:
        The filtered matrix over all variants and its sections.
    """
    matrix = read_vcf(config.vcf, min_maf=config.min_maf)
    return matrix, snp_windows(matrix.chrom, matrix.positions, config.window_snps)


def load_section(config: DataConfig, name: str | None = None) -> SectionData:
    """Load one section of the configured cohort.

    Args:
        config: The data configuration.
        name: Section name; ``None`` uses ``config.default_section`` or else the first section.

    Returns:
        The section's data.
    """
    matrix, sections = list_sections(config)
    if not sections:
        raise_no_variants(config)
    name = name or config.default_section
    section = find_section(sections, name) if name else sections[0]
    sliced = matrix.select_variants(section.index_start, section.index_stop)
    populations = None
    if config.populations is not None:
        populations = np.repeat(read_populations(config.populations, matrix.sample_ids), 2)
    return SectionData(section=section, matrix=sliced, populations=populations)


def raise_no_variants(config: DataConfig) -> None:
    """Raise the error for a cohort left with no variants after filtering."""
    from vae_genomics.errors import DataError

    raise DataError(
        f"{config.vcf}: no biallelic SNPs left after filtering (min_maf={config.min_maf}). "
        "Check the file's contents or lower data.min_maf."
    )
