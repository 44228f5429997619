"""Training-speed benchmarks, measured side by side in one run (numbers go in BENCHMARKS.md).

1. The custom ``HaplotypeVAE.train_step`` (constant beta, no re-encoding) against an equivalent
   plain Keras functional model with a built-in loss (same Dense layers, batch, int8 data and
   compile options): seconds per epoch, median of ``--repeats`` interleaved epochs. Target ≤ 1.10×.
2. The re-encoding loss (``objective.reencode.weight > 0``) against the plain custom epoch.
   Target ≤ 1.6×.
3. Achieved training FLOP/s on a 5,000-haplotype × 5,000-variant section (the dense layers'
   forward + backward FLOPs, 6 · batch · in · out per layer per step) against the FLOP/s of a
   dense ``tf.matmul`` measured in the same process. Target ≥ 30%.
4. The options behind the defaults (``training.jit_compile``, ``training.steps_per_execution``,
   ``training.batch_size``) and the input pipeline, measured on the same section.
5. Scaling: seconds per epoch and peak RSS for 1k/5k/20k variants (5k haplotypes) and 1k/5k/20k
   haplotypes (5k variants), each point in a fresh subprocess (a few timed steps, extrapolated to
   an epoch), and where a section stops fitting in 24 GiB.

Usage: ``python benchmarks/bench_training.py [--repeats 5] [--skip-scaling] [--skip-options]``
(``make bench`` runs it through ``benchmarks/run_all.py``). Data are random 0/1 int8 matrices
(timing does not depend on the values). Raw numbers go to ``benchmarks/results/training.json``.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from training_report import print_report  # noqa: E402

HAPS, VARIANTS = 5_000, 5_000


# --- helpers ---------------------------------------------------------------------------------------
def _peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM; not inherited across fork/exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _haplotypes(n: int, m: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = np.empty((n, m), dtype=np.int8)
    for start in range(0, n, 1000):  # in chunks: no float temporaries of the whole matrix
        stop = min(n, start + 1000)
        x[start:stop] = rng.random((stop - start, m), dtype=np.float32) < 0.2
    return x


def _config(batch: int, jit: bool, spe: int, reencode: float = 0.0):
    from vae_genomics.config import Config

    return Config.model_validate(
        {
            "training": {
                "batch_size": batch,
                "jit_compile": jit,
                "steps_per_execution": spe,
                "epochs": 1000,
            },
            "objective": {"reencode": {"weight": reencode}},
        }
    )


def custom_model(n_variants: int, n_train: int, batch: int, jit: bool, spe: int, reencode=0.0):
    """The project's VAE, built and compiled exactly as ``fit_vae`` does."""
    from vae_genomics.models.factory import build_vae

    config = _config(batch, jit, spe, reencode)
    return build_vae(
        n_variants, config.model, config.objective, config.training, config.seed,
        steps_per_epoch=math.ceil(n_train / batch),
    )  # fmt: skip


def plain_model(vae, jit: bool, spe: int):
    """A plain Keras functional model with the VAE's Dense layers and a built-in loss.

    int8 input → cast → encoder Dense stack (to 2L) → first L columns (the mean) → decoder Dense
    stack → logits; ``BinaryCrossentropy(from_logits=True)`` against the input. Same layer widths
    and activations as ``vae``, so the same matmul FLOPs per step (no sampling, KL or trackers).
    """
    import keras
    from keras import layers, ops

    n, latent = vae.n_variants, vae.latent_dim
    inp = keras.Input((n,), dtype="int8")
    h = layers.Lambda(lambda t: ops.cast(t, "float32"))(inp)
    for width in vae.hidden_units:
        h = layers.Dense(width, activation=vae.activation)(h)
    h = layers.Dense(2 * latent)(h)
    h = layers.Lambda(lambda t: t[:, :latent])(h)
    for width in vae.hidden_units[::-1]:
        h = layers.Dense(width, activation=vae.activation)(h)
    out = layers.Dense(n)(h)
    model = keras.Model(inp, out)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        jit_compile=jit,
        steps_per_execution=spe,
    )
    return model


def dense_flops_per_example(vae) -> tuple[int, list[tuple[int, int]]]:
    """Forward + backward FLOPs of the dense layers per haplotype: sum over layers of 6·in·out.

    (Forward 2·in·out, backward 2·in·out for the weight gradient and 2·in·out for the input
    gradient; the first layer needs no input gradient, so this slightly over-counts it, as the
    usual 6·N rule does.) Re-encoding adds a second encoder pass, not counted here.
    """
    widths_enc = [vae.n_variants, *vae.hidden_units, 2 * vae.latent_dim]
    widths_dec = [vae.latent_dim, *vae.hidden_units[::-1], vae.n_variants]
    shapes = [*itertools.pairwise(widths_enc), *itertools.pairwise(widths_dec)]
    return sum(6 * a * b for a, b in shapes), shapes


def time_epochs(runs: dict, repeats: int, steps_per_epoch=None) -> dict[str, list[float]]:
    """Seconds per epoch of each ``name: (model, dataset)``, one warm-up epoch each (tracing,
    compilation), then ``repeats`` rounds in which every model trains one epoch, interleaved.

    An epoch is timed from ``on_epoch_begin`` to ``on_epoch_end`` (what every epoch of a long
    ``fit`` costs); the one-off set-up and tear-down of each ``fit`` call are left out.
    """
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds = time.perf_counter() - self.started

    for model, ds in runs.values():
        model.fit(ds, epochs=1, steps_per_epoch=steps_per_epoch, verbose=0)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, (model, ds) in runs.items():
            timer = EpochTimer()
            model.fit(ds, epochs=1, steps_per_epoch=steps_per_epoch, verbose=0, callbacks=[timer])
            times[name].append(timer.seconds)
    return times


def median_seconds(run, repeats: int = 5) -> float:
    """Median wall seconds of ``run()`` (its result fetched) over ``repeats`` calls after one
    warm-up call (tracing, compilation)."""
    run().numpy()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run().numpy()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def matmul_flops(repeats: int, batch: int) -> dict[str, float]:
    """Dense float32 matmul FLOP/s that TensorFlow reaches here, each a loop of ``inner`` products
    in one ``tf.function``: a chain of square 2048³ products, and the training's largest layer
    shape (batch × 5,000 × 1,024). Every product depends on the previous one, so graph
    optimisation cannot merge them (identical products would be computed once)."""
    import tensorflow as tf

    inner = 10
    out = {}
    shapes = {"2048x2048x2048 chain": (2048, 2048, 2048),
              f"{batch}x{VARIANTS}x1024 (first layer)": (batch, VARIANTS, 1024)}  # fmt: skip
    for label, (m, k, n) in shapes.items():
        a = tf.random.normal((m, k))
        b = tf.random.normal((k, n), stddev=k**-0.5)

        @tf.function
        def run(a=a, b=b, square=(k == n)):
            acc = tf.zeros((a.shape[0], b.shape[1]))
            for _ in tf.range(inner):
                y = tf.matmul(a, b)
                # square: a chain; else a tiny data dependency on the previous product
                a = y if square else a + 1e-30 * y[0, 0]
                acc += y
            return acc

        out[label] = 2 * m * k * n * inner / median_seconds(run, repeats)
    return out


# --- one scaling point (run in a subprocess) -------------------------------------------------------
def scaling_point(haps: int, variants: int, steps: int, batch: int, jit: bool, spe: int) -> dict:
    """Train ``steps`` timed steps on a haps × variants section the way ``fit_vae`` feeds it
    (80% training split, ``make_dataset``), extrapolate to an epoch, report peak RSS."""
    import keras

    from vae_genomics.train.fit import make_dataset

    rss_start = _rss_mb()
    x = _haplotypes(haps, variants)
    n_train = int(0.8 * haps)
    x_train = x[:n_train]
    keras.utils.set_random_seed(0)
    vae = custom_model(variants, n_train, batch, jit, spe)
    steps = max(spe, steps - steps % spe)
    ds = make_dataset(x_train, batch, shuffle=True, seed=0).repeat()
    # warm-up (trace and compile), then `steps` steps timed inside one epoch
    per_step = time_epochs({"point": (vae, ds)}, 1, steps_per_epoch=steps)["point"][0] / steps
    flops, _ = dense_flops_per_example(vae)
    return {
        "haplotypes": haps,
        "variants": variants,
        "params": vae.count_params(),
        "hidden": list(vae.hidden_units),
        "seconds_per_step": per_step,
        "steps_per_epoch": math.ceil(n_train / batch),
        "seconds_per_epoch": per_step * math.ceil(n_train / batch),
        "gflops_per_s": flops * batch / per_step / 1e9,
        "peak_rss_mb": _peak_rss_mb(),
        "start_rss_mb": rss_start,
    }


def run_scaling(args, batch: int, jit: bool, spe: int) -> list[dict]:
    points = [(HAPS, v) for v in (1_000, 5_000, 20_000)] + [(h, VARIANTS) for h in (1_000, 20_000)]
    results = []
    for haps, variants in points:
        cmd = [sys.executable, __file__, "--point", f"{haps},{variants}",
               "--batch", str(batch), "--jit", str(int(jit)), "--spe", str(spe),
               "--steps", str(args.steps)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            print(proc.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"scaling point {haps}x{variants} failed")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return results


# --- main ------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=16, help="timed steps per scaling point")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--skip-options", action="store_true")
    parser.add_argument("--point", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--jit", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--spe", type=int, default=None, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(argv)

    if args.point:
        haps, variants = (int(v) for v in args.point.split(","))
        point = scaling_point(haps, variants, args.steps, args.batch, bool(args.jit), args.spe)
        print(json.dumps(point))
        return 0

    import keras
    import numpy as np
    import tensorflow as tf

    from vae_genomics.config import TrainingConfig
    from vae_genomics.train.fit import make_dataset

    defaults = TrainingConfig()
    batch, jit, spe = defaults.batch_size, defaults.jit_compile, defaults.steps_per_execution
    load_before = _loadavg()
    started_all = time.perf_counter()
    results: dict = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "defaults": {"batch_size": batch, "jit_compile": jit, "steps_per_execution": spe},
        "section": {"haplotypes": HAPS, "variants": VARIANTS, "train_rows": int(0.8 * HAPS)},
    }
    x = _haplotypes(HAPS, VARIANTS)
    x_train = x[: int(0.8 * HAPS)]
    n_train = len(x_train)

    # 1-3: side by side at the defaults
    keras.utils.set_random_seed(0)
    vae = custom_model(VARIANTS, n_train, batch, jit, spe)
    reenc = custom_model(VARIANTS, n_train, batch, jit, spe, reencode=1.0)
    plain = plain_model(vae, jit, spe)
    ds = make_dataset(x_train, batch, shuffle=True, seed=0)
    pairs = ds.map(lambda t: (t, t))
    times = time_epochs(
        {"custom": (vae, ds), "plain": (plain, pairs), "reencode": (reenc, ds)}, args.repeats
    )
    med = {k: statistics.median(v) for k, v in times.items()}
    flops_ex, shapes = dense_flops_per_example(vae)
    steps = math.ceil(n_train / batch)
    epoch_flops = flops_ex * n_train  # the last, short batch counts its own rows
    peak = matmul_flops(args.repeats, batch)
    results["side_by_side"] = {"seconds": times, "median": med,
                               "custom_vs_plain": med["custom"] / med["plain"],
                               "reencode_vs_custom": med["reencode"] / med["custom"]}  # fmt: skip
    results["flops"] = {
        "layer_shapes": shapes,
        "flops_per_example": flops_ex,
        "steps_per_epoch": steps,
        "epoch_flops": epoch_flops,
        "achieved": epoch_flops / med["custom"],
        "achieved_plain": epoch_flops / med["plain"],
        "matmul": peak,
        "fraction": epoch_flops / med["custom"] / max(peak.values()),
    }
    results["load_after_side_by_side"] = _loadavg()

    # 4: options and input pipelines (same section)
    if not args.skip_options:
        # the large section (compute-bound) and a small one (per-step overhead matters)
        small = x_train[:, :1_000]
        grid = {
            "5k × 5k": (x_train, [(64, False, 1), (128, False, 1), (128, True, 1),
                                  (128, True, 4), (256, True, 4)]),
            "5k × 1k": (small, [(64, False, 1), (128, False, 1), (128, True, 1),
                                (128, True, 4), (256, True, 4)]),
        }  # fmt: skip
        results["options"] = {}
        for section, (data, combos) in grid.items():
            runs = {}
            for b, j, sp in combos:
                keras.utils.set_random_seed(0)
                runs[f"{section}: batch {b}, jit {j}, spe {sp}"] = (
                    custom_model(data.shape[1], len(data), b, j, sp),
                    make_dataset(data, b, shuffle=True, seed=0),
                )
            opt_times = time_epochs(runs, max(3, args.repeats - 2))
            results["options"].update({k: statistics.median(v) for k, v in opt_times.items()})

        # input pipeline alone: one pass over the batches, nothing trained
        def iterate(dataset) -> float:
            started = time.perf_counter()
            for _ in dataset:
                pass
            return time.perf_counter() - started

        const = tf.constant(x_train)
        pipelines = {
            "make_dataset (from_tensor_slices, shuffle rows, batch, prefetch)": ds,
            "shuffled indices, batch, gather": tf.data.Dataset.range(n_train)
            .shuffle(n_train, seed=0)
            .batch(batch)
            .map(lambda i: tf.gather(const, i))
            .prefetch(tf.data.AUTOTUNE),
            "float32 copy (what to avoid)": make_dataset(
                x_train.astype(np.float32), batch, shuffle=True, seed=0
            ),
        }
        for dataset in pipelines.values():
            iterate(dataset)
        results["pipelines"] = {
            k: statistics.median(iterate(d) for _ in range(args.repeats))
            for k, d in pipelines.items()
        }

    # 5: scaling curves
    if not args.skip_scaling:
        results["scaling"] = run_scaling(args, batch, jit, spe)
    results["load_end"] = _loadavg()
    results["load_start"] = load_before
    results["seconds_total"] = time.perf_counter() - started_all
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "training.json").write_text(json.dumps(results, indent=2))
    print_report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
