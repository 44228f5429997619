"""Orchestration of the data pipeline: the configured input → filtered matrix → sections.

Entry points: :func:`list_sections` (every section of the configured cohort, with the counts of
records before and after filtering) and :func:`load_section` (one section's clean 0/1 haplotype
matrix and population labels). Both read ``data.cache`` when it is set (checking that it was made
from ``data.vcf``) and ``data.vcf`` otherwise; the results are the same either way.

The steps, each in its own module: :class:`InputSource` picks the source (a VCF/BCF through
:mod:`~vae_genomics.data.vcf`, or a cache through :mod:`~vae_genomics.data.cache`); the readers
(:mod:`~vae_genomics.data.textvcf`, :mod:`~vae_genomics.data.htsvcf`) yield batches of records;
:mod:`~vae_genomics.data.sites` decides each site's fate; :mod:`~vae_genomics.data.builder` and
:mod:`~vae_genomics.data.matrix` assemble the :class:`HaplotypeMatrix`; and
:mod:`~vae_genomics.data.sections` cuts it into sections.

A section load reads as little as it can: the section's region for bp windows, BED lines and
named regions, or its contig for SNP windows (SNP windows are defined over the whole contig's
filtered variants); through the index when the VCF has one, and only the section's genotype chunks
from a cache. Errors about missing or unphased calls therefore concern the records read.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from vae_genomics.common.errors import ConfigError, DataError
from vae_genomics.config import DataConfig
from vae_genomics.data.matrix import STATUS_NAMES, HaplotypeMatrix
from vae_genomics.data.sections import (
    CONTIG_END,
    Region,
    Section,
    bp_windows,
    find_section,
    parse_region,
    read_bed,
    region_sections,
    section_name,
    snp_windows,
)
from vae_genomics.data.sites import Filters
from vae_genomics.data.vcf import (
    VcfSource,
    read_populations,
    read_sample_file,
    read_vcf,
    unknown_contig,
)

__all__ = [
    "InputSource",
    "SectionData",
    "build_sections",
    "filters_for",
    "list_sections",
    "load_section",
    "section_scope",
    "section_table",
]

log = logging.getLogger(__name__)
_WINDOW_NAME = re.compile(r"^(.+)_(\d+)-(\d+)$")


@dataclass
class SectionData:
    """One section's haplotypes with their labels.

    Attributes:
        section: The section.
        matrix: Haplotypes × the section's variants (int8, 0/1); ``filter_counts`` describe the
            section's records (before/after filtering, imputed and haploid calls).
        populations: Population label of each haplotype row, shape (n_haplotypes,), or ``None``.
    """

    section: Section
    matrix: HaplotypeMatrix
    populations: np.ndarray | None


def filters_for(config: DataConfig) -> Filters:
    """The filter and policy settings of a data configuration."""
    if config.allow_unphased:
        log.warning("data.allow_unphased is on: unphased heterozygous calls are used as written")
    return Filters(
        config.min_maf, config.min_mac, config.missing, config.allow_unphased, config.impute_seed
    )


class InputSource:
    """The configured input (a cache, or the VCF/BCF) and how to read a scope of it.

    Args:
        config: The data configuration (``cache`` set: the cache, checked against ``vcf``).
    """

    def __init__(self, config: DataConfig) -> None:
        self.config = config
        self.filters = filters_for(config)
        self.samples = read_sample_file(config.samples) if config.samples else None
        self.cache = None
        if config.cache is not None:
            from vae_genomics.data.cache import Cache

            self.cache = Cache(config.cache)
            self.cache.check_source(config.vcf)
            self.contigs = self.cache.contigs
        else:
            self._vcf = VcfSource(config.vcf, allow_truncated=config.allow_truncated)
            self._vcf.warn_unindexed = False  # a section scope is an optimisation, not a request
            self.contigs = self._vcf.contigs

    def read(self, scope: Region | None, genotypes: bool) -> HaplotypeMatrix:
        """The filtered matrix of a region (``None``: everything); ``genotypes=False`` skips
        the genotype columns of a VCF (a cache's are lazy either way)."""
        if scope is not None and self.contigs and scope.contig not in self.contigs:
            path = self.config.cache or self.config.vcf
            raise unknown_contig(path, scope.contig, self.contigs, f"section '{scope.name}'")
        if self.cache is not None:
            bounds = (scope.contig, scope.start, scope.end) if scope else None
            return self.cache.read(bounds, self.samples, self.filters)
        if scope is not None and scope.end >= CONTIG_END and self.contigs == [scope.contig]:
            scope = None  # the whole file is that contig: read it straight through
        f = self.filters
        return read_vcf(
            self._vcf, f.min_maf, scope, samples=self.samples, min_mac=f.min_mac, missing=f.missing,
            allow_unphased=f.allow_unphased, impute_seed=f.impute_seed, genotypes=genotypes,
        )  # fmt: skip


def check_scheme(config: DataConfig) -> None:
    """Refuse BED sections without ``data.bed`` and region sections without ``data.regions``
    (checked again where the sections are made; the command line checks it before TensorFlow).

    Raises:
        ConfigError: The scheme's list of sections is not given.
    """
    if config.sections == "bed" and config.bed is None:
        raise ConfigError("data.sections is 'bed' but data.bed is not set; give a BED file.")
    if config.sections == "regions" and not config.regions:
        raise ConfigError(
            "data.sections is 'regions' but data.regions is empty; list regions such as "
            "'22:16000001-17000000'."
        )


def _configured_regions(config: DataConfig) -> tuple[list[Region], str]:
    check_scheme(config)
    if config.sections == "bed":
        return read_bed(config.bed), str(config.bed)
    return [parse_region(r) for r in config.regions], "data.regions"


def build_sections(
    config: DataConfig,
    matrix: HaplotypeMatrix,
    contigs: list[str] | None = None,
    only: str | None = None,
) -> list[Section]:
    """Cut a filtered matrix into the configured sections.

    Args:
        config: The data configuration (``sections`` and its options).
        matrix: Filtered variants (genotypes are not needed).
        contigs: Contigs the input is known to have (header, index or cache), for messages.
        only: Build only the BED/region section of this name.

    Raises:
        DataError: A region names an unknown contig or holds no variants.
        ConfigError: The scheme's option (``bed``/``regions``) is not set.
    """
    if config.sections == "snp-windows":
        return snp_windows(matrix.chrom, matrix.positions, config.window_snps)
    if config.sections == "bp-windows":
        return bp_windows(matrix.chrom, matrix.positions, config.window_bp)
    regions, describe = _configured_regions(config)
    if only is not None:
        regions = [r for r in regions if r.name == only]
    records = matrix.records
    known = list(dict.fromkeys([*(contigs or []), *(records.contigs if records else [])]))
    for region in regions:
        if known and region.contig not in known:
            what = f"region '{region.name}' of {describe}"
            raise unknown_contig(config.cache or config.vcf, region.contig, known, what)
    before = {}
    if records is not None:
        before = {r.name: records.counts(r.contig, r.start, r.end)["records_read"] for r in regions}
    return region_sections(regions, matrix.chrom, matrix.positions, describe, before)


def section_table(matrix: HaplotypeMatrix, sections: list[Section]) -> list[dict[str, Any]]:
    """One row per section: name, contig, start, end, ``n_variants`` (after filtering),
    ``n_records`` (before filtering) and the records each filter removed."""
    rows = []
    for section in sections:
        row = {k: getattr(section, k) for k in ("name", "contig", "start", "end")}
        row["n_variants"] = section.n_variants
        if matrix.records is not None:
            counts = matrix.records.counts(section.contig, section.start, section.end)
            row["n_records"] = counts["records_read"]
            row.update({name: counts[name] for name in STATUS_NAMES[1:]})
        rows.append(row)
    return rows


def list_sections(
    config: DataConfig, genotypes: bool = True
) -> tuple[HaplotypeMatrix, list[Section]]:
    """Read the configured input and cut it into sections.

    Args:
        config: The data configuration.
        genotypes: ``False`` to count and filter only (the matrix read from a VCF then has no
            genotype columns; from a cache they are read lazily either way).

    Returns:
        The filtered matrix over all variants (values as read, see
        :mod:`~vae_genomics.data.matrix`) and its sections.
    """
    source = InputSource(config)
    matrix = source.read(None, genotypes=genotypes)
    return matrix, build_sections(config, matrix, source.contigs)


def _contig_of(name: str, contigs: list[str]) -> tuple[str, int, int] | None:
    """``(contig, start, end)`` of a ``<contig>_<start>-<end>`` name, if exactly one contig fits."""
    match = _WINDOW_NAME.match(name)
    if not match:
        return None
    start, end = int(match.group(2)), int(match.group(3))
    fits = [c for c in contigs if section_name(c, start, end) == name]
    return (fits[0], start, end) if len(fits) == 1 else None


def section_scope(config: DataConfig, name: str, contigs: list[str]) -> Region | None:
    """The region that must be read to load section ``name`` (``None``: read everything)."""
    if config.sections in ("bed", "regions"):
        regions, _ = _configured_regions(config)
        return next((r for r in regions if r.name == name), None)
    parsed = _contig_of(name, contigs)
    if parsed is None:
        return None
    contig, start, end = parsed
    if config.sections == "bp-windows":
        width = config.window_bp
        if (start - 1) % width == 0 and end == start + width - 1:
            return Region(name, contig, start, end)
        return None
    return Region(contig, contig, 1, CONTIG_END)


def load_section(config: DataConfig, name: str | None = None) -> SectionData:
    """Load one section of the configured cohort.

    Args:
        config: The data configuration.
        name: Section name; ``None`` uses ``config.default_section`` or else the first section.

    Returns:
        The section's data: clean 0/1 haplotypes (ploidy and imputation resolved) and labels.

    Raises:
        DataError: Unknown section (the message suggests the nearest names), unreadable input,
            or a policy violation in the records read.
    """
    source = InputSource(config)
    name = name or config.default_section
    if source.cache is not None and config.sections == "snp-windows":
        section, matrix = _cached_window(config, source, name)
        sliced = matrix.select_variants(
            0, matrix.n_variants, bounds=(section.contig, section.start, section.end)
        )
    else:
        scope = section_scope(config, name, source.contigs) if name else None
        matrix = source.read(scope, genotypes=True)
        only = name if scope is not None and config.sections in ("bed", "regions") else None
        sections = build_sections(config, matrix, source.contigs, only=only)
        if scope is not None and not any(s.name == name for s in sections):
            _, everything = list_sections(config, genotypes=False)
            find_section(everything, name)  # unknown: raises with the nearest names
            source, scope = InputSource(config), None  # known but not where its name says: read all
            matrix = source.read(None, genotypes=True)
            sections = build_sections(config, matrix, source.contigs)
        if not sections:
            raise_no_variants(config)
        section = find_section(sections, name) if name else sections[0]
        sliced = matrix.select_variants(
            section.index_start, section.index_stop, (section.contig, section.start, section.end)
        )
    populations = None
    if config.populations is not None:
        labels = read_populations(config.populations, matrix.sample_ids)
        by_sample = dict(zip(matrix.sample_ids, labels, strict=True))
        populations = np.asarray([by_sample[s] for s in sliced.haplotype_samples], dtype=object)
    return SectionData(section=section, matrix=sliced, populations=populations)


def _suggest(config: DataConfig, name: str) -> None:
    """Raise the unknown-section error with suggestions from every section of the input."""
    _, everything = list_sections(config, genotypes=False)
    find_section(everything, name)
    raise DataError(  # listed, yet not found where its name says: a name that fits two contigs
        f"section '{name}' is listed but could not be located; its contig name is ambiguous "
        "once made file-name safe. Rename the contigs or use data.sections: regions."
    )


def _cached_window(
    config: DataConfig, source: InputSource, name: str | None
) -> tuple[Section, HaplotypeMatrix]:
    """A SNP window from a cache: streamed to find it, then only its rows read."""
    cache = source.cache
    parsed = _contig_of(name, cache.contigs) if name else None
    if name and parsed is None:
        _suggest(config, name)
    for contig in [parsed[0]] if parsed else cache.contigs:
        windows = cache.snp_windows(contig, config.window_snps, source.samples, source.filters)
        found = [w for w in windows if name is None or w[0].name == name]
        if found:
            section, first_row, stop_row = found[0]
            region = (contig, section.start, section.end)
            rows = (first_row, stop_row)
            return section, cache.read(region, source.samples, source.filters, rows=rows)
    if name is None:
        raise_no_variants(config)
    _suggest(config, name)
    raise AssertionError("unreachable")


def raise_no_variants(config: DataConfig) -> None:
    """Raise the error for a cohort left with no variants after filtering."""
    source = config.cache or config.vcf
    raise DataError(
        f"{source}: no biallelic SNPs left after filtering (min_maf={config.min_maf}, "
        f"min_mac={config.min_mac}, missing={config.missing}). Check the file's contents or "
        "relax data.min_maf / data.min_mac."
    )
