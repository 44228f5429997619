"""Sample a whole region: codes from a joint latent model, decoded by each section's model.

Fitting: every section's encoder embeds the region's *training* haplotypes (the same ones in every
section, :mod:`vae_genomics.region.assemble`); haplotype i gives the code tuple (z_1^i, ..., z_K^i),
either the posterior means or draws z ~ q(z | x) (``source``), on which the joint model
(:mod:`vae_genomics.region.joint`) is fitted. Sampling: a tuple of codes per synthetic haplotype,
each decoded by its section's decoder into ALT probabilities at the section's sites, then turned
into 0/1 alleles by a decoder rule of :mod:`vae_genomics.evaluation.generators` (default: the one of
its ``DEFAULT_GENERATOR``, as in ``vae-genomics sample``), and the sections' sites concatenated in
genome order. Linkage across a boundary can only come from the
codes' dependence, which the joint model keeps and independent sampling does not.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import numpy as np

from vae_genomics.evaluation.generators import DEFAULT_GENERATOR, decode_codes, parse_decoder
from vae_genomics.evaluation.metrics import encode
from vae_genomics.evaluation.samplers import decode_probabilities
from vae_genomics.export import check_haplotype_count, provenance_header, write_haplotype_vcf
from vae_genomics.region.assemble import LoadedRegion
from vae_genomics.region.joint import RegionLatentModel

log = logging.getLogger(__name__)

CodeSource = Literal["samples", "means"]

#: Codes the joint models are fitted on, and their largest number of mixture components (chosen by
#: measurement: docs/experiments.md, "Regions").
DEFAULT_SOURCE: CodeSource = "means"
DEFAULT_MAX_COMPONENTS = 24

#: Decoder rule of region samples: the decoder of the default generator of ``sample``.
DEFAULT_DECODER = DEFAULT_GENERATOR.partition("/")[2] or "bernoulli"


def training_codes(
    region: LoadedRegion, source: CodeSource = DEFAULT_SOURCE, seed: int = 0
) -> list[np.ndarray]:
    """Codes of the region's training haplotypes in every section (rows aligned).

    Args:
        region: The loaded region.
        source: ``means`` (posterior means) or ``samples`` (one draw z ~ q(z | x) per haplotype).
        seed: Seed of the posterior draws.

    Returns:
        K arrays; the k-th has shape (n_train, L_k), float64.
    """
    rng = np.random.default_rng(seed)
    codes = []
    for k, run in enumerate(region.sections):
        rows = region.section_rows(k)[region.train_rows]
        mean, log_var = encode(run.model, np.asarray(run.data.matrix.haplotypes)[rows])
        mean = np.asarray(mean, np.float64)
        if source == "samples":
            mean = mean + np.exp(0.5 * np.asarray(log_var, np.float64)) * rng.standard_normal(
                mean.shape
            )
        elif source != "means":
            raise ValueError(f"source must be 'samples' or 'means', got {source!r}")
        codes.append(mean)
    return codes


def fit_region_model(
    region: LoadedRegion,
    kind: str = "chain",
    source: CodeSource = DEFAULT_SOURCE,
    n_components: int | None = None,
    max_components: int = DEFAULT_MAX_COMPONENTS,
) -> RegionLatentModel:
    """Fit a joint latent model (``chain``, ``joint`` or ``independent``) on the training codes."""
    codes = training_codes(region, source, seed=region.seed)
    return RegionLatentModel(kind, n_components, max_components, seed=region.seed).fit(codes)


def decode_region(
    region: LoadedRegion,
    codes: list[np.ndarray],
    seed: int | np.random.Generator = 0,
    decoder: str = DEFAULT_DECODER,
) -> np.ndarray:
    """Decode per-section codes into region haplotypes, int8 0/1, shape (n, n_sites).

    Args:
        region: The loaded region.
        codes: K arrays of codes, the k-th of shape (n, L_k).
        seed: Seed or generator of the site draws.
        decoder: ``bernoulli``, ``temperature:T`` or ``calls``
            (:func:`vae_genomics.evaluation.generators.decode_codes`).
    """
    parse_decoder(decoder)
    rng = np.random.default_rng(seed)
    parts = []
    for run, z, columns in zip(region.sections, codes, region.columns, strict=True):
        probabilities = decode_probabilities(run.model, z)[:, columns]
        parts.append(decode_codes(probabilities, decoder, rng))
    return np.concatenate(parts, axis=1).astype(np.int8)


def sample_region(
    region: LoadedRegion,
    model: RegionLatentModel,
    n: int,
    seed: int = 0,
    decoder: str = DEFAULT_DECODER,
) -> np.ndarray:
    """``n`` synthetic haplotypes over the region, int8 0/1, shape (n, n_sites), seeded."""
    rng = np.random.default_rng(seed)
    return decode_region(region, model.sample(n, rng), rng, decoder)


def write_region_vcf(
    region: LoadedRegion, haplotypes: np.ndarray, out: str | Path, note: str = "", command: str = ""
) -> Path:
    """Write region haplotypes as one phased, bgzipped VCF with its tabix index (``.tbi``).

    Haplotypes 2i and 2i + 1 are the two haplotypes of synthetic sample i
    (:func:`vae_genomics.export.write_haplotype_vcf`); ``note`` is appended to the
    ``##vae_genomics_region`` header line and ``command`` to ``##source``.
    """
    check_haplotype_count(len(haplotypes))
    path = write_haplotype_vcf(
        out,
        haplotypes,
        contig=region.contig,
        positions=region.positions,
        ref=region.ref,
        alt=region.alt,
        ids=region.variant_ids,
        header_lines=[
            *provenance_header(command),
            f"##vae_genomics_region=<region={region.contig}:{region.start}-{region.end},"
            f"sections={'|'.join(region.section_names)},haplotypes={len(haplotypes)}{note}>",
        ],
        contig_length=region.sections[0].contig_length,
    )
    assert path is not None  # a file, not standard output
    return path
