"""Data layer: VCF/BCF or cache → filtered haplotypes → sections. Knows nothing of models.

A straight pipeline, one module per step, read top to bottom:

1. source — :mod:`~vae_genomics.data.vcf` (file checks, reader choice, region queries) or
   :mod:`~vae_genomics.data.cache` (a VCF Zarr store written once by
   :mod:`~vae_genomics.data.cache_writer`);
2. reader — :mod:`~vae_genomics.data.inflate` + :mod:`~vae_genomics.data.textvcf` for VCF text,
   :mod:`~vae_genomics.data.htsvcf` (htslib) for BCF and indexed regions, over
   :mod:`~vae_genomics.data.header`;
3. site decisions — :mod:`~vae_genomics.data.sites` (record classes, counts, policies, filters);
4. matrix — :mod:`~vae_genomics.data.builder` and :mod:`~vae_genomics.data.matrix`;
5. sections — :mod:`~vae_genomics.data.sections`.

:mod:`~vae_genomics.data.pipeline` wires them for a configuration; this package only re-exports
its entry points.
"""

from __future__ import annotations

from typing import Any

from vae_genomics.data.matrix import HaplotypeMatrix
from vae_genomics.data.pipeline import (
    InputSource,
    SectionData,
    build_sections,
    list_sections,
    load_section,
    section_table,
)
from vae_genomics.data.sections import Section, find_section, snp_windows
from vae_genomics.data.vcf import read_populations, read_vcf

__all__ = [
    "Cache",
    "HaplotypeMatrix",
    "InputSource",
    "Section",
    "SectionData",
    "build_sections",
    "find_section",
    "list_sections",
    "load_section",
    "read_populations",
    "read_vcf",
    "section_table",
    "snp_windows",
    "write_cache",
]


def __getattr__(name: str) -> Any:
    """``Cache`` and ``write_cache`` on first use (they import zarr)."""
    if name == "Cache":
        from vae_genomics.data.cache import Cache

        return Cache
    if name == "write_cache":
        from vae_genomics.data.cache_writer import write_cache

        return write_cache
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
