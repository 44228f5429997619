"""What a run directory holds beside the model: latent table, evaluation, metrics, report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vae_genomics import __version__
from vae_genomics.common.io import atomic_write_text, to_jsonable
from vae_genomics.config import Config
from vae_genomics.data import SectionData
from vae_genomics.evaluation.result import Evaluation
from vae_genomics.evaluation.summary import evaluate_model
from vae_genomics.models.inference import encode
from vae_genomics.models.vae import HaplotypeVAE
from vae_genomics.run.directory import REPORT_DIR


def write_latent(path: Path, model: HaplotypeVAE, data: SectionData, val_rows: np.ndarray) -> None:
    mean, log_var = encode(model, data.matrix.haplotypes)
    sd = np.exp(0.5 * log_var)
    split = np.full(len(mean), "train", dtype=object)
    split[val_rows] = "validation"
    table = pd.DataFrame(
        {
            "haplotype": data.matrix.haplotype_ids,
            "sample": data.matrix.haplotype_samples,
            "population": data.populations if data.populations is not None else "unknown",
            "split": split,
        }
    )
    dims = range(1, model.latent_dim + 1)
    table = pd.concat(
        [
            table,
            pd.DataFrame(mean, columns=[f"mean_{k}" for k in dims]),
            pd.DataFrame(sd, columns=[f"sd_{k}" for k in dims]),
        ],
        axis=1,
    )
    atomic_write_text(path, table.to_csv(sep="\t", index=False, float_format="%.6g"))


def evaluate_section(
    config: Config,
    data: SectionData,
    model: HaplotypeVAE,
    x_train: np.ndarray,
    x_val: np.ndarray,
    val_rows: np.ndarray,
) -> Evaluation:
    """The evaluation summary of a trained model (``evaluation.summary.evaluate_model``)."""
    populations = None if data.populations is None else data.populations[val_rows]
    return evaluate_model(
        model,
        x_train,
        x_val,
        config.evaluation,
        populations=populations,
        n_components=config.report.n_components,
        seed=config.seed,
        positions=data.matrix.positions,
    )


def run_metrics(
    model: HaplotypeVAE,
    data: SectionData,
    x_train: np.ndarray,
    x_val: np.ndarray,
    history: dict[str, list[float]],
    best_epoch: int,
    seconds: float,
    evaluation: Evaluation,
) -> dict[str, Any]:
    summary = dict(evaluation.summary)
    heldout = summary.pop("heldout")
    return to_jsonable(
        {
            "version": __version__,
            "section": data.section.to_dict(),
            "n_haplotypes": int(data.matrix.n_haplotypes),
            "n_train": len(x_train),
            "n_validation": len(x_val),
            "latent_dim": model.latent_dim,
            "epochs_run": len(history["loss"]),
            "best_epoch": best_epoch,
            "train_seconds": round(seconds, 2),
            "heldout": heldout,
            "active_units": summary["latent"]["active_units"],
            "activity": summary["latent"]["activity"],
            "filters": data.matrix.filter_counts,
            "evaluation": summary,
        }
    )


def run_report_arguments(
    run_dir: Path,
    section: str,
    run_name: str,
    config: Config,
    evaluation: Evaluation,
    history: dict[str, list[float]],
    metrics: dict[str, Any],
    positions: np.ndarray | None = None,
    groups: dict[str, str] | None = None,
    command: str = "",
    report_dir: Path | None = None,
) -> dict[str, Any]:
    """The keyword arguments of :func:`~vae_genomics.report.build.write_section_report` for one
    run: plain data, picklable, so another process can draw it.

    ``positions`` (bp of each variant) put the traversal and LD axes in bp; ``groups``
    (population → superpopulation) group the population colours; ``command`` is shown in the
    page's header with the version and date. ``report_dir`` writes the report elsewhere (a staging
    directory later renamed to ``<run_dir>/report``; its links are those of the final place).
    """
    from datetime import UTC, datetime

    final = Path(run_dir) / REPORT_DIR
    out = final if report_dir is None else Path(report_dir)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = f"vae-genomics {__version__} · {stamp}" + (f" · {command}" if command else "")
    return {
        "out_dir": out,
        "title": f"section {section} · run {run_name}",
        "evaluation": evaluation,
        "history": history,
        "summary": report_summary(metrics),
        "config": config.to_dict(),
        "ld_window": config.report.ld_window,
        "metrics": metrics,
        "positions": positions,
        "groups": groups,
        "header": header,
        "index_link": _index_link(final, Path(config.runs_dir)),
        "dpi": config.report.dpi,
        "svg": config.report.svg,
        "figures": config.report.figures,
    }


def _index_link(report_dir: Path, runs_dir: Path) -> str | None:
    """Relative link from a report to ``<runs_dir>/index.html`` (``None`` outside ``runs_dir``)."""
    import os

    report_dir, runs_dir = report_dir.resolve(), runs_dir.resolve()
    if not report_dir.is_relative_to(runs_dir):
        # a run moved elsewhere: ``<runs>/<section>/<run>/report`` keeps the usual layout
        runs_dir = report_dir.parent.parent.parent
        if not (runs_dir / "index.html").is_file():
            return None
    return os.path.relpath(runs_dir / "index.html", report_dir)


def report_summary(metrics: dict[str, Any]) -> dict[str, Any]:
    held = metrics["heldout"]
    ev = metrics["evaluation"]
    iw, mi, gmm = ev["iw_nll"], ev["mutual_information"], ev["gmm"]
    return {
        "section": metrics["section"]["name"],
        "variants": metrics["section"]["n_variants"],
        "haplotypes (train / held-out)": f"{metrics['n_train']} / {metrics['n_validation']}",
        "KL weight β": held["kl_weight"],
        "held-out −ELBO (nats/haplotype)": held["neg_elbo"],
        "held-out reconstruction NLL (distortion)": held["reconstruction"],
        "held-out KL (rate)": held["kl"],
        f"held-out importance-weighted NLL (K = {iw['n_samples']})": iw["nll"],
        **(
            {"held-out IW-NLL with the generator's LD head": iw["nll_ld_head"]}
            if "nll_ld_head" in iw
            else {}
        ),
        **_likelihood_attack_row(ev.get("likelihood_attack")),
        "mutual information I_q (upper bound)": f"{mi['mi']:.3f} ({mi['upper_bound']:.3f})",
        "aggregate-posterior KL, KL(q(z) ‖ p(z))": mi["aggregate_kl"],
        "active units": f"{metrics['active_units']} of {metrics['latent_dim']}",
        "re-encoding error (from mean / from a draw)": (
            f"{ev['reencoding']['mean']:.4g} / {ev['reencoding']['sample_mean']:.4g}"
        ),
        "aggregate-posterior mixture components": (
            f"{gmm['n_components']} (chosen by {gmm['chosen_by']})"
        ),
        "epochs (best)": f"{metrics['epochs_run']} ({metrics['best_epoch']})",
        "training seconds": metrics["train_seconds"],
    }


def _likelihood_attack_row(attack: dict[str, Any] | None) -> dict[str, str]:
    """The report's row of the likelihood attack (none for runs evaluated before it existed)."""
    if not attack:
        return {}
    label = "likelihood attack AUC, training vs held-out (real reference: held-out vs held-out)"
    return {
        label: (
            f"{attack['auc']:.3f} ± {attack['auc_sd']:.3f} "
            f"({attack['reference_auc']:.3f} ± {attack['reference_auc_sd']:.3f}), "
            f"{attack['n']} per side, {attack['draws']} draws"
        )
    }
