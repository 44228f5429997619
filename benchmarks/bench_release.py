"""What `sample`'s check of a release costs beside drawing it, by release size.

``make bench ARGS="--only release --runs RUN_DIR [RUN_DIR ...] --sizes 1000,10000,100000"``
(= ``python benchmarks/run_all.py --only release ...``).

For each finished run, on one thread (as a workflow job runs): the seconds `sample` spends drawing
N haplotypes with the run's default generator (fit included), and the seconds of the distance
attack on them (:mod:`vae_genomics.evaluation.release_attack`: every training and held-out
haplotype against the N released ones), side by side with their ratio, and the attack's AUC.

With ``--region-runs RUNS --sections A,B,...``: ``vae-genomics sample --runs RUNS --sections ...
--n N --no-report --max-memory 16G`` in a process of its own, with the budget off and with a budget every set
meets (``loss=1,auc=1``: the check runs in full, section by section and over the region), wall
seconds and peak RSS side by side (``benchmarks/bench_generation.run_measured``).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", nargs="+", default=[])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--region-runs", default=None)
    parser.add_argument("--sections", default=None)
    args, _ = parser.parse_known_args(argv)
    print("## The check of a release\n")
    if args.region_runs and args.sections:
        return region(args)
    if not args.runs:
        print("Not measured: give finished runs, `--only release --runs RUN_DIR ...`.")
        return 0
    from vae_genomics.common.logs import import_tensorflow_quietly

    import_tensorflow_quietly()
    from vae_genomics.train.threads import limit_threads

    limit_threads(1)
    from vae_genomics.commands.sample import draw_haplotypes
    from vae_genomics.evaluation.release_attack import release_attack
    from vae_genomics.run.load import load_run

    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, one thread; python benchmarks/bench_release.py "
          f"{' '.join(sys.argv[1:] if argv is None else argv)}\n")  # fmt: skip
    print("| section | sites | training + held-out | N | draw s | attack s | attack ÷ draw | AUC |")
    print("|---|---|---|---|---|---|---|---|")
    for run_dir in args.runs:
        run = load_run(run_dir)
        x = run.data.matrix.haplotypes
        members, nonmembers = x[run.train_rows], x[run.val_rows]
        for n in (int(s) for s in args.sizes.split(",")):
            started = time.perf_counter()
            released = draw_haplotypes(run, n, None, seed=1)
            drawn = time.perf_counter() - started
            started = time.perf_counter()
            attack = release_attack(released, members, nonmembers)
            attacked = time.perf_counter() - started
            print(f"| {run.data.section.name} | {x.shape[1]} | {len(members)} + {len(nonmembers)} "
                  f"| {n} | {drawn:.1f} | {attacked:.1f} | {attacked / drawn:.2f} "
                  f"| {attack['auc']:.3f} |", flush=True)  # fmt: skip
            del released
    return 0


def region(args: argparse.Namespace) -> int:
    """A region's sample with the budget off and with the check in full, side by side."""
    import tempfile
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_generation import run_measured

    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; {len(args.sections.split(','))} sections\n")  # fmt: skip
    print("| N | budget | wall s | peak RSS GB |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            for i, budget in enumerate(("off", "loss=1,auc=1")):
                cmd = [sys.executable, "-m", "vae_genomics.cli", "sample", "--runs",
                       args.region_runs, "--sections", args.sections, "--n", str(n),
                       "--no-report", "--privacy", budget, "--out", f"{tmp}/r{n}_{i}.vcf.gz",
                       "--max-memory", "16G"]  # fmt: skip
                wall, peak = run_measured(cmd)
                print(f"| {n} | {budget} | {wall:.1f} | {peak:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
