"""Run every ``benchmarks/bench_*.py`` in turn and print their tables (``make bench``).

Each benchmark is a script that prints a Markdown section (a heading, the machine and a table)
and exits with 0. Arguments after the runner's own are passed to every script, which should
ignore the ones it does not know (``argparse``'s ``parse_known_args``), e.g. ``--repeats 5``.
Add a benchmark by adding a ``bench_<topic>.py`` file.
Present: ``bench_data.py`` (data layer), ``bench_training.py`` (training speed; ``--only training``),
``bench_chromosome.py`` (a 5,000-haplotype chromosome through the cache and the workflow;
``--only chromosome``), ``bench_overhead.py`` (the phases of one real section job; ``--only
overhead``, reads ``--data``, default ``../shared/data``), ``bench_batch.py`` (a job per section
against several sections per job; ``--only batch``, reads ``--data``), ``bench_generation.py``
(``sample --region`` throughput and peak memory against N and sections; ``--only generation``),
``bench_head.py`` (the LD head's fit against the float64 Hessian it replaced; ``--only head``),
``bench_pca.py`` (the region page's PCA before and after thinning; ``--only pca``),
``bench_throughput.py`` (small sections: batch size, several sections in one graph, one thread
per job; ``--only throughput``, its batch-size fits read ``--data``), ``bench_evaluation.py``
(a section's evaluation by part, at this commit and ``--compare REV``; ``--only evaluation``,
reads finished runs from ``--runs-dir``), ``bench_release.py`` (``sample``'s check of a release
beside drawing it, by size; ``--only release --runs RUN_DIR ...``).

Usage: ``python benchmarks/run_all.py [--only data] [--repeats 5 ...]``
(``make bench ARGS="--only data --repeats 5"``)
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; returns the number of scripts that failed."""
    argv = sys.argv[1:] if argv is None else list(argv)
    only = None
    if argv[:1] == ["--only"] and len(argv) > 1:
        only, argv = argv[1], argv[2:]
    scripts = sorted(HERE.glob("bench_*.py"))
    if only is not None:
        scripts = [s for s in scripts if s.stem == f"bench_{only}"]
    failed = []
    for script in scripts:
        print(f"\n<!-- {script.name} -->", flush=True)
        started = time.perf_counter()
        code = subprocess.run([sys.executable, str(script), *argv]).returncode
        print(f"\n({script.name}: {time.perf_counter() - started:.0f} s, exit {code})", flush=True)
        if code:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return len(failed)


if __name__ == "__main__":
    sys.exit(main())
