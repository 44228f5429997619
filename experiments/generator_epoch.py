#!/usr/bin/env python
"""Train a section and keep the epoch whose *generator* fits held-out haplotypes best.

Early stopping reads the held-out −ELBO of the VAE alone; the default generator decodes through
the LD head (``aggregate:1.5/ld:16:0.7``). Every ``--every`` epochs this experiment fits the head
on the training haplotypes (one posterior draw each, as the generator does) and computes the
held-out importance-weighted NLL with the head (``--samples`` draws; the report uses 100),
keeping the weights of the best check. After training (early stopping unchanged), those weights
replace early stopping's, so the run's evaluation and report describe the chosen epoch. The
checks' values and seconds go to ``--out``.

Usage:
    python -m experiments.generator_epoch --every 5 --samples 16 --out J.json -- train --config C ...
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

import numpy as np

log = logging.getLogger("generator_epoch")


def make_callback(
    x_train: np.ndarray, x_val: np.ndarray, every: int, samples: int, order: int, rows: int = 0
):
    import keras

    from vae_genomics.evaluation.likelihood import importance_weighted_nlls
    from vae_genomics.generate.context import ContextHead
    from vae_genomics.generate.samplers import decode_logits
    from vae_genomics.models.inference import encode

    if 0 < rows < len(x_train):  # the head of the check fitted on a fixed subset
        x_train = x_train[np.sort(np.random.default_rng(0).permutation(len(x_train))[:rows])]

    class GeneratorEpoch(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.checks: list[dict] = []
            self.best = np.inf
            self.best_weights = None
            self.best_epoch = 0

        def on_epoch_end(self, epoch, logs=None):
            if (epoch + 1) % every:
                return
            started = time.perf_counter()
            rng = np.random.default_rng(epoch)
            mean, log_var = encode(self.model, x_train)
            z = mean + np.exp(0.5 * log_var) * rng.standard_normal(np.shape(mean))
            head = ContextHead(order=order).fit(decode_logits(self.model, z), x_train)
            fitted = time.perf_counter()
            bounds = importance_weighted_nlls(self.model, x_val, (None, head), samples, epoch)
            value = float(bounds[1]["nll"])
            check = {
                "epoch": epoch + 1, "nll_ld_head": value, "nll": float(bounds[0]["nll"]),
                "val_loss": float((logs or {}).get("val_loss", np.nan)),
                "head_seconds": fitted - started, "bound_seconds": time.perf_counter() - fitted,
            }  # fmt: skip
            self.checks.append(check)
            log.info("generator check %s", check)
            if value < self.best:
                self.best, self.best_epoch = value, epoch + 1
                self.best_weights = self.model.get_weights()

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)
                log.info("keeping the weights of epoch %d (generator NLL %.3f)",
                         self.best_epoch, self.best)  # fmt: skip

    return GeneratorEpoch()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--order", type=int, default=16)
    parser.add_argument("--rows", type=int, default=0, help="training rows of the head (0: all)")
    parser.add_argument("--out", required=True, help="JSON of the checks")
    parser.add_argument("train_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    train_args = [a for a in args.train_args if a != "--"]

    import vae_genomics.commands.train_section as train_section
    import vae_genomics.train.fit as fit
    from vae_genomics.cli.main import main as cli_main

    state: dict = {}
    original_fit, original_callbacks = train_section.fit_vae, fit._callbacks

    def fit_vae(config, x_train, x_val, *a, **k):
        state["x"] = (x_train, x_val)
        result = original_fit(config, x_train, x_val, *a, **k)
        state["result"] = result
        return result

    def callbacks(config, model, x_val, *a, **k):
        made, guard, saver = original_callbacks(config, model, x_val, *a, **k)
        cb = make_callback(*state["x"], args.every, args.samples, args.order, args.rows)
        state["cb"] = cb
        at = next(i for i, c in enumerate(made) if type(c).__name__ == "EarlyStopping")
        made.insert(at + 1, cb)  # after early stopping: its restore runs first
        return made, guard, saver

    train_section.fit_vae, fit._callbacks = fit_vae, callbacks
    code = cli_main(train_args)
    cb = state.get("cb")
    if cb is not None:
        out = {"every": args.every, "samples": args.samples, "best_epoch": cb.best_epoch,
               "checks": cb.checks}  # fmt: skip
        with open(args.out, "w") as handle:
            json.dump(out, handle, indent=1)
    return code


if __name__ == "__main__":
    sys.exit(main())
