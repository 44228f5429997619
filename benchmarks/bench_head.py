"""The LD head's fit: seconds per site against the float64 Hessian it replaced, side by side.

``make bench ARGS="--only head"`` (= ``python benchmarks/run_all.py --only head``).

Fits :class:`vae_genomics.generate.context.ContextHead` (K = 16, the default generator's) on a
simulated dense section (``--haplotypes`` × ``--sites``; each site copies its left neighbour with
probability 0.7, and the decoder logits point at the true allele with noise) as the package does
it, with the sites solved 128 at a time as before (the chunk's float64 features, 74 MB at 4,003
haplotypes, no longer fit in the CPU's cache), and with the Newton Hessian built as before that
(the float64 features weighted by p(1 - p), 128 sites at a time), in the same process,
alternating, ``--repeats`` times. (The release before also formed
the linear predictor and the gradient with einsum, under a tenth of the fit, which the reference here
does not reproduce.) The fit decides the time of every ``ld`` generator's fit: the evaluation's
"samplers" step of each section and the head of a whole region in ``sample --region``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time

import numpy as np

from vae_genomics.generate.context import ContextHead


class Float64Head(ContextHead):
    """The head with the Hessian of the previous release (reference for timing only)."""

    @staticmethod
    def _hessian_input(features: np.ndarray) -> np.ndarray:
        return features

    @staticmethod
    def _hessian(features: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.matmul(features.transpose(0, 2, 1) * (p * (1 - p))[:, None, :], features)


def simulated_section(n: int, m: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Logits and 0/1 haplotypes, (n, m): LD by copying the left neighbour, noisy logits."""
    rng = np.random.default_rng(seed)
    x = (rng.random((n, m)) < 0.2).astype(np.int8)
    for j in range(1, m):
        x[:, j] = np.where(rng.random(n) < 0.7, x[:, j - 1], x[:, j])
    return rng.standard_normal((n, m)) + (2 * x - 1) * 1.5, x


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--haplotypes", type=int, default=4003)
    parser.add_argument("--sites", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    args, _ = parser.parse_known_args(argv)
    logits, x = simulated_section(args.haplotypes, args.sites)
    fits = {
        "package": lambda: ContextHead(order=16),
        "128 sites per solve (before)": lambda: ContextHead(order=16, chunk=128),
        "float64 Hessian, 128 sites (before that)": lambda: Float64Head(order=16, chunk=128),
    }
    times: dict[str, list[float]] = {name: [] for name in fits}
    weights = {}
    for _ in range(args.repeats):
        for name, make in fits.items():
            head = make()
            started = time.perf_counter()
            weights[name] = head.fit(logits, x).weights
            times[name].append(time.perf_counter() - started)
    diff = max(float(np.abs(weights["package"] - w).max()) for w in weights.values())
    print("## The LD head's fit (`benchmarks/bench_head.py`)\n")
    print(f"{platform.node()} ({os.cpu_count()} cores), {datetime.date.today()}, "
          f"{args.haplotypes} haplotypes × {args.sites} sites, K = 16, best of {args.repeats}; "
          f"largest weight difference {diff:.1e}\n")  # fmt: skip
    print("| fit | seconds | ms per site | × the package |")
    print("|---|---|---|---|")
    best = {name: min(t) for name, t in times.items()}
    for name, seconds in best.items():
        print(f"| {name} | {seconds:.2f} | {1000 * seconds / args.sites:.1f} | "
              f"{seconds / best['package']:.2f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
