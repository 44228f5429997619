"""Training curves per epoch: the best epoch marked, log scale where the first epochs dominate,
no panel for a number that never changed (it is named in the title instead)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

PANELS = (
    ("loss", "objective (nats/haplotype)"),
    ("reconstruction", "reconstruction NLL (nats/haplotype)"),
    ("kl", "KL (nats/haplotype)"),
    ("kl_weight", "KL weight β"),
    ("active_units", "active units (held-out)"),
    ("reencode", "re-encoding term"),
    ("generator_nll", "generator's NLL, LD head (nats/haplotype)"),
)


def _values(history: Mapping[str, Sequence[float]], key: str) -> list[np.ndarray]:
    return [np.asarray(history[k], dtype=float) for k in (key, f"val_{key}") if k in history]


def is_constant(history: Mapping[str, Sequence[float]], key: str) -> bool:
    """True when every logged value of ``key`` (training and validation) is the same."""
    values = np.concatenate([v for v in _values(history, key) if v.size] or [np.zeros(0)])
    values = values[np.isfinite(values)]
    return values.size > 0 and bool(np.ptp(values) == 0)


def wants_log_scale(values: Sequence[np.ndarray]) -> bool:
    """Log y when every value is positive and the first epochs dwarf the rest (max > 10 × median)."""
    finite = np.concatenate([v[np.isfinite(v)] for v in values] or [np.zeros(0)])
    if finite.size < 3 or (finite <= 0).any():
        return False
    return bool(finite.max() > 10 * np.median(finite))


def check_points(values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The epochs (1-based) at which a number logged only now and then was measured, and its
    values there: the history carries each check's value forward until the next, so a check is
    where the value first appears or changes (a not-a-number is no check)."""
    v = np.asarray(values, dtype=float)
    new = np.isfinite(v) & np.concatenate([[True], v[1:] != v[:-1]])
    return np.flatnonzero(new) + 1, v[new]


def training_curves(
    history: Mapping[str, Sequence[float]], title: str, best_epoch: int | None = None
) -> plt.Figure:
    """Objective, reconstruction, KL, β, active units and re-encoding (when logged) per epoch.

    Args:
        history: Per-epoch numbers as Keras logs them (``loss``, ``val_loss``, ...).
        title: Figure title (include the section name).
        best_epoch: The epoch whose weights were kept (1-based; a dashed line on every panel).
    """
    logged = [(k, lab) for k, lab in PANELS if k in history or f"val_{k}" in history]
    constant = [(k, lab) for k, lab in logged if is_constant(history, k)]
    panels = [(k, lab) for k, lab in logged if (k, lab) not in constant]
    cols = min(3, max(1, len(panels)))
    rows = max(1, -(-len(panels) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.8 * rows), squeeze=False,
                             layout="constrained")  # fmt: skip
    for ax, (key, label) in zip(axes.flat, panels, strict=False):
        train = history.get(key)
        val = history.get(f"val_{key}")
        n = len(train if train is not None else val)
        epochs = np.arange(1, n + 1)
        if key == "generator_nll":  # measured every check_every epochs, carried in between
            at, value = check_points(train if train is not None else val)
            ax.plot(at, value, marker="o", ms=3, color="#D55E00",
                    label="generator check (held-out)")  # fmt: skip
        elif key == "active_units":  # measured on the held-out set only
            ax.plot(epochs, train if train is not None else val, label="held-out",
                    color="#E69F00")  # fmt: skip
        elif key == "kl_weight":
            ax.plot(epochs, train, label="β(t) at epoch end", color="#0072B2")
        else:
            if train is not None:
                ax.plot(epochs, train, label="training", color="#0072B2")
            if val is not None:
                ax.plot(epochs, val, label="validation", color="#E69F00", ls="--")
        if key not in ("kl_weight", "active_units") and wants_log_scale(_values(history, key)):
            ax.set_yscale("log")
            label += " (log scale)"
        if best_epoch:
            ax.axvline(best_epoch, color="0.3", ls=":", lw=1.2, label=f"best epoch ({best_epoch})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_axis_off()
    if panels:
        handles: dict[str, object] = {}
        for ax in axes.flat:
            for h, t in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(t, h)
        fig.legend(list(handles.values()), list(handles), loc="outside lower center",
                   ncol=len(handles), fontsize=8)  # fmt: skip
    notes = [f"{lab.split(' (')[0]} = {history[k][0]:g} throughout" for k, lab in constant
             if k in history and len(history[k])]  # fmt: skip
    heading = title + (f"\n{'; '.join(notes)}" if notes else "")
    fig.suptitle(heading, fontsize=11)
    return fig
