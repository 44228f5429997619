#!/usr/bin/env python
"""The mosaic's switches chosen on the alleles within D bp before each boundary, not the last W
sites.

The default matches a template's alleles at the last 60 sites before a boundary. The region
page's boundary LD scores site pairs up to 50 kb apart across the boundary, and 60 sites cover
a few kb in a sparse section and tens of kb in a dense one. At the simulated chromosome's first
boundary (after a 2,728-site flank, about 2 sites per kb) a mosaic of *real* training alleles
switching on the last 60 sites keeps r = 0.50 against the ceiling's 0.92, and 0.66 on the last
240. Here each boundary's switch is chosen on the sites within ``D`` bp before it (at least
one), the rest as the default; scored by the region page's numbers beside the default.

Usage:
    python -m experiments.bp_switches RUNS --sections A,B,... [--seeds 2] [--distances 25000,50000]
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


def alleles_within(x_train, positions, offsets, distance) -> list[np.ndarray]:
    """Per boundary, the training alleles at the sites of the section before within ``distance``
    bp of the boundary's first site (at least the last site), shape (n_train, w_k)."""
    out = []
    for k in range(1, len(offsets) - 1):
        lo, hi = int(offsets[k - 1]), int(offsets[k])
        first = np.searchsorted(positions[lo:hi], positions[hi] - distance, side="left") + lo
        out.append(x_train[:, min(first, hi - 1) : hi])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = region_parser(__doc__)
    parser.add_argument("--distances", default="25000,50000")
    args = parser.parse_args(argv)
    region, means, stds, head, x_train, x_val = prepared(args.runs, args.sections)
    positions, offsets = np.asarray(region.positions), np.asarray(region.offsets)
    models = {"default (last 60 sites)": default_mosaic(region, means, stds)}
    for d in (int(v) for v in args.distances.split(",")):
        on = alleles_within(x_train, positions, offsets, d)
        print(f"{d} bp: sites per boundary {[a.shape[1] for a in on]}", flush=True)
        models[f"within {d // 1000} kb"] = default_mosaic(region, means, stds, switch_on=on)
    n = len(x_val) + len(x_val) % 2
    results = []
    for seed in range(1, args.seeds + 1):
        sets = {name: drawn(region, model, n, seed, head) for name, model in models.items()}
        results += scored(region, x_train, x_val, sets, seed)
    report(results, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
