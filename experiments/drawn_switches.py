#!/usr/bin/env python
"""The region mosaic's switches chosen on each synthetic haplotype's *drawn* alleles.

The default mosaic (``switch_sites`` 60) chooses each switch from a table built on the training
haplotypes alone: the M training haplotypes of the template's group nearest the *template* in
its real alleles at the last 60 sites before the boundary. The synthetic haplotype's own alleles
there are drawn (decoder and LD head) and differ from its template's. Here the section before is
drawn first, and each synthetic haplotype then switches to one of the M training haplotypes of
its group nearest its *drawn* alleles at the last W sites (ties at random), so the next
section's code continues the haplotype that was actually written. Everything else (codes from
the posteriors, groups, M, the region head, the draws) is the default's. Both are scored by the
region page's own numbers (:func:`vae_genomics.evaluation.region.evaluate_region`) beside the
ceiling.

Usage:
    python -m experiments.drawn_switches RUNS --sections A,B,... [--seeds 2] [--widths 60]
"""

from __future__ import annotations

import numpy as np

from experiments.stratified_mosaic import (
    default_mosaic,
    drawn,
    prepared,
    region_parser,
    report,
    scored,
)
from vae_genomics.common.hamming import hamming_matrix
from vae_genomics.generate.decoders import context_order, draw_alleles
from vae_genomics.generate.mosaic import default_neighbours
from vae_genomics.generate.region import DEFAULT_DECODER, training_groups
from vae_genomics.generate.samplers import decode_logits


def nearest_of_group(drawn, x_train, rows, groups, m, rng) -> np.ndarray:
    """For each synthetic haplotype (its current template ``rows``), one of the ``m`` training
    haplotypes of its template's group nearest its drawn alleles (Hamming, ties at random)."""
    out = np.empty(len(drawn), dtype=np.int64)
    labels = groups[rows]
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        mine = np.flatnonzero(labels == g)
        if not len(mine):
            continue
        d = hamming_matrix(drawn[mine], x_train[members]).astype(np.float64)
        d += rng.random(d.shape) * 0.5  # ties at random
        k = min(m, len(members))
        near = np.argpartition(d, k - 1, axis=1)[:, :k]
        out[mine] = members[near[np.arange(len(mine)), rng.integers(0, k, len(mine))]]
    return out


def feedback_region(region, means, stds, head, x_train, groups, m, width, n, seed) -> np.ndarray:
    """``n`` haplotypes, each switch chosen on the drawn alleles (module docstring)."""
    rng = np.random.default_rng([seed, 7])
    order = context_order(DEFAULT_DECODER)
    rows = rng.integers(0, len(x_train), n)
    bounds = np.concatenate([[0], np.cumsum([len(c) for c in region.columns])])
    context = np.zeros((n, 0), dtype=np.int8)
    blocks = []
    for k, (run, columns) in enumerate(zip(region.sections, region.columns, strict=True)):
        z = means[k][rows] + stds[k][rows] * rng.standard_normal((n, means[k].shape[1]))
        logits = decode_logits(run.model, z)[:, columns]
        out = draw_alleles(logits, DEFAULT_DECODER, rng, head, offset=bounds[k], context=context)
        blocks.append(out)
        context = np.concatenate([context, out[:, -order:]], axis=1)[:, -order:].copy()
        if k + 1 < len(region.columns):
            lo, hi = max(bounds[k], bounds[k + 1] - width), bounds[k + 1]
            tail = out[:, lo - bounds[k] :]
            rows = nearest_of_group(tail, x_train[:, lo:hi], rows, groups, m, rng)
    return np.concatenate(blocks, axis=1)


def main(argv: list[str] | None = None) -> int:
    parser = region_parser(__doc__)
    parser.add_argument("--widths", default="60")
    args = parser.parse_args(argv)
    region, means, stds, head, x_train, x_val = prepared(args.runs, args.sections)
    groups = training_groups(region)
    if groups is None:
        groups = np.zeros(len(x_train), dtype=str)
    n = len(x_val) + len(x_val) % 2
    m = default_neighbours(len(x_train))
    default = default_mosaic(region, means, stds)
    widths = [int(w) for w in args.widths.split(",")]
    results = []
    for seed in range(1, args.seeds + 1):
        sets = {"default (template's alleles, 60)": drawn(region, default, n, seed, head)}
        for w in widths:
            sets[f"drawn alleles, {w}"] = feedback_region(
                region, means, stds, head, x_train, groups, m, w, n, seed
            )
        results += scored(region, x_train, x_val, sets, seed)
    report(results, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
