"""The privacy budget at sampling time: every section's measured numbers checked before drawing.

``vae-genomics sample`` releases haplotypes only from sections whose evaluation showed the
generator within the budget (:mod:`vae_genomics.evaluation.budget`): the run's report scored the
default generator's set on the run's held-out haplotypes beside the real reference, and those
numbers are what is checked. A section that misses the budget, or whose numbers were not measured
for the generator asked for, stops the command before anything is drawn or written, naming each
section, its numbers and what to do. ``--privacy off`` (or ``generation.privacy: off``) skips the
check and records that it was skipped. What was checked goes into ``<out>.privacy.json``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vae_genomics.common.errors import RunError
from vae_genomics.config.budget import PrivacyBudget, parse_budget
from vae_genomics.evaluation.budget import check_budget, describe_check

if TYPE_CHECKING:
    from vae_genomics.run.load import LoadedRun

log = logging.getLogger(__name__)

#: The realism-panel sets that hold the default generator's and the prior's numbers.
GENERATED_SET = "generated_samples"
PRIOR_SET = "prior_samples"


class PrivacyBudgetError(RunError):
    """Sections whose measured privacy numbers miss the budget (or were not measured)."""


def resolve_budget(option: str | None, runs: Iterable[LoadedRun]) -> PrivacyBudget | None:
    """The budget of a sample: ``--privacy`` when given, else the first run's
    ``generation.privacy`` (the sections of one workflow share their configuration)."""
    if option is not None:
        return parse_budget(option)
    first = next(iter(runs), None)
    return parse_budget(first.config.generation.privacy if first is not None else "standard")


def evaluated_generators(evaluation: dict[str, Any]) -> dict[str, str]:
    """The generators a run's report scored, by the ``--sampler`` name that draws them again:
    the default generator (set ``generated_samples``) and ``prior`` (``prior_samples``)."""
    names = {"prior": PRIOR_SET}
    evaluated = (evaluation.get("generator") or {}).get("name")
    if evaluated:
        names[evaluated] = GENERATED_SET
    return names


def _coverage_fraction(evaluation: dict[str, Any], key: str) -> float | None:
    """The set's coverage in Hamming space ÷ the ceiling's (how much realism a choice costs)."""
    modeseek = evaluation.get("modeseek") or {}
    try:
        ceiling = modeseek["ceiling"]["prdc_hamming"]["coverage"]
        return modeseek["sets"][key]["prdc_hamming"]["coverage"] / ceiling
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def section_check(
    run: LoadedRun, budget: PrivacyBudget, generator: str | None = None
) -> dict[str, Any]:
    """The budget check of one section from its stored evaluation.

    Args:
        run: A finished run.
        budget: The limits.
        generator: The generator asked for (a ``--sampler`` name), or None for the default one
            the run evaluated. A generator the report did not score was not measured: the check
            says so (``meets`` None).

    Returns:
        :func:`~vae_genomics.evaluation.budget.check_budget`'s record plus ``generator``, its
        ``coverage_fraction``, ``alternatives`` (the other scored generators that meet the
        budget, with their coverage fraction and verdict) and, when unmeasured, ``why``.
    """
    from vae_genomics.run.directory import METRICS_FILE, read_json

    evaluation = read_json(run.run_dir / METRICS_FILE).get("evaluation") or {}
    scored = evaluated_generators(evaluation)
    default = (evaluation.get("generator") or {}).get("name")
    wanted = default if generator is None else generator
    realism = evaluation.get("realism") or {}
    sets, ceiling, n_train = (
        realism.get("sets") or {},
        realism.get("ceiling") or {},
        len(run.train_rows),
    )
    checks = {
        name: check_budget(sets.get(key) or {}, ceiling, budget, n_train)
        for name, key in scored.items()
    }
    verdicts = evaluation.get("verdicts") or {}
    alternatives = [
        {
            "sampler": name,
            "coverage_fraction": _coverage_fraction(evaluation, scored[name]),
            "verdict": verdicts.get(scored[name]),
        }
        for name, c in checks.items()
        if name != wanted and c["meets"] is True
    ]
    if wanted not in scored:
        check = {**check_budget({}, ceiling, budget, n_train), "unmeasured": "generator"}
        check["why"] = f"the run's report scored {', '.join(scored)}, not {wanted}"
    else:
        check = checks[wanted]
        if check["meets"] is None:
            check["unmeasured"] = "numbers"
            check["why"] = f"the run's evaluation has no privacy numbers for {wanted}"
        check["coverage_fraction"] = _coverage_fraction(evaluation, scored[wanted])
    check["generator"], check["alternatives"] = wanted, alternatives
    return check


def enforce(
    checks: dict[str, dict[str, Any]], budget: PrivacyBudget | None, what: str = "sample"
) -> dict[str, Any]:
    """Stop unless every section meets ``budget``; the record for ``<out>.privacy.json``.

    Args:
        checks: Per section name, :func:`section_check`'s record.
        budget: The limits, or None (``off``: nothing is checked, the record says so).
        what: What is being released, for the messages.

    Raises:
        PrivacyBudgetError: Listing every section that misses or was not measured, by how much,
            and what to do.
    """
    if budget is None:
        log.warning("privacy budget off: %s is released without checking its privacy numbers", what)
        return {"budget": "off", "sections": checks}
    missed = {name: c for name, c in checks.items() if c["meets"] is not True}
    record = {"budget": budget.to_dict(), "meets": not missed, "sections": checks}
    if not missed:
        log.info("%s: all %d section(s) meet the %s", what, len(checks), budget.describe())
        return record
    lines = [
        f"  {describe_check(name, c)}"
        + (f" [{c['why']}]" if c.get("why") else "")
        + (
            " [fewer than 1000 training haplotypes: checked at mean + spread]"
            if c["strict"]
            else ""
        )
        + "".join(f"\n    {_alternative(a)}" for a in c.get("alternatives", []))
        for name, c in missed.items()
    ]
    raise PrivacyBudgetError(
        f"{what}: {len(missed)} of {len(checks)} section(s) do not meet the {budget.describe()}:\n"
        + "\n".join(lines[:20])
        + (f"\n  ... and {len(lines) - 20} more" if len(lines) > 20 else "")
        + "\nNothing was written. What to do: "
        + " ".join(_advice(missed.values()))
        + " docs/privacy.md says what the numbers mean."
    )


def _alternative(alt: dict[str, Any]) -> str:
    """One line: another scored generator of the section that meets the budget, and its cost."""
    cov = alt["coverage_fraction"]
    cost = f"coverage (Hamming) {cov:.2f} × the ceiling" if cov is not None else "coverage unknown"
    return (
        f"meets it: --sampler {alt['sampler']} ({cost}, verdict {alt['verdict'] or 'unknown'}; "
        "chosen on the numbers it is judged by, so they flatter it slightly)"
    )


def _advice(missed: Iterable[dict[str, Any]]) -> list[str]:
    """What to do, for the kinds of miss present: over the budget, numbers not measured, or a
    generator the report did not evaluate."""
    kinds = {c.get("unmeasured", "over") for c in missed}
    advice = []
    if "over" in kinds:
        advice.append(
            "for a section over the budget, retrain it with dropout (e.g. `train --set "
            "model.dropout=0.2`: on 1000 Genomes sections it lowered the leak at 0.90-0.94 x the "
            "coverage; on cohorts of a few hundred haplotypes it did not; docs/privacy.md), or "
            "choose a looser budget (`--privacy "
            "lenient` or `--privacy loss=X,auc=Y`), or release the set knowingly with "
            "`--privacy off`;"
        )
    if "numbers" in kinds:
        advice.append(
            "for a run without the numbers (trained by an older version, or its evaluation cut "
            "short), `vae-genomics report RUN` recomputes them;"
        )
    if "generator" in kinds:
        advice.append(
            "a generator other than the evaluated one has no numbers: sample it with "
            "`--privacy off` and score it with `vae-genomics evaluate RUN --synthetic OUT.vcf.gz`;"
        )
    return advice


def privacy_record_path(out: str | Path) -> Path:
    """``<out without .vcf.gz>.privacy.json`` beside the VCF."""
    from vae_genomics.commands.options import table_path

    return table_path(out, "privacy.json")


def gate(
    runs: Sequence[LoadedRun],
    option: str | None,
    generator: str | None = None,
    what: str = "sample",
) -> dict[str, Any]:
    """Check every section of a sample against its budget before drawing (module docstring).

    Args:
        runs: The sections' finished runs.
        option: ``--privacy``, or None for the runs' ``generation.privacy``.
        generator: The generator asked for (None: the one each run evaluated).
        what: What is released, for the messages.

    Returns:
        The record for ``<out>.privacy.json`` (:func:`enforce`).

    Raises:
        PrivacyBudgetError: A section misses the budget or was not measured.
    """
    budget = resolve_budget(option, runs)
    checks = {}
    if budget is not None:
        checks = {run.data.section.name: section_check(run, budget, generator) for run in runs}
    record = enforce(checks, budget, what)
    if budget is not None:
        record["checked"] = (
            "each section's evaluated generator, scored on the run's held-out haplotypes beside "
            "the real reference (the report's privacy numbers)"
        )
    return record


def write_record(out: str | Path | None, record: dict[str, Any]) -> Path | None:
    """Write ``record`` to ``<out>.privacy.json`` beside a written VCF (nothing for stdout).

    The record describes the VCF just written, so a record left by an earlier sample at the same
    path is replaced.
    """
    from vae_genomics.common.io import to_jsonable, write_json

    if out is None or str(out) == "-":
        return None
    path = privacy_record_path(out)
    write_json(path, to_jsonable(record), overwrite=True, refuse_link=True)
    return path


def region_generator(decoder: str | None) -> str | None:
    """What a region sample is checked as: None (each section's evaluated generator) for the
    default decoder, whose leak the sections' numbers measure; another decoder is unmeasured."""
    from vae_genomics.generate.region import DEFAULT_DECODER

    return None if decoder in (None, DEFAULT_DECODER) else f"the region decoder {decoder}"


def region_budget(
    record: dict[str, Any], metrics: dict[str, Any], joint: str, n_train: int
) -> dict[str, Any]:
    """The region's own numbers checked against the budget of ``record``: the drawn joint model's
    privacy loss and distance-attack AUC beside the ceiling's (``metrics["realism"]``, from
    :func:`vae_genomics.evaluation.region.evaluate_region`). A miss is logged as a warning: the
    VCF is written, since its sections met the budget and the region as a whole is scored only
    after drawing."""
    if record.get("budget") == "off":
        return {"budget": "off"}
    budget = PrivacyBudget(**record["budget"])
    panel = metrics.get("realism") or {}
    check = check_budget((panel.get("sets") or {}).get(joint) or {}, panel.get("ceiling") or {},
                         budget, n_train)  # fmt: skip
    if check["meets"] is not True:
        log.warning(
            "the region as a whole does not meet the %s: %s (its sections did; region.json, "
            "privacy_budget)", budget.describe(), describe_check(joint, check),
        )  # fmt: skip
    return {"budget": budget.to_dict(), **check}


def group_budget(record: dict[str, Any], scores: dict[str, Any]) -> dict[str, Any]:
    """Each group's privacy loss over the region (``sample --populations``' own numbers, known
    only after drawing) against its own ceiling + the budget's loss limit; a group over it is
    logged as a warning: the sections' check uses the whole cohort's numbers, and a group with
    few training haplotypes leaks more than the cohort does."""
    if record.get("budget") == "off":
        return {"budget": "off"}
    limit = PrivacyBudget(**record["budget"]).max_loss_excess
    out = {}
    for name, row in scores.items():
        if "synthetic" not in row:
            continue
        loss, ceiling = row["synthetic"]["privacy_loss"], row["ceiling"]["privacy_loss"]
        out[name] = {"privacy_loss": loss, "reference": ceiling, "excess": loss - ceiling,
                     "limit": limit, "meets": loss - ceiling <= limit}  # fmt: skip
    over = [f"{n} (+{c['excess']:.3f})" for n, c in out.items() if not c["meets"]]
    if over:
        log.warning(
            "%d group(s) leak more than the budget allows over the region: %s (privacy loss "
            "minus the group's own ceiling, limit +%g; few training haplotypes per group give "
            "near-copies). The VCF is written; <out>.privacy.json lists every group.",
            len(over), ", ".join(over), limit,
        )  # fmt: skip
    return out
