"""A region's haplotypes decoded whole, a block of haplotypes at a time, and per group of
training haplotypes (``sample --region --populations`` and ``--admixed``): each group's own
mosaic, decoded with the region's LD head."""

from __future__ import annotations

import numpy as np

from vae_genomics.common.limits import region_block
from vae_genomics.data.packed import PackedHaplotypes
from vae_genomics.generate.context import ContextHead
from vae_genomics.generate.decoders import context_order, draw_alleles
from vae_genomics.generate.region import (
    DEFAULT_DECODER,
    LoadedRegion,
    boundary_alleles,
    decode_region,
    fit_region_head,
    region_logits,
    training_posteriors,
)


def decode_region_blocks(
    region: LoadedRegion,
    codes: list[np.ndarray],
    rng: np.random.Generator,
    decoder: str = DEFAULT_DECODER,
    head: ContextHead | None = None,
    block: int | None = None,
    out: PackedHaplotypes | None = None,
) -> PackedHaplotypes:
    """:func:`decode_region`'s haplotypes, the same draws, decoded ``block`` haplotypes at a time
    over every site and held as bits: the uniforms of every decoder rule are drawn row after
    row, so the blocks consume ``rng`` as the whole does, and a row's decoder logits do not
    depend on the rows decoded beside it (as for :func:`~vae_genomics.generate.region.iter_region`;
    both tested with blocks of 6).

    Args:
        region: The loaded region.
        codes: K arrays of codes, the k-th of shape (n, L_k).
        rng: Generator of the site draws.
        decoder: Decoder rule.
        head: The region's head, for the ``ld`` rule.
        block: Haplotypes per block (default
            :func:`~vae_genomics.common.limits.region_block` of the region's sites).
        out: Where to put them (shape (n, n_sites), e.g. a :meth:`PackedHaplotypes.row_view`
            of a larger sample), or None for a matrix of their own.

    Returns:
        Haplotypes, shape (n, n_sites), one bit per call (``out`` when given).
    """
    if context_order(decoder) and head is None:
        raise ValueError("the ld decoder needs the region's head: fit_region_head")
    n, n_sites = len(codes[0]), sum(len(c) for c in region.columns)
    block = region_block(n_sites) if block is None else block
    if out is None:
        out = PackedHaplotypes(n, n_sites)
    elif out.shape != (n, n_sites):
        raise ValueError(f"out holds {out.shape}, the draw is {(n, n_sites)}")
    for start in range(0, n, block):
        logits = region_logits(region, [c[start : start + block] for c in codes])
        out.set_rows(start, draw_alleles(logits, decoder, rng, head))
    return out


def sample_region_groups(
    region: LoadedRegion,
    groups: dict[str, np.ndarray],
    counts: dict[str, int],
    seed: int = 0,
    decoder: str = DEFAULT_DECODER,
    neighbours: int | None = None,
    switch_sites: int | None = None,
    packed: bool = False,
    out: PackedHaplotypes | None = None,
) -> dict[str, np.ndarray] | dict[str, PackedHaplotypes]:
    """Region haplotypes per group (population): each group's own ``mosaic`` — templates and
    switches among its training haplotypes only — decoded with the region's LD head (fitted on
    every training haplotype).

    Args:
        region: The loaded region.
        groups: Group → positions in the region's training rows (``region.train_rows`` order).
        counts: Group → haplotypes to draw (even).
        seed: Seed of the draws (each group's stream from the seed and its position).
        decoder: Decoder rule.
        neighbours: Candidates of each switch (None: scaled to the group's size).
        switch_sites: Each switch goes to the candidates nearest in the alleles of the last
            ``switch_sites`` sites before the boundary (:func:`boundary_alleles`); None or 0: in
            the latent space of the section before.
        packed: Decode a block of haplotypes at a time and hold them as bits
            (:func:`decode_region_blocks`, the same draws) instead of int8 arrays.
        out: With ``packed``, one matrix of sum(counts) rows that gets the groups' haplotypes
            one group after another, in the order of ``counts`` (the whole sample without a
            second copy); each group's entry is a view of its rows. None: a matrix per group.

    Returns:
        Group → haplotypes, 0/1, shape (counts[group], n_sites), in the order of ``counts``: int8
        arrays, or :class:`~vae_genomics.data.packed.PackedHaplotypes` with ``packed``.
    """
    from vae_genomics.generate.mosaic import MosaicPosterior

    if out is not None and (not packed or len(out) != sum(counts.values())):
        raise ValueError(
            f"out ({len(out)} rows) takes the packed draw of all {sum(counts.values())}"
        )
    means, stds = training_posteriors(region)
    alleles = boundary_alleles(region, switch_sites) if switch_sites else None
    head = fit_region_head(region, decoder, seed=region.seed)
    drawn, first = {}, 0
    for i, (name, count) in enumerate(counts.items()):
        rows = np.asarray(groups[name])
        model = MosaicPosterior(neighbours, seed=region.seed)
        switch_on = None if alleles is None else [a[rows] for a in alleles]
        model.fit([m[rows] for m in means], [s[rows] for s in stds], switch_on=switch_on)
        rng = np.random.default_rng([seed, i])
        codes = model.sample(count, rng)
        if packed:
            into = None if out is None else out.row_view(first, first + count)
            drawn[name] = decode_region_blocks(region, codes, rng, decoder, head, out=into)
        else:
            drawn[name] = decode_region(region, codes, rng, decoder, head)
        first += count
    return drawn
