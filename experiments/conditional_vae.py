#!/usr/bin/env python
"""A conditional VAE against ``sample --populations``: which conditions synthetic cohorts better.

The product conditions a synthetic cohort on a population without changing the model: the
default generator's code source is refitted on the population's training posteriors, and the
shared decoder and LD head turn those codes into haplotypes (:mod:`vae_genomics.generate.
conditional`). The alternative is a conditional VAE (Sohn et al. 2015), whose encoder and decoder
both see the population: q(z | x, c) and p(x | z, c), with c a one-hot label. Here it is the
package's :class:`~vae_genomics.models.vae.HaplotypeVAE`, with the same architecture, objective,
``train_step`` and early stopping as the run given. Only its input width and its decoder's input
change, and the label is appended to each haplotype's row.

For every group P of the run (``--level``) with at least ``MIN_TEMPLATES`` training haplotypes,
``--n`` haplotypes of P are drawn three ways, each decoded with the default generator's LD head
(K = 16, T = 0.7), fitted on all training haplotypes:

- ``product``: the run's own model, the code source refitted on P (``sample --populations P:N``);
- ``cvae-aggregate``: the conditional VAE, codes from P's aggregate posterior (spread 1.5) under
  the label P;
- ``cvae-prior``: the conditional VAE, codes from N(0, I) under the label P (a cVAE's own way).

Each cohort is scored by :func:`vae_genomics.evaluation.population_panel.population_panel` (what
``evaluate --synthetic --populations`` reports): classifier agreement, coverage in Hamming space,
AF correlation, F_ST and privacy loss against P's held-out haplotypes, beside P's training
haplotypes released in their place. The notebook is
experiments/notebook/population-conditioning.md.

Usage:
    python -m experiments.conditional_vae RUN [--level superpopulation] [--n 200] [--seed 1]
        [--json OUT.json]
    python -m experiments.conditional_vae --summarise OUT1.json OUT2.json ...
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import keras
import numpy as np
from keras import ops

from vae_genomics.commands.population_request import MIN_TEMPLATES
from vae_genomics.common.io import to_jsonable
from vae_genomics.evaluation.population_panel import population_panel
from vae_genomics.generate.conditional import sample_groups
from vae_genomics.generate.context import ContextHead
from vae_genomics.generate.generators import DEFAULT_GENERATOR, make_generator
from vae_genomics.models.inference import encode
from vae_genomics.models.losses import bernoulli_nll
from vae_genomics.models.vae import HaplotypeVAE
from vae_genomics.run.load import LoadedRun, load_run

HEAD_ORDER, HEAD_TEMPERATURE = 16, 0.7


def conditional_class(n_conditions: int) -> type[HaplotypeVAE]:
    """A :class:`HaplotypeVAE` whose rows are (haplotype, one-hot label of ``n_conditions``)."""

    class ConditionalVAE(HaplotypeVAE):
        N_CONDITIONS = n_conditions

        def build(self, input_shape) -> None:
            self.encoder.build((None, self.n_variants + self.N_CONDITIONS))
            self.decoder.build((None, self.latent_dim + self.N_CONDITIONS))
            keras.Model.build(self, input_shape)

        def decode_with(self, z, label, training: bool = False):
            """Logits (batch, n_variants) of codes ``z`` under one-hot ``label`` rows."""
            return self.decoder(ops.concatenate([z, label], axis=-1), training=training)

        def call(self, x, training: bool = False):
            mean, _ = self.encode(x, training=training)
            return self.decode_with(mean, x[:, self.n_variants :], training)

        def objective(self, x, training: bool = False, noise=None):
            """The package's Bernoulli ELBO (beta from the schedule, free bits when set), with
            the label read from the row's last columns and given to the decoder."""
            if self.spec.capacity.enabled or self.spec.reencode.weight > 0:
                raise NotImplementedError("the conditional VAE here has no capacity or reencode")
            x = ops.cast(x, "float32")
            hap, label = x[:, : self.n_variants], x[:, self.n_variants :]
            mean, log_var = self.encode(x, training=training)
            z = self.sample_posterior(mean, log_var, noise)
            logits = self.decode_with(z, label, training)
            reconstruction = ops.mean(bernoulli_nll(hap, logits))
            kl_vec, kl_dims = self.kl_terms(z, mean, log_var)
            kl_per_dim, kl = ops.mean(kl_dims, axis=0), ops.mean(kl_vec)
            beta = ops.convert_to_tensor(self.kl_weight)
            if self.spec.free_bits > 0:
                rate = beta * ops.sum(ops.maximum(kl_per_dim, self.spec.free_bits))
            else:
                rate = beta * kl
            return {"loss": reconstruction + rate, "reconstruction": reconstruction, "kl": kl,
                    "neg_elbo": reconstruction + kl, "kl_weight": beta,
                    "kl_per_dim": kl_per_dim}  # fmt: skip

    return ConditionalVAE


class GroupView:
    """The conditional VAE under one label, seen as an unconditional model (``encode``,
    ``decode``, ``n_variants``, ``latent_dim``), so the package's generators can use it."""

    def __init__(self, model: HaplotypeVAE, label: np.ndarray) -> None:
        self.model, self.label = model, np.asarray(label, dtype=np.float32)[None, :]
        self.n_variants, self.latent_dim = model.n_variants, model.latent_dim

    def _with_label(self, a) -> np.ndarray:
        a = np.asarray(a, dtype=np.float32)
        return np.concatenate([a, np.repeat(self.label, len(a), axis=0)], axis=1)

    def encode(self, x, training: bool = False):
        return self.model.encode(self._with_label(x), training=training)

    def decode(self, z, training: bool = False):
        return self.model.decoder(self._with_label(z), training=training)


def labels_of(run: LoadedRun, level: str) -> np.ndarray:
    labels = run.data.populations if level == "population" else run.superpopulations
    if labels is None:
        sys.exit(f"{run.run_dir}: the run has no {level} labels")
    return np.asarray(labels, dtype=object).astype(str)


def train_conditional(run: LoadedRun, x_train, x_val, onehot_train, onehot_val) -> HaplotypeVAE:
    """The conditional VAE with the run's architecture, objective and training settings."""
    cfg, base = run.config, run.model
    batch = cfg.training.batch_size
    keras.utils.set_random_seed(cfg.seed)
    model = conditional_class(onehot_train.shape[1])(
        n_variants=base.n_variants, latent_dim=base.latent_dim, hidden_units=base.hidden_units,
        activation=base.activation, dropout=base.dropout, objective=base.spec.model_dump(),
        steps_per_epoch=math.ceil(len(x_train) / batch), epochs=cfg.training.epochs, seed=cfg.seed,
    )  # fmt: skip
    model.compile(optimizer=keras.optimizers.Adam(cfg.training.learning_rate))
    stop = keras.callbacks.EarlyStopping(
        monitor="val_neg_elbo",
        mode="min",
        patience=cfg.training.patience,
        restore_best_weights=True,
    )
    rows = np.concatenate([x_train, onehot_train], axis=1).astype(np.float32)
    held = np.concatenate([x_val, onehot_val], axis=1).astype(np.float32)
    history = model.fit(rows, validation_data=(held,), epochs=cfg.training.epochs,
                        batch_size=batch, callbacks=[stop], verbose=0)  # fmt: skip
    best = int(np.argmin(history.history["val_neg_elbo"]))
    print(f"conditional VAE: {len(history.history['loss'])} epochs, best {best + 1}, held-out "
          f"-ELBO {history.history['val_neg_elbo'][best]:.2f} (the run's: "
          f"{json.loads((run.run_dir / 'metrics.json').read_text())['heldout']['neg_elbo']:.2f})",
          file=sys.stderr)  # fmt: skip
    return model


def cvae_cohorts(model, vocab, x_train, lab_train, groups, n, seed):
    """``cvae-aggregate`` and ``cvae-prior`` cohorts: group → haplotypes (n, m)."""
    views = {g: GroupView(model, (vocab == g).astype(np.float32)) for g in vocab}
    # one head for every label: each training haplotype decoded under its own label
    rng = np.random.default_rng(seed)
    logits = np.empty(x_train.shape, dtype=np.float32)
    posteriors = {}
    for g in vocab:
        rows = np.flatnonzero(lab_train == g)
        if len(rows) == 0:
            continue
        mean, log_var = (np.asarray(a) for a in encode(views[g], x_train[rows]))
        posteriors[g] = (mean, log_var)
        z = mean + np.exp(0.5 * log_var) * rng.standard_normal(mean.shape)
        logits[rows] = np.asarray(views[g].decode(z))
    head = ContextHead(order=HEAD_ORDER).fit(logits, x_train)
    out = {"cvae-aggregate": {}, "cvae-prior": {}}
    for i, g in enumerate(groups):
        for method, source in (("cvae-aggregate", "aggregate:1.5"), ("cvae-prior", "prior")):
            gen = make_generator(f"{source}/ld:{HEAD_ORDER}:{HEAD_TEMPERATURE}")
            gen.source.fit(*posteriors[g], seed)
            gen.head = head
            out[method][g] = gen.sample(views[g], n, seed=[seed, i])["samples"]
    return out


def product_cohort(run, x_train, lab_train, groups, n, seed):
    """``sample --populations`` with the run's own model: group → haplotypes (n, m)."""
    gen = make_generator(DEFAULT_GENERATOR, run.config.evaluation.gmm_max_components)
    mean, log_var = encode(run.model, x_train)
    gen.fit_posteriors(run.model, x_train, mean, log_var, seed=run.config.seed)
    out = {}
    for g in groups:
        rows = {g: np.flatnonzero(lab_train == g)}
        out[g] = sample_groups(gen, run.model, mean, log_var, rows, {g: n}, seed,
                               fit_seed=run.config.seed)[g]  # fmt: skip
    return out


def table(scores: dict[str, dict], groups: list[str]) -> str:
    """Markdown: method × group, each number beside its real reference."""
    head = ("| group | method | classifier syn (held-out) | cov Ham syn (ref) | AF r syn (ref) "
            "| F_ST syn (ref) | privacy loss syn (ref) |")  # fmt: skip
    lines = [head, "|---|---|---|---|---|---|---|"]
    for g in groups:
        for method, panel in scores.items():
            e = panel[g]
            if "note" in e:
                lines.append(f"| {g} | {method} | {e['note']} |||||")
                continue

            def pair(key: str, e=e) -> str:
                return f"{e[key]['synthetic']:.3f} ({e[key]['reference']:.3f})"

            c = e["classifier"]
            lines.append(
                f"| {g} | {method} | {c['synthetic']:.3f} ({c['heldout']:.3f}) | "
                f"{pair('coverage_hamming')} | {pair('af_correlation')} | {pair('fst')} | "
                f"{pair('privacy_loss')} |"
            )
    return "\n".join(lines)


def summarise(paths: list[Path]) -> str:
    """Markdown: per group and method, the mean ± SD over the ``--json`` files of several draws'
    seeds of the synthetic number and its reference (classifier: the held-out haplotypes')."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    keys = (("classifier", "synthetic", "heldout"), ("coverage_hamming", "synthetic", "reference"),
            ("af_correlation", "synthetic", "reference"), ("fst", "synthetic", "reference"),
            ("privacy_loss", "synthetic", "reference"))  # fmt: skip
    lines = [f"| group | method | seeds | {' | '.join(k for k, _, _ in keys)} |",
             "|---|---|---|" + "---|" * len(keys)]  # fmt: skip
    for group in runs[0][next(iter(runs[0]))]:
        for method in runs[0]:
            cells = []
            for key, syn, ref in keys:
                values = np.array([r[method][group][key][syn] for r in runs])
                refs = np.array([r[method][group][key][ref] for r in runs])
                cells.append(f"{values.mean():.3f} ± {values.std(ddof=1):.3f} ({refs.mean():.3f})")
            lines.append(f"| {group} | {method} | {len(runs)} | {' | '.join(cells)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, nargs="?", help="run directory")
    parser.add_argument("--level", choices=["population", "superpopulation"],
                        default="population")  # fmt: skip
    parser.add_argument("--n", type=int, default=200, help="synthetic haplotypes per group")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write every method's panel here")
    parser.add_argument("--summarise", type=Path, nargs="+", help="--json files: mean ± SD")
    args = parser.parse_args(argv)
    if args.summarise:
        print(summarise(args.summarise))
        return 0
    if args.run is None:
        parser.error("a run directory is needed (or --summarise)")
    run = load_run(args.run)
    labels = labels_of(run, args.level)
    hap = run.data.matrix.haplotypes
    x_train, x_val = hap[run.train_rows], hap[run.val_rows]
    lab_train, lab_val = labels[run.train_rows], labels[run.val_rows]
    vocab = np.unique(lab_train)
    names, counts = np.unique(lab_train, return_counts=True)
    groups = [g for g, c in zip(names, counts, strict=True)
              if g != "unknown" and c >= MIN_TEMPLATES and (lab_val == g).sum() >= 2]  # fmt: skip
    onehot = lambda lab: (lab[:, None] == vocab[None, :]).astype(np.float32)  # noqa: E731
    model = train_conditional(run, x_train, x_val, onehot(lab_train), onehot(lab_val))
    cohorts = {"product": product_cohort(run, x_train, lab_train, groups, args.n, args.seed)}
    cohorts.update(cvae_cohorts(model, vocab, x_train, lab_train, groups, args.n, args.seed))
    k = run.config.evaluation.prdc_k
    scores = {}
    for method, drawn in cohorts.items():
        x_syn = np.concatenate([drawn[g] for g in groups])
        syn_labels = np.repeat(groups, [len(drawn[g]) for g in groups])
        scores[method] = population_panel(x_syn, syn_labels, x_train, lab_train, x_val, lab_val,
                                          k=k, seed=args.seed)  # fmt: skip
    print(table(scores, groups))
    if args.json:
        args.json.write_text(json.dumps(to_jsonable(scores), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
