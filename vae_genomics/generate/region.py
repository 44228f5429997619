"""Sample a whole region: codes from a joint latent model, decoded by each section's model.

Fitting: every section's encoder embeds the region's *training* haplotypes (the same ones in every
section, :mod:`vae_genomics.run.region`); haplotype i gives the code tuple (z_1^i, ..., z_K^i),
either the posterior means or draws z ~ q(z | x) (``source``), on which the joint model
(:mod:`vae_genomics.generate.joint`) is fitted. Sampling: a tuple of codes per synthetic haplotype,
each decoded by its section's decoder into ALT probabilities at the section's sites, then turned
into 0/1 alleles by a decoder rule of :mod:`vae_genomics.generate.generators` (default: the one of
its ``DEFAULT_GENERATOR``, as in ``vae-genomics sample``), and the sections' sites concatenated in
genome order. With the bernoulli, temperature and calls rules, linkage across a boundary can only
come from the codes' dependence, which the joint model keeps and independent sampling does not.
The ``ld`` rule (:mod:`vae_genomics.generate.context`) fits one head over the whole region, on
the training haplotypes and one posterior draw per section: each site is drawn given its section's
decoder logit and the K sites before it, which reach across a boundary into the previous section.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from typing import Any, Literal, Protocol

import numpy as np

from vae_genomics.common.limits import BLOCK_HAPLOTYPES
from vae_genomics.data.packed import PackedHaplotypes
from vae_genomics.generate.context import ContextHead
from vae_genomics.generate.decoders import context_order, draw_alleles
from vae_genomics.generate.generators import DEFAULT_GENERATOR
from vae_genomics.generate.joint import RegionLatentModel
from vae_genomics.generate.samplers import decode_logits
from vae_genomics.models.inference import encode

log = logging.getLogger(__name__)

#: What the joint models are fitted on: the posterior means or draws z ~ q(z | x) (not a
#: :class:`~vae_genomics.generate.generators.CodeSource`, which draws codes for one section).
CodeKind = Literal["samples", "means"]


class LoadedRegion(Protocol):
    """What region sampling reads of a region's loaded sections (built by
    :func:`vae_genomics.run.region.load_region`): each section's run (``model``, ``data``), the
    region's haplotype matrix and its rows, the kept columns of every section, and the seed."""

    sections: list[Any]
    columns: list[np.ndarray]
    haplotypes: np.ndarray
    train_rows: np.ndarray
    seed: int

    def section_rows(self, k: int) -> np.ndarray: ...


#: Codes the joint models are fitted on, and their largest number of mixture components (chosen by
#: measurement: experiments/notebook/regions.md, "Regions").
DEFAULT_SOURCE: CodeKind = "means"
DEFAULT_MAX_COMPONENTS = 24

#: Decoder rule of region samples: the decoder of the default generator of ``sample``.
DEFAULT_DECODER = DEFAULT_GENERATOR.partition("/")[2] or "bernoulli"


def training_posteriors(region: LoadedRegion) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Posterior means and standard deviations of the region's training haplotypes in every
    section (rows aligned): two lists of K arrays, the k-th of shape (n_train, L_k), float64."""
    means, stds = [], []
    for k, run in enumerate(region.sections):
        rows = region.section_rows(k)[region.train_rows]
        mean, log_var = encode(run.model, np.asarray(run.data.matrix.haplotypes)[rows])
        means.append(np.asarray(mean, np.float64))
        stds.append(np.exp(0.5 * np.asarray(log_var, np.float64)))
    return means, stds


#: Labels the region mosaic's switches stay within by default (chosen by measurement:
#: experiments/notebook/region-mosaic.md, "A chromosome: switches within the population").
DEFAULT_GROUPS = "superpopulation"
GROUP_LEVELS = ("superpopulation", "population", "none")


def training_groups(region: LoadedRegion, level: str = DEFAULT_GROUPS) -> np.ndarray | None:
    """A label per training haplotype of the region (``region.train_rows`` order), shape (n_train,):
    its ``superpopulation`` (its population where the runs' populations table has no
    superpopulation column) or its ``population``; None for ``none`` or runs without populations.
    """
    if level not in GROUP_LEVELS:
        raise ValueError(f"unknown group level {level!r}: use one of {', '.join(GROUP_LEVELS)}")
    first = region.sections[0]
    column = getattr(first, "superpopulations", None) if level == "superpopulation" else None
    if column is None and level != "none":
        column = first.data.populations
    if column is None or level == "none":
        return None
    return np.asarray(column, dtype=str)[region.section_rows(0)][region.train_rows]


#: Minor-allele frequency of the sites the mosaic's switches are chosen on (the default of
#: ``data.min_maf``, at which the switch window was tuned): with rare variants kept, rare sites
#: would fill the window, shorten its span and choose neighbours by the rare alleles they share
#: (experiments/notebook/rare-variants.md, "Switches chosen on the common sites").
SWITCH_MIN_MAF = 0.01


def boundary_alleles(
    region: LoadedRegion, sites: int, min_maf: float = SWITCH_MIN_MAF
) -> list[np.ndarray]:
    """The training haplotypes' alleles at the last ``sites`` sites of each section but the last
    whose minor-allele frequency in the cohort (all its haplotypes, as ``data.min_maf`` reads it)
    is at least ``min_maf``: K - 1 arrays of shape (n_train, <= sites), int8, in
    ``region.train_rows`` order, what the mosaic's switch at each boundary is chosen on. Fewer
    where a section has fewer such sites; a section with none gives its last ``sites`` sites. At
    the default ``data.min_maf`` every site qualifies, so only runs that keep rarer variants
    (``data.min_mac``) are affected."""
    if sites < 1:
        raise ValueError(f"the switch sites must be >= 1, got {sites}")
    hap = np.asarray(region.haplotypes)
    bounds = np.concatenate([[0], np.cumsum([len(c) for c in region.columns])])
    out = []
    for lo, hi in itertools.pairwise(bounds[:-1]):
        freq = hap[:, lo:hi].mean(axis=0) if len(hap) else np.zeros(hi - lo)
        common = lo + np.flatnonzero(np.minimum(freq, 1 - freq) >= min_maf)
        columns = common[-sites:] if len(common) else np.arange(max(lo, hi - sites), hi)
        out.append(hap[np.ix_(region.train_rows, columns)])
    return out


def training_codes(
    region: LoadedRegion, source: CodeKind = DEFAULT_SOURCE, seed: int = 0
) -> list[np.ndarray]:
    """Codes of the region's training haplotypes in every section (rows aligned).

    Args:
        region: The loaded region.
        source: ``means`` (posterior means) or ``samples`` (one draw z ~ q(z | x) per haplotype).
        seed: Seed of the posterior draws.

    Returns:
        K arrays; the k-th has shape (n_train, L_k), float64.
    """
    if source not in ("means", "samples"):
        raise ValueError(f"source must be 'samples' or 'means', got {source!r}")
    means, stds = training_posteriors(region)
    if source == "means":
        return means
    rng = np.random.default_rng(seed)
    return [
        mean + std * rng.standard_normal(mean.shape) for mean, std in zip(means, stds, strict=True)
    ]


def fit_region_model(
    region: LoadedRegion,
    kind: str = "chain",
    source: CodeKind = DEFAULT_SOURCE,
    n_components: int | None = None,
    max_components: int = DEFAULT_MAX_COMPONENTS,
    neighbours: int | None = None,
    groups: np.ndarray | None = None,
    switch_sites: int | None = None,
) -> RegionLatentModel:
    """Fit a joint latent model (``mosaic``, ``chain``, ``joint`` or ``independent``) on the
    training codes (``mosaic``: on the posterior means and spreads, whatever ``source``, with
    ``neighbours`` candidates per switch, inside each group of ``groups``, a label per training
    haplotype in ``region.train_rows`` order: :func:`training_groups`; the candidates nearest in
    the alleles of the last ``switch_sites`` sites before each boundary,
    :func:`boundary_alleles`, or, with None, in the latent space of the section before)."""
    model = RegionLatentModel(kind, n_components, max_components, region.seed, neighbours)
    if kind == "mosaic":
        switch_on = None if not switch_sites else boundary_alleles(region, switch_sites)
        return model.fit(*training_posteriors(region), groups=groups, switch_on=switch_on)
    return model.fit(training_codes(region, source, seed=region.seed))


def region_logits(region: LoadedRegion, codes: list[np.ndarray]) -> np.ndarray:
    """Decoder logits over the region's sites, float32, shape (n, n_sites), from K code arrays."""
    parts = [
        decode_logits(run.model, z)[:, columns]
        for run, z, columns in zip(region.sections, codes, region.columns, strict=True)
    ]
    return np.concatenate(parts, axis=1)


class LazyRegionLogits:
    """The region's decoder logits (n, n_sites), computed a section at a time when sliced.

    The head's fit reads its logits in chunks of consecutive sites
    (``logits[:, start:stop]``), so only the sections a chunk touches are decoded and held (at
    most two at a time): memory n × the largest section instead of n × the region (4,003 ×
    40,160 float32 is 0.64 GB, twice that while the sections are joined).

    Args:
        region: The loaded region.
        codes: K arrays of codes, the k-th of shape (n, L_k).
    """

    def __init__(self, region: LoadedRegion, codes: list[np.ndarray]) -> None:
        self.region = region
        self.codes = codes
        self.bounds = np.concatenate([[0], np.cumsum([len(c) for c in region.columns])])
        self.shape = (len(codes[0]), int(self.bounds[-1]))
        self._held: dict[int, np.ndarray] = {}

    def _section(self, k: int) -> np.ndarray:
        if k not in self._held:
            self._held = {j: v for j, v in self._held.items() if j == k - 1}
            run, columns = self.region.sections[k], self.region.columns[k]
            self._held[k] = decode_logits(run.model, self.codes[k])[:, columns]
        return self._held[k]

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        rows, cols = key
        if rows != slice(None) or not isinstance(cols, slice) or cols.step not in (None, 1):
            raise TypeError("the region's lazy logits are read as [:, start:stop] only")
        start, stop, _ = cols.indices(self.shape[1])
        first = int(np.searchsorted(self.bounds, start, side="right")) - 1
        parts = []
        for k in range(max(first, 0), len(self.region.columns)):
            lo, hi = int(self.bounds[k]), int(self.bounds[k + 1])
            if lo >= stop:
                break
            parts.append(self._section(k)[:, max(start, lo) - lo : min(stop, hi) - lo])
        if not parts:
            return np.zeros((self.shape[0], 0), dtype=np.float32)
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


class RowsView:
    """Chosen rows of a matrix, read as ``view[:, start:stop]`` without copying them all: the
    region's training haplotypes for the head's fit (4,003 × 40,160 int8 is 0.16 GB).

    Args:
        matrix: Shape (n, n_sites).
        rows: Row indices, shape (n_rows,).
    """

    def __init__(self, matrix: np.ndarray, rows: np.ndarray) -> None:
        self.matrix, self.rows = matrix, np.asarray(rows)
        self.shape = (len(self.rows), matrix.shape[1])

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        rows, cols = key
        if rows != slice(None) or not isinstance(cols, slice):
            raise TypeError("a rows view is read as [:, start:stop] only")
        return self.matrix[self.rows, cols]


def fit_region_head(region: LoadedRegion, decoder: str, seed: int = 0) -> ContextHead | None:
    """The region-wide head of an ``ld[:K[:T]]`` decoder rule (None for other rules), fitted on the
    training haplotypes and one posterior draw per section (seeded); the logits are decoded a
    section at a time (:class:`LazyRegionLogits`), the training rows read a chunk at a time
    (:class:`RowsView`)."""
    order = context_order(decoder)
    if not order:
        return None
    logits = LazyRegionLogits(region, training_codes(region, "samples", seed))
    x_train = RowsView(np.asarray(region.haplotypes), region.train_rows)
    return ContextHead(order=order).fit(logits, x_train)


def decode_region(
    region: LoadedRegion,
    codes: list[np.ndarray],
    seed: int | np.random.Generator = 0,
    decoder: str = DEFAULT_DECODER,
    head: ContextHead | None = None,
) -> np.ndarray:
    """Decode per-section codes into region haplotypes, int8 0/1, shape (n, n_sites).

    Args:
        region: The loaded region.
        codes: K arrays of codes, the k-th of shape (n, L_k).
        seed: Seed or generator of the site draws.
        decoder: ``bernoulli``, ``temperature:T``, ``calls``
            (:func:`vae_genomics.generate.generators.decode_codes`) or ``ld[:K[:T]]`` (with
            ``head`` from :func:`fit_region_head`).
        head: The region's head, for the ``ld`` rule.
    """
    rng = np.random.default_rng(seed)
    logits = region_logits(region, codes)
    if context_order(decoder) and head is None:
        raise ValueError("the ld decoder needs the region's head: fit_region_head")
    return draw_alleles(logits, decoder, rng, head)


def iter_region(
    region: LoadedRegion,
    model: RegionLatentModel,
    n: int,
    seed: int = 0,
    decoder: str = DEFAULT_DECODER,
    head: ContextHead | None = None,
    block: int = BLOCK_HAPLOTYPES,
) -> Iterator[np.ndarray]:
    """``n`` synthetic haplotypes over the region, section by section: the k-th item holds the
    k-th section's kept sites, 0/1, shape (n, n_sites_k), one bit per call
    (:class:`~vae_genomics.data.packed.PackedHaplotypes`: int8 rows or columns by slicing,
    the whole by ``numpy.asarray``).

    Held between sections: each haplotype's current code state (the mosaic's training
    haplotype) and, for an ``ld`` decoder, its last ``K`` alleles, the context of the next
    section's first sites; within a section, logits of at most ``block`` haplotypes at a time.
    So memory grows with ``n`` times the largest section, not with the region. The draws are
    seeded per section (codes from ``seed``; alleles of section k from ``(seed, 1, k)``), so a
    given ``n`` and ``seed`` give the same haplotypes whatever is done with them.

    An ``ld`` decoder without ``head`` fits the region's head first (:func:`fit_region_head`).
    """
    order = context_order(decoder)
    if order and head is None:
        head = fit_region_head(region, decoder, seed=region.seed)
    codes = model.iter_sample(n, np.random.default_rng(seed))
    context = np.zeros((n, 0), dtype=np.int8)
    offset = 0
    for k, (run, columns) in enumerate(zip(region.sections, region.columns, strict=True)):
        z, rng = next(codes), np.random.default_rng([seed, 1, k])
        out = PackedHaplotypes(n, len(columns))  # one bit a call until it is written
        for b in range(0, n, block):
            logits = decode_logits(run.model, z[b : b + block])[:, columns]
            out.set_rows(
                b,
                draw_alleles(
                    logits, decoder, rng, head, offset=offset, context=context[b : b + block]
                ),
            )
        if order:
            # the last K alleles, copied: a view would keep the whole section's block alive
            context = np.concatenate([context, out[:, -order:]], axis=1)[:, -order:].copy()
        offset += len(columns)
        yield out
        del out  # the consumer has it: not held while the next section is drawn


def sample_region(
    region: LoadedRegion,
    model: RegionLatentModel,
    n: int,
    seed: int = 0,
    decoder: str = DEFAULT_DECODER,
    head: ContextHead | None = None,
) -> np.ndarray:
    """``n`` synthetic haplotypes over the region, int8 0/1, shape (n, n_sites), seeded: the
    sections of :func:`iter_region` side by side."""
    blocks = iter_region(region, model, n, seed, decoder, head)
    return np.concatenate([np.asarray(b) for b in blocks], axis=1)
