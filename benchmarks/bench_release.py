"""What `sample`'s check of a release costs beside drawing it, by release size.

``make bench ARGS="--only release --runs RUN_DIR [RUN_DIR ...] --sizes 1000,10000,100000"``
(= ``python benchmarks/run_all.py --only release ...``).

For each finished run, on one thread (as a workflow job runs): the seconds `sample` spends drawing
N haplotypes with the run's default generator (fit included), and the seconds of the distance
attack on them (:mod:`vae_genomics.evaluation.release_attack`: every training and held-out
haplotype against the N released ones), side by side with their ratio, and the attack's AUC.
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
    args, _ = parser.parse_known_args(argv)
    print("## The check of a release\n")
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


if __name__ == "__main__":
    sys.exit(main())
