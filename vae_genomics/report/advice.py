"""Plain-language summary of a run and what to do next (no heavy imports: the index uses it).

From a run's ``metrics.json`` (and the configured maximum of epochs): one sentence per set's
verdict, and a list of (finding, command) pairs that map each problem to the command that
addresses it — a KL-weight sweep for mode-seeking reconstructions or samples, the mixture sampler
when only prior samples fail, more epochs when training stopped while still improving, a lower
learning rate after a divergence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Set names in plain words, as the subject of a sentence.
SET_SUBJECTS: dict[str, str] = {
    "reconstruction_probabilities": "Reconstructions (decoder probabilities)",
    "reconstruction_samples": "Reconstructions drawn as 0/1 haplotypes",
    "reconstruction_threshold": "Reconstructions called at 0.5",
    "prior_samples": "Haplotypes generated from the prior",
    "gmm_samples": "Haplotypes generated from the aggregate-posterior mixture",
}

_RECONSTRUCTIONS = ("reconstruction_probabilities", "reconstruction_samples")


def _number(value: Any) -> str:
    return "—" if value is None else f"{value:.3g}"


def verdict_sentences(metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
    """One ``(verdict, sentence)`` per evaluated set, in the evaluation's order.

    Args:
        metrics: A run's ``metrics.json``.
    """
    ev = metrics.get("evaluation") or {}
    modeseek = ev.get("modeseek") or {}
    ceiling = (modeseek.get("ceiling") or {}).get("prdc_pca", {}).get("coverage")
    out = []
    for name, stats in (modeseek.get("sets") or {}).items():
        v = stats["verdict"]
        subject = SET_SUBJECTS.get(name, name.replace("_", " ").capitalize())
        coverage = stats.get("prdc_pca", {}).get("coverage")
        why = f"{v.get('tripped_by')} is {_number(v.get('value'))} (threshold {_number(v.get('threshold'))})"
        if v["verdict"] == "ok":
            text = (
                f"{subject} are spread like real haplotypes: they cover {_number(coverage)} of the "
                f"held-out haplotypes, real training haplotypes {_number(ceiling)}."
            )
        elif v["verdict"] == "mode-seeking":
            text = (
                f"{subject} pile onto the commonest haplotype patterns and miss rarer ones: {why}."
            )
        elif v["verdict"] == "collapsed":
            text = f"{subject} barely vary from one haplotype to the next: {why}."
        else:
            text = f"{subject}: {v['verdict']} ({why})."
        out.append((v["verdict"], text))
    return out


def next_steps(
    metrics: Mapping[str, Any], section: str, max_epochs: int | None = None
) -> list[tuple[str, str]]:
    """``(finding, command)`` pairs, most important first; one "nothing to fix" pair when all is ok.

    Args:
        metrics: A run's ``metrics.json``.
        section: Section name (for the commands).
        max_epochs: ``training.epochs`` the run was trained with (``None``: unknown).
    """
    ev = metrics.get("evaluation") or {}
    verdicts: dict[str, str] = ev.get("verdicts") or {}
    steps: list[tuple[str, str]] = []
    sweep = f"make sweep SECTION={section}"
    diverged = metrics.get("diverged")
    if diverged:
        steps.append((
            f"training diverged at epoch {diverged.get('epoch')} ({diverged.get('term')} not finite)",
            f"make train SECTION={section} ARGS=\"--set training.learning_rate=0.0003\"",
        ))  # fmt: skip
    bad = {n: v for n, v in verdicts.items() if v != "ok"}
    active, latent = metrics.get("active_units"), metrics.get("latent_dim")
    if "collapsed" in bad.values() or (active is not None and active < 2):
        steps.append((
            f"posterior collapse: {active} of {latent} latent units active, "
            f"{sum(v == 'collapsed' for v in bad.values())} set(s) collapsed; the code carries "
            "too little — lower the KL weight β (a sweep finds the best one)",
            sweep,
        ))  # fmt: skip
    elif any(bad.get(n) == "mode-seeking" for n in (*_RECONSTRUCTIONS, "gmm_samples")):
        steps.append((
            "reconstructions or mixture samples are mode-seeking: tune the KL weight β (the "
            "sweep recommends the best β whose samples are not mode-seeking), or add the "
            "re-encoding term (objective.reencode.weight)",
            sweep,
        ))  # fmt: skip
    if bad.get("prior_samples") and verdicts.get("gmm_samples") == "ok":
        steps.append((
            "prior samples fail but mixture samples are ok: the prior has holes the aggregate "
            "posterior does not fill — sample from the mixture",
            f"vae-genomics sample runs/{section} --n 1000 --sampler gmm --out synthetic.vcf.gz",
        ))  # fmt: skip
    for name, verdict in bad.items():
        if verdict not in ("mode-seeking", "collapsed"):
            steps.append((
                f"{SET_SUBJECTS.get(name, name)}: {verdict} — try another sampler, or a larger β "
                "(a sweep compares them)",
                sweep,
            ))  # fmt: skip
    epochs_run, best = metrics.get("epochs_run"), metrics.get("best_epoch")
    if max_epochs and epochs_run and best and epochs_run >= max_epochs and best > 0.9 * epochs_run:
        steps.append((
            f"not converged: the best epoch ({best}) is near the last of {epochs_run}, so the "
            "held-out objective was still improving",
            f'make train SECTION={section} ARGS="--epochs {2 * max_epochs}"',
        ))  # fmt: skip
    if not steps:
        steps.append((
            "nothing to fix: every set is ok — generate synthetic haplotypes",
            f"vae-genomics sample runs/{section} --n 1000 --sampler gmm --out synthetic.vcf.gz",
        ))  # fmt: skip
    return steps


def beta_origin(metrics: Mapping[str, Any], section: str) -> str:
    """Where the run's KL weight β came from, in words (from ``metrics["origins"]``)."""
    beta = (metrics.get("heldout") or {}).get("kl_weight")
    origin = (metrics.get("origins") or {}).get("objective.kl_weight")
    value = "β" if beta is None else f"β = {beta:g}"
    if origin is None:
        return f"{value} (origin not recorded: a run from an older version)."
    if origin == "defaults":
        return f"{value} is the built-in default; `make sweep SECTION={section}` tunes it."
    if origin == "command line":
        return f"{value} was given on the command line (--kl-weight or --set)."
    if origin == "sweep point":
        return f"{value} is one point of a KL-weight sweep."
    if origin.endswith(f"{section}.yaml"):
        return (
            f"{value} comes from {origin}, the section's own file (written by `make sweep`, "
            "or edited by hand)."
        )
    return f"{value} comes from the config file {origin}."
