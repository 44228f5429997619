"""Where a section's evaluation spends its seconds, at this commit and (``--compare REV``) at an
earlier one, side by side in one run.

``make bench ARGS="--only evaluation --runs-dir runs --compare daa209d"``
(= ``python benchmarks/run_all.py --only evaluation ...``).

Each finished run is re-opened and evaluated the way ``train`` evaluates it
(``evaluation.summary.evaluate_model`` with the run's configuration and seed, XLA as the model
trained), in a fresh process on one thread (the workflow's training jobs run on one), twice per
code tree: the first call pays the compilations, as a training job does, the second does not.
With ``--compare REV`` the same runs are evaluated by the package at git revision REV (a
temporary worktree) as well, and the script reports the largest relative difference between
the two trees' numbers (every number of ``metrics.json``'s evaluation but its seconds).

Runs: ``--runs DIR ...``, or from ``--runs-dir`` (a workflow's ``runs/``, each section's
``<section>/<run-name>``) the smallest, the median and the largest section by variants.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def child(run_dir: str, out: str) -> None:
    """Evaluate one run twice in this process; write the parts' seconds and the numbers."""
    from vae_genomics.common.logs import import_tensorflow_quietly

    import_tensorflow_quietly()
    from vae_genomics.train.threads import limit_threads

    limit_threads(1)
    from vae_genomics.evaluation.summary import evaluate_model
    from vae_genomics.run.load import load_run

    run = load_run(run_dir)
    run.model.jit_compile = bool(run.config.training.jit_compile)  # as the training job has it
    data, config = run.data, run.config
    x_train = data.matrix.haplotypes[run.train_rows]
    x_val = data.matrix.haplotypes[run.val_rows]
    pops = None if data.populations is None else data.populations[run.val_rows]
    walls, summary = [], {}
    for _ in range(2):
        started = time.perf_counter()
        summary = evaluate_model(
            run.model, x_train, x_val, config.evaluation, populations=pops,
            n_components=config.report.n_components, seed=config.seed,
            positions=data.matrix.positions,
        ).summary  # fmt: skip
        walls.append(time.perf_counter() - started)
    result = {"variants": int(x_train.shape[1]), "cold": walls[0], "warm": walls[1],
              "parts": summary.pop("seconds"), "summary": summary}  # fmt: skip
    Path(out).write_text(json.dumps(result))


def measure(tree: Path, run_dir: Path) -> dict:
    """:func:`child` of ``run_dir`` in a fresh process importing the package from ``tree``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
        cmd = [sys.executable, __file__, "--child", str(run_dir), str(out)]
        subprocess.run(cmd, env=env, cwd=tmp, check=True, capture_output=True)
        return json.loads(out.read_text())


def pick_runs(runs_dir: Path, run_name: str) -> list[Path]:
    """The smallest, the median and the largest finished section of a workflow's runs."""
    found = []
    for metrics in runs_dir.glob(f"*/{run_name}/metrics.json"):
        found.append((json.loads(metrics.read_text())["section"]["n_variants"], metrics.parent))
    if not found:
        return []
    found.sort(key=lambda item: (item[0], str(item[1])))
    picks = [found[0], found[len(found) // 2], found[-1]]
    return list(dict.fromkeys(path for _, path in picks))


def largest_difference(a: object, b: object) -> float:
    """Largest relative difference between the numbers of two nested JSON values."""
    if isinstance(a, dict) and isinstance(b, dict):
        return max((largest_difference(a[k], b[k]) for k in a.keys() & b.keys()), default=0.0)
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return max((largest_difference(x, y) for x, y in zip(a, b, strict=True)), default=0.0)
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        return abs(a - b) / max(abs(a), abs(b), 1e-12) if a != b else 0.0
    return 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--runs", nargs="*", type=Path, default=[], help="finished run dirs")
    parser.add_argument("--runs-dir", type=Path, default=ROOT / "runs")
    parser.add_argument("--run-name", default="default")
    parser.add_argument("--compare", help="git revision to evaluate the same runs with")
    args, _ = parser.parse_known_args(argv)
    if args.child:
        child(*args.child)
        return 0
    runs = args.runs or pick_runs(args.runs_dir, args.run_name)
    print("## Evaluation time per section\n")
    if not runs:
        print(f"Not measured: no finished runs under {args.runs_dir} (`{args.run_name}`). Train "
              "some sections (e.g. `make train-all CONFIG=...`) or pass --runs.")  # fmt: skip
        return 0  # like the benchmarks that need ../shared/data: said, not failed
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, one thread\n")  # fmt: skip
    trees = {"this commit": ROOT}
    with tempfile.TemporaryDirectory() as tmp:
        if args.compare:
            old = Path(tmp) / "old"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                            str(old), args.compare], check=True)  # fmt: skip
            trees = {args.compare: old, **trees}
        try:
            results = {name: [measure(tree, run) for run in runs] for name, tree in trees.items()}
        finally:
            if args.compare:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(Path(tmp) / "old")], check=False)  # fmt: skip
    report(runs, results)
    return 0


def report(runs: list[Path], results: dict[str, list[dict]]) -> None:
    """Print a table per code tree and, for two, the ratios and the numbers' agreement."""
    names = list(results)
    parts = list(results[names[-1]][0]["parts"])
    print("| section | variants | code | " + " | ".join(parts) + " | first call | second |")
    print("|---" * (len(parts) + 5) + "|")
    for i, run in enumerate(runs):
        for name in names:
            r = results[name][i]
            cells = " | ".join(f"{r['parts'].get(p, 0):.1f}" for p in parts)
            print(f"| {run.parent.name} | {r['variants']} | {name} | {cells} | "
                  f"{r['cold']:.1f} | {r['warm']:.1f} |")  # fmt: skip
    if len(names) == 2:
        print()
        for i, run in enumerate(runs):
            old, new = results[names[0]][i], results[names[1]][i]
            diff = largest_difference(old["summary"], new["summary"])
            print(f"- {run.parent.name}: first call {old['cold']:.1f} s → {new['cold']:.1f} s "
                  f"({old['cold'] / new['cold']:.2f}×), largest relative difference of the "
                  f"numbers {diff:.1e}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
