"""Plain-language summary of a run and what to do next (no heavy imports: the index uses it).

From a run's ``metrics.json`` (and the configured maximum of epochs): one sentence per set's
verdict, and a list of (finding, command) pairs that map each problem to the command that
addresses it — a KL-weight sweep for mode-seeking or collapsed reconstructions or generated
samples, a sharper or less noisy generator for off-distribution samples, a stronger copy guard
when generated samples copy training haplotypes, the default generator when only prior samples
fail (advisory), more epochs when training stopped while still improving, a lower learning rate
after a divergence. Each finding carries the number that tripped it.
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
    "generated_samples": "Generated haplotypes (the default generator)",
    "gmm_samples": "Haplotypes generated from the aggregate-posterior mixture",
}

_RECONSTRUCTIONS = ("reconstruction_probabilities", "reconstruction_samples")
_GENERATED = ("generated_samples", "gmm_samples")

#: Epochs from the end of ``training.epochs`` within which a best epoch means "not converged".
NOT_CONVERGED_EPOCHS = 5


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
        elif v["verdict"] == "off-distribution":
            text = f"{subject} lie where no real haplotype does (over-dispersed or noisy): {why}."
        elif v["verdict"] == "copies-training-data":
            text = f"{subject} copy training haplotypes more than real held-out ones do: {why}."
        else:
            text = f"{subject}: {v['verdict']} ({why})."
        out.append((v["verdict"], text))
    return out


def next_steps(
    metrics: Mapping[str, Any],
    section: str,
    max_epochs: int | None = None,
    privacy: str | None = None,
) -> list[tuple[str, str]]:
    """``(finding, command)`` pairs, most important first; one "nothing to fix" pair when all is ok.

    Args:
        metrics: A run's ``metrics.json``.
        section: Section name (for the commands).
        max_epochs: ``training.epochs`` the run was trained with (``None``: unknown).
        privacy: The run's ``generation.privacy`` (``None`` or ``off``: no budget step): a
            section whose numbers miss it gets a step saying ``sample`` will not release it.
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
    sets = (ev.get("modeseek") or {}).get("sets") or {}
    generated = next((n for n in _GENERATED if n in verdicts), "generated_samples")
    active, latent = metrics.get("active_units"), metrics.get("latent_dim")
    if "collapsed" in bad.values() or (active is not None and active < 2):
        steps.append((
            f"posterior collapse: {active} of {latent} latent units active, "
            f"{sum(v == 'collapsed' for v in bad.values())} set(s) collapsed; the code carries "
            "too little — lower the KL weight β (a sweep finds the best one)",
            sweep,
        ))  # fmt: skip
    elif any(bad.get(n) == "mode-seeking" for n in (*_RECONSTRUCTIONS, generated)):
        name = next(n for n in (*_RECONSTRUCTIONS, generated) if bad.get(n) == "mode-seeking")
        steps.append((
            f"{SET_SUBJECTS.get(name, name).lower()} are mode-seeking ({_tripped(sets, name)}): "
            "tune the KL weight β (the sweep recommends the best β whose samples are not "
            "mode-seeking), or add the re-encoding term (objective.reencode.weight)",
            sweep,
        ))  # fmt: skip
    if bad.get(generated) == "off-distribution":
        steps.append((
            f"generated haplotypes are off-distribution ({_tripped(sets, generated)}): draw them "
            "with less per-site noise",
            f"vae-genomics sample runs/{section} --n 1000 --sampler aggregate:1.5/calls "
            "--out synthetic.vcf.gz",
        ))  # fmt: skip
    if bad.get(generated) == "copies-training-data":
        steps.append((
            f"generated haplotypes copy training haplotypes ({_tripped(sets, generated)}): "
            "spread the codes wider before decoding, or sample from the mixture",
            f"vae-genomics sample runs/{section} --n 1000 --sampler gmm-heldout/calls "
            "--out synthetic.vcf.gz",
        ))  # fmt: skip
    if bad.get("prior_samples") and verdicts.get(generated) == "ok":
        steps.append((
            f"prior samples are {bad['prior_samples']} ({_tripped(sets, 'prior_samples')}) but "
            "the generated samples are ok: the prior has holes the aggregate posterior does not "
            "fill — use the default generator (advisory; the headline verdict does not count "
            "prior samples)",
            f"vae-genomics sample runs/{section} --n 1000 --out synthetic.vcf.gz",
        ))  # fmt: skip
    budget = budget_step(metrics, section, privacy)
    if budget:
        steps.append(budget)
    converged = not_converged(metrics, max_epochs)
    if converged:
        steps.append((
            converged,
            f'make train SECTION={section} ARGS="--epochs {2 * (max_epochs or 0)}"',
        ))  # fmt: skip
    if not steps:
        steps.append((
            "nothing to fix: every set is ok — generate synthetic haplotypes",
            f"vae-genomics sample runs/{section} --n 1000 --out synthetic.vcf.gz",
        ))  # fmt: skip
    return steps


def budget_step(
    metrics: Mapping[str, Any], section: str, privacy: str | None
) -> tuple[str, str] | None:
    """The step of a section whose default generator misses the run's privacy budget (the check
    of ``vae-genomics sample``, :mod:`vae_genomics.evaluation.budget`), or None."""
    from vae_genomics.config.budget import parse_budget
    from vae_genomics.evaluation.budget import check_budget, describe_numbers

    budget = parse_budget(privacy) if privacy else None
    realism = (metrics.get("evaluation") or {}).get("realism") or {}
    sets, ceiling = realism.get("sets") or {}, realism.get("ceiling") or {}
    if budget is None or not ceiling:
        return None
    n_train = int(metrics.get("n_train") or 0)
    check = check_budget(sets.get("generated_samples") or {}, ceiling, budget, n_train)
    if check["meets"] is True:
        return None
    prior = check_budget(sets.get("prior_samples") or {}, ceiling, budget, n_train)["meets"]
    what = describe_numbers(check)
    finding = (
        f"under the privacy budget '{budget.name}' (generation.privacy), `vae-genomics sample` "
        f"will not release this section: {what}"
    )
    sample = f"vae-genomics sample runs/{section} --n 1000 --out synthetic.vcf.gz"
    if prior is True:
        return (
            finding + "; the prior meets it (at its own realism, above)",
            f"{sample} --sampler prior",
        )
    why = "; docs/privacy.md says what lowers the leak and what a looser budget means"
    return finding + why, f"{sample} --privacy lenient"


def _tripped(sets: Mapping[str, Any], name: str) -> str:
    """``tripped_by = value (threshold t)`` of a set's verdict, for a finding."""
    v = (sets.get(name) or {}).get("verdict") or {}
    if not v.get("tripped_by"):
        return "no number recorded"
    return f"{v['tripped_by']} = {_number(v.get('value'))}, threshold {_number(v.get('threshold'))}"


def not_converged(metrics: Mapping[str, Any], max_epochs: int | None) -> str | None:
    """The "not converged" finding, or None: training ran to ``max_epochs`` and its best epoch is
    within the last :data:`NOT_CONVERGED_EPOCHS` of them (the held-out objective was still
    improving when the limit stopped it)."""
    epochs_run, best = metrics.get("epochs_run"), metrics.get("best_epoch")
    if not (max_epochs and epochs_run and best) or epochs_run < max_epochs:
        return None
    if best <= epochs_run - NOT_CONVERGED_EPOCHS:
        return None
    return (
        f"not converged: best epoch {best} is within the last {NOT_CONVERGED_EPOCHS} of the "
        f"{max_epochs}-epoch limit (training.epochs), so the held-out objective was still improving"
    )


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
