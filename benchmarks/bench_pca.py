"""The region page's PCA: seconds and peak memory of one fit, before and after, side by side.

``make bench ARGS="--only pca"`` (= ``python benchmarks/run_all.py --only pca``).

Fits :class:`vae_genomics.evaluation.pca.HaplotypePCA` (4 components, Patterson scaling) on a
simulated region as wide as the chromosome scenario's (``--haplotypes`` × ``--sites``: three
populations with Balding–Nichols allele frequencies, F_ST 0.05, and LD from copying the left
neighbour), each way in a process of its own (peak RSS from ``wait4``, minus the process's RSS
before the fit):

- *full SVD, every site (before)*: the previous release's fit (a float64 copy of the whole matrix,
  then the full SVD that scikit-learn chose for more sites than haplotypes);
- *ARPACK, every site*: the package's fit without thinning (a section wider than its cohort);
- *thinned to 5,000 sites*: the region page's PCA
  (:data:`vae_genomics.evaluation.region.PCA_SITES` sites, evenly spaced).

The explained variance ratios of PC1–4 show that ARPACK finds the full SVD's components and what
the thinning changes. A region page fits this PCA twice (the training PCA and the ceiling's
out-of-sample refit).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np


def simulated_region(n: int, m: int, seed: int = 1) -> np.ndarray:
    """0/1 haplotypes (n, m), int8: three populations, F_ST about 0.05, LD by copying.

    Drawn 256 rows at a time, so that the draws' float temporaries stay small and the process's
    peak before the fit is about the matrix itself (the fit's growth is measured from it).
    """
    rng = np.random.default_rng(seed)
    p = rng.beta(0.3, 1.5, m).clip(0.01, 0.99)
    f = 0.05
    freqs = rng.beta(p * (1 - f) / f, (1 - p) * (1 - f) / f, size=(3, m))
    x = np.empty((n, m), dtype=np.int8)
    for start in range(0, n, 256):
        rows = min(256, n - start)
        pop = rng.integers(0, 3, rows)
        block = (rng.random((rows, m)) < freqs[pop]).astype(np.int8)
        copy = rng.random((rows, m)) < 0.6
        for j in range(1, m):
            block[copy[:, j], j] = block[copy[:, j], j - 1]
        x[start : start + rows] = block
    return x


def _before(x: np.ndarray) -> np.ndarray:
    """The previous release's fit: float64 copy, scaled copy, full SVD."""
    from sklearn.decomposition import PCA

    xf = np.asarray(x, dtype=np.float64)
    p = xf.mean(axis=0)
    keep = (p > 0) & (p < 1)
    scaled = (xf[:, keep] - p[keep]) / np.sqrt(p[keep] * (1 - p[keep]))
    solver = "covariance_eigh" if keep.sum() <= len(x) else "full"
    return (
        PCA(n_components=4, svd_solver=solver, random_state=0).fit(scaled).explained_variance_ratio_
    )


def child(mode: str, n: int, m: int) -> None:
    """Run one fit and print its seconds, RSS growth and explained variance ratios as JSON."""
    from vae_genomics.evaluation.pca import HaplotypePCA
    from vae_genomics.evaluation.region import PCA_SITES

    x = simulated_region(n, m)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if mode == "before":
        ratio = _before(x)
    else:
        sites = None if mode == "arpack" else PCA_SITES
        ratio = HaplotypePCA(4, max_sites=sites).fit(x).explained_variance_ratio_
    seconds = time.perf_counter() - start
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(json.dumps({"seconds": seconds, "grown_kb": grown, "ratio": list(map(float, ratio))}))


MODES = {
    "before": "full SVD, every site (before)",
    "arpack": "ARPACK, every site (the package)",
    "thinned": "thinned to 5,000 sites (the region page)",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--haplotypes", type=int, default=4003)
    parser.add_argument("--sites", type=int, default=40160)
    parser.add_argument("--child", choices=list(MODES), help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(argv)
    if args.child:
        child(args.child, args.haplotypes, args.sites)
        return 0
    rows = []
    for mode, label in MODES.items():
        cmd = [sys.executable, __file__, "--child", mode,
               "--haplotypes", str(args.haplotypes), "--sites", str(args.sites)]  # fmt: skip
        out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        ratio = ", ".join(f"{r:.4f}" for r in out["ratio"])
        rows.append(f"| {label} | {out['seconds']:.1f} | {out['grown_kb'] / 1e6:.2f} | {ratio} |")
    print("\n## The region page's PCA (`benchmarks/bench_pca.py`)\n")
    print(f"{platform.node()} ({os.cpu_count()} cores), {datetime.date.today()}, "
          f"{args.haplotypes} haplotypes × {args.sites} sites\n")  # fmt: skip
    print("| fit | seconds | peak memory growth GB | explained variance ratio PC1-4 |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
