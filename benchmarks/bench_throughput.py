"""Training throughput of small sections: batch size, several sections in one graph, one thread per job.

``make bench ARGS="--only throughput"`` (= ``python benchmarks/run_all.py --only throughput``).

A 1,000-variant section (5,000 haplotypes, 80% trained, the default architecture: hidden
[256, 64], latent 32) spends most of a step outside its matmuls at the default batch of 64. Three
ways to do more useful work per second, each point in a fresh process, against the dense matmul
FLOP/s TensorFlow reaches here (a chain of 2048³ products, ``bench_training.matmul_flops``):

- **larger batches**: one section at batch 64, 128, 256, 512 (FLOP/s of the dense layers,
  ``bench_training.dense_flops_per_example``). Fewer optimiser steps per epoch, so results change:
  with ``--data`` (the 1000 Genomes cohort, default ``../shared/data``) the first
  ``--quality-sections`` BED sections are fitted at batch 64 and at larger batches with the
  learning rate scaled (by the square root and linearly), and the held-out objective and fit time
  are compared;
- **K sections in one compiled graph**: K independent VAEs in one ``keras.Model`` whose
  ``train_step`` sums their objectives (disjoint weights, so each gets its own gradient, and Adam
  is per weight): the results must be those of K separate fits, which is checked (two sections,
  three epochs, same initial weights: largest weight difference);
- **more optimiser steps per call into the compiled graph** (``training.steps_per_execution``
  16 and 64 against 4): the same steps in the same order, so the same weights, with fewer round
  trips from Python per step;
- **one thread per job, two jobs at once**: two processes, each one section at batch 64 with
  TensorFlow limited to one thread (``runtime.threads: 1``), run concurrently; their FLOP/s add up.

Beside them, **the model's matmuls alone** at each batch: every product of a training step's dense
layers (forward, input gradient and weight gradient of each layer, at the section's own shapes)
in one XLA-compiled function, nothing else: what a step could reach if all its other work were
free, and so the most any arrangement of these layers can get from this CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
HAPS, VARIANTS, STEPS = 5_000, 1_000, 256
QUALITY = ((64, 1e-3), (256, 2e-3), (256, 4e-3), (512, 2.83e-3))


def _joint_model(vaes):
    """K compiled VAEs trained by one ``train_step``: the sum of their objectives."""
    import keras
    import tensorflow as tf

    class Joint(keras.Model):
        def __init__(self, members):
            super().__init__()
            self.members = list(members)
            self.tracker = keras.metrics.Mean(name="loss")

        @property
        def metrics(self):
            return [self.tracker]

        def train_step(self, data):
            for vae in self.members:
                vae.update_schedules(self.optimizer.iterations)
            with tf.GradientTape() as tape:
                pairs = zip(self.members, data, strict=True)
                total = sum(v.objective(x, training=True)["loss"] for v, x in pairs)
            grads = tape.gradient(total, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
            self.tracker.update_state(total)
            return {"loss": self.tracker.result()}

    model = Joint(vaes)
    first = vaes[0]
    model.compile(
        optimizer=keras.optimizers.Adam(float(first.optimizer.learning_rate.numpy())),
        jit_compile=True,
        steps_per_execution=4,
    )
    return model


def _sections(k: int, batch: int, repeat: bool, spe: int = 4):
    """K random 1,000-variant sections, their VAEs (as ``fit_vae`` builds them) and datasets."""
    import keras
    from bench_training import _haplotypes, custom_model

    from vae_genomics.train.fit import make_dataset

    keras.utils.set_random_seed(0)
    xs = [_haplotypes(HAPS, VARIANTS, seed=i)[: int(0.8 * HAPS)] for i in range(k)]
    vaes = [custom_model(VARIANTS, len(x), batch, True, spe) for x in xs]
    data = [make_dataset(x, batch, shuffle=True, seed=i) for i, x in enumerate(xs)]
    return vaes, [d.repeat() for d in data] if repeat else data


def point(way: str, threads: int) -> dict:
    """One measurement (in a fresh process): ``peak``, ``batch:B``, ``spe:S``, ``joint:K``,
    ``shapes:B`` or ``same``."""
    from vae_genomics.common.logs import import_tensorflow_quietly
    from vae_genomics.train.threads import limit_threads

    import_tensorflow_quietly()
    limit_threads(threads)
    import numpy as np
    import tensorflow as tf
    from bench_training import dense_flops_per_example, matmul_flops, time_epochs

    kind, _, value = way.partition(":")
    if kind == "peak":  # the higher of the plain and the XLA-compiled chain
        plain = matmul_flops(5, 64)["2048x2048x2048 chain"] / 1e9
        xla = _xla_chain(2048)
        return {"gflops": max(plain, xla), "plain": plain, "xla": xla}
    if kind == "shapes":
        return _layer_matmuls(int(value))
    if kind == "same":
        alone, data = _sections(2, 64, repeat=False)
        twins, twin_data = _sections(2, 64, repeat=False)  # fresh datasets: the same batches
        for a, t in zip(alone, twins, strict=True):
            t.set_weights(a.get_weights())
        for vae, ds in zip(alone, data, strict=True):
            vae.fit(ds, epochs=3, verbose=0)
        _joint_model(twins).fit(tf.data.Dataset.zip(tuple(twin_data)), epochs=3, verbose=0)
        diff = max(
            float(np.max(np.abs(np.asarray(p) - np.asarray(q))))
            for a, t in zip(alone, twins, strict=True)
            for p, q in zip(a.trainable_weights, t.trainable_weights, strict=True)
        )
        return {"max_abs_weight_difference": diff}
    k, batch, spe = (int(value), 64, 4) if kind == "joint" else (1, int(value), 4)
    if kind == "spe":  # one section at batch 64, ``value`` optimiser steps per execution
        batch, spe = 64, int(value)
    vaes, data = _sections(k, batch, repeat=True, spe=spe)
    model, ds = (
        (_joint_model(vaes), tf.data.Dataset.zip(tuple(data))) if k > 1 else (vaes[0], data[0])
    )
    per_step = (
        statistics.median(time_epochs({"m": (model, ds)}, 3, steps_per_epoch=STEPS)["m"]) / STEPS
    )
    flops = k * dense_flops_per_example(vaes[0])[0] * batch
    return {"ms_per_step": 1e3 * per_step, "gflops": flops / per_step / 1e9,
            "hidden": list(vaes[0].hidden_units)}  # fmt: skip


def _xla_chain(n: int, inner: int = 10) -> float:
    """GFLOP/s of a chain of ``inner`` dependent n³ products in one XLA-compiled function (on
    some CPUs XLA's matmul beats TensorFlow's own: 142 against 125 GFLOP/s on a 2-core EPYC)."""
    import tensorflow as tf
    from bench_training import median_seconds

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n), stddev=n**-0.5)

    @tf.function(jit_compile=True)
    def run(a=a, b=b):
        acc = tf.zeros((n, n))
        for _ in tf.range(inner):
            a = tf.matmul(a, b)
            acc += a
        return acc

    return inner * 2 * n**3 / median_seconds(run) / 1e9


def _layer_matmuls(batch: int, inner: int = 32) -> dict:
    """FLOP/s of a training step's dense-layer products alone at ``batch`` (module docstring):
    per layer (a, b), X (batch × a) @ W, dY (batch × b) @ Wᵀ and Xᵀ @ dY, ``inner`` times in one
    XLA-compiled function, each round depending on the last (so none is merged away)."""
    import tensorflow as tf
    from bench_training import dense_flops_per_example, median_seconds

    vaes, _ = _sections(1, batch, repeat=False)
    flops, shapes = dense_flops_per_example(vaes[0])
    mats = [(tf.random.normal((batch, a)), tf.random.normal((a, b), stddev=a**-0.5),
             tf.random.normal((batch, b))) for a, b in shapes]  # fmt: skip

    @tf.function(jit_compile=True)
    def run(mats=mats):
        acc = tf.zeros(())
        for _ in tf.range(inner):
            for x, w, dy in mats:
                eps = 1e-30 * acc
                y = tf.matmul(x + eps, w)
                dx = tf.matmul(dy + eps, w, transpose_b=True)
                dw = tf.matmul(x + eps, dy, transpose_a=True)
                acc += y[0, 0] + dx[0, 0] + dw[0, 0]
        return acc

    per_step = median_seconds(run) / inner
    return {"ms_per_step": 1e3 * per_step, "gflops": flops * batch / per_step / 1e9}


def _spawn(way: str, threads: int) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [sys.executable, __file__, "--point", way, "--threads", str(threads)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _result(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate()
    if proc.returncode:
        sys.stderr.write(err[-3000:])
        raise SystemExit(f"{' '.join(proc.args[2:])} failed")
    return json.loads(out.strip().splitlines()[-1])


def quality(data_dir: Path, n_sections: int) -> list[dict]:
    """Fit the first BED sections of the 1000 Genomes cohort at each ``QUALITY`` batch and rate."""
    import yaml

    from vae_genomics.common.logs import import_tensorflow_quietly, setup_logging

    setup_logging(0)
    import_tensorflow_quietly()
    from vae_genomics.train.fit import fit_vae, prepare, split_haplotypes

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        raw = {"runs_dir": f"{tmp}/runs", "sections_dir": f"{tmp}/sections",
               "data": {"vcf": str(data_dir / "1kg_chr1_2.0-3.0Mb.vcf.gz"), "sections": "bed",
                        "bed": str(data_dir / "1kg_chr1_2.0-3.0Mb.sections.bed")}}  # fmt: skip
        config_path = Path(tmp) / "config.yaml"
        config_path.write_text(yaml.safe_dump(raw))
        bed = (data_dir / "1kg_chr1_2.0-3.0Mb.sections.bed").read_text().splitlines()
        for section in [line.split("\t")[3] for line in bed if line.strip()][:n_sections]:
            for batch, rate in QUALITY:
                override = {"training": {"batch_size": batch, "learning_rate": rate}}
                config, data = prepare(config_path, section, override)
                x = data.matrix.haplotypes
                train, val = split_haplotypes(len(x), config.training.validation_fraction,
                                              config.seed, data.matrix.haplotype_ids)  # fmt: skip
                fitted = fit_vae(config, x[train], x[val], label=section)
                best = fitted.best_epoch - 1
                rows.append({"section": section, "variants": x.shape[1], "batch": batch,
                             "rate": rate, "epochs": len(fitted.history["val_loss"]),
                             "fit_s": fitted.seconds,
                             "neg_elbo": fitted.history["val_neg_elbo"][best]})  # fmt: skip
    return rows


def _print_throughput(peak: dict, rows: list[tuple[str, dict]], same: dict) -> None:
    print("| way (1,000 variants, 4,000 training haplotypes) | ms per step | GFLOP/s | × batch 64 | "
          "% of matmul peak |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: |")
    base = rows[0][1]["gflops"]
    for label, r in rows:
        step = f"{r['ms_per_step']:.2f}" if "ms_per_step" in r else "—"
        print(f"| {label} | {step} | {r['gflops']:.1f} | {r['gflops'] / base:.2f} | "
              f"{100 * r['gflops'] / peak['2']:.0f} |")  # fmt: skip
    print(f"\nMatmul peak (2048³ chain, the higher of plain and XLA): {peak['2']:.1f} GFLOP/s "
          f"with 2 threads, {peak['1']:.1f} "
          f"with 1. K sections in one graph against K separate fits, same initial weights, "
          f"3 epochs: largest weight difference {same['max_abs_weight_difference']:.3g}.")  # fmt: skip


def _print_quality(rows: list[dict]) -> None:
    print("\n| section (variants) | batch | learning rate | epochs | fit (s) | held-out −ELBO |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['section']} ({r['variants']}) | {r['batch']} | {r['rate']:g} | {r['epochs']} "
              f"| {r['fit_s']:.1f} | {r['neg_elbo']:.2f} |")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--point", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--quality-sections", type=int, default=3)
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    sys.path.insert(0, str(HERE))
    if args.point:
        print(json.dumps(point(args.point, args.threads)))
        return 0
    load = os.getloadavg()[0]
    peak = {str(t): _result(_spawn("peak", t))["gflops"] for t in (2, 1)}
    rows = [
        (f"one section, batch {b}, 4 steps per execution", _result(_spawn(f"batch:{b}", 2)))
        for b in (64, 128, 256, 512)
    ]
    rows += [(f"{k} sections in one graph, batch 64", _result(_spawn(f"joint:{k}", 2)))
             for k in (2, 4, 8)]  # fmt: skip
    rows += [(f"one section, batch 64, {s} steps per execution", _result(_spawn(f"spe:{s}", 2)))
             for s in (16, 64)]  # fmt: skip
    for way in ("spe:4", "spe:16"):
        pair = [_result(p) for p in [_spawn(way, 1), _spawn(way, 1)]]
        label = f"two jobs at once, 1 thread each, batch 64, {way[4:]} steps per execution"
        rows.append((label, {"gflops": sum(r["gflops"] for r in pair)}))
    rows += [(f"the model's matmuls alone, batch {b}", _result(_spawn(f"shapes:{b}", 2)))
             for b in (64, 128, 256, 512)]  # fmt: skip
    same = _result(_spawn("same", 2))
    print("## Training throughput of small sections\n")
    print(f"{os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M %Z')}, load average {load:.1f} → "
          f"{os.getloadavg()[0]:.1f}; {STEPS} timed steps per point, median of 3 epochs\n")  # fmt: skip
    _print_throughput(peak, rows, same)
    vcf = args.data / "1kg_chr1_2.0-3.0Mb.vcf.gz"
    if args.quality_sections and vcf.is_file():
        _print_quality(quality(args.data, args.quality_sections))
    elif args.quality_sections:
        print(
            f"\nbatch size against held-out objective: skipped, {vcf} not found (give --data DIR)"
        )
    return 0 if same["max_abs_weight_difference"] < 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
