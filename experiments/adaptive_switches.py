#!/usr/bin/env python
"""The mosaic's switch width chosen per boundary on the training haplotypes alone.

The default chooses every switch on the template's alleles at the last 60 sites before the
boundary. Linkage across a boundary reaches further where the hotspot is weak, and less far where
it is strong, so one width is too short at some boundaries and too noisy at others (120 sites
lifted the mean boundary LD but kept fewer boundaries at 0.9 ×:
experiments/notebook/region-mosaic.md, "Switches chosen at the boundary"). Here each boundary's
width W_k is chosen among ``--widths`` on the training haplotypes alone: a mosaic of *real*
training alleles (each training haplotype switching at every boundary through the width's
table, no decoding) is scored against the training haplotypes' own cross-boundary r² at that
boundary (the page's boundary LD r), and the width with the highest r is kept. The mosaic with
the chosen widths is then drawn as the default is and scored by the region page's numbers beside
the default (60 everywhere).

Usage:
    python -m experiments.adaptive_switches RUNS --sections A,B,... [--seeds 2] [--widths 30,60,120,240]
"""

from __future__ import annotations

import sys

import numpy as np

from experiments.stratified_mosaic import (
    default_mosaic,
    drawn,
    prepared,
    region_parser,
    report,
    scored,
)
from vae_genomics.evaluation.boundary_ld import boundary_ld
from vae_genomics.generate.region import boundary_alleles


def real_mosaic(x_train, offsets, model, rng) -> np.ndarray:
    """Every training haplotype's real alleles, switching at each boundary through ``model``'s
    tables (its own group's candidates), shape (n_train, n_sites)."""
    n = len(x_train)
    rows = np.arange(n)
    out = np.empty_like(x_train)
    for k in range(len(offsets) - 1):
        if k:
            table = model.table_[k - 1]
            widths = model.widths_ if model.widths_ is not None else np.full(n, table.shape[1])
            rows = table[rows, rng.integers(0, widths[rows])]
        out[:, offsets[k] : offsets[k + 1]] = x_train[rows, offsets[k] : offsets[k + 1]]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = region_parser(__doc__)
    parser.add_argument("--widths", default="30,60,120,240")
    args = parser.parse_args(argv)
    region, means, stds, head, x_train, x_val = prepared(args.runs, args.sections)
    offsets = np.asarray(region.offsets)
    widths = [int(w) for w in args.widths.split(",")]
    models, r_by = {}, {}
    for w in widths:
        models[w] = default_mosaic(region, means, stds, switch_on=boundary_alleles(region, w))
        mosaic = real_mosaic(x_train, offsets, models[w], np.random.default_rng(region.seed))
        ld = boundary_ld(x_train, {"m": mosaic}, region.positions, offsets)
        r_by[w] = [np.nan if r is None else r for r in ld["sets"]["m"]["boundary_ld_r_by_boundary"]]
    table = np.array([r_by[w] for w in widths])  # (widths, boundaries)
    chosen = [widths[i] for i in np.nanargmax(np.nan_to_num(table, nan=-1), axis=0)]
    print("chosen widths per boundary:", chosen, file=sys.stderr)
    for w in widths:
        print(f"W={w}: mean training r {np.nanmean(r_by[w]):.3f}", file=sys.stderr)
    default = default_mosaic(region, means, stds)  # the last 60 sites
    adaptive = default_mosaic(region, means, stds)
    adaptive.table_ = [models[w].table_[k] for k, w in enumerate(chosen)]
    n = len(x_val) + len(x_val) % 2
    results = []
    for seed in range(1, args.seeds + 1):
        sets = {
            "default (60 sites)": drawn(region, default, n, seed, head),
            "per boundary": drawn(region, adaptive, n, seed, head),
        }
        results += scored(region, x_train, x_val, sets, seed)
    report(results, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
