"""Score any generator's output, a phased VCF, against a finished run's held-out haplotypes.

``vae-genomics evaluate RUN --synthetic X.vcf.gz`` reads the file's haplotypes at the run's sites
(stored with the run: contig, positions, REF and ALT; every site must be there with the same
alleles, :func:`~vae_genomics.data.at_sites.read_section_haplotypes`) and puts them through the numbers a
run's own generated set gets: the mode-seeking numbers beside the real-vs-real ceiling
(:func:`~vae_genomics.evaluation.modeseek.mode_seeking_report`), the realism and privacy panel
beside its ceiling (:mod:`~vae_genomics.evaluation.realism`; "training" is the run's training
haplotypes, so the privacy numbers say whether the file copies *them*) and the verdict with the
number that tripped it, thresholds from the run's config. The set is judged like the run's
generated samples: a set smaller than the held-out set compared is kept whole (and logged), so
give at least as many haplotypes as the run holds out for numbers comparable with the ceiling.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np

from vae_genomics import __version__
from vae_genomics.commands.options import check_input_file, check_out, start_tensorflow
from vae_genomics.common.errors import DataError

log = logging.getLogger(__name__)

#: Name of the scored set in the output.
SET_NAME = "synthetic"


def evaluate_external(
    run_dir: str | Path, synthetic: str | Path, populations: str | Path | None = None
) -> dict[str, Any]:
    """The panel of a VCF's haplotypes at a run's sites, against the run's held-out haplotypes.

    Args:
        run_dir: A run directory, or a section directory (its ``latest`` run).
        synthetic: Phased VCF/BCF (e.g. another generator's output).
        populations: Its samples' populations (TSV with ``sample`` and ``population`` columns,
            e.g. the table ``sample --populations`` writes): adds ``populations``, the numbers
            of each population against the run's real haplotypes of it.

    Returns:
        JSON-ready dict: ``run``, ``section``, ``synthetic`` (path), ``n_haplotypes`` (of the file),
        ``n_variants``, ``n_heldout``, ``n_train``, ``verdict`` (``verdict``, ``tripped_by``,
        ``value``, ``threshold``, ``tripped``, ``checks``), ``modeseek`` (``ceiling``, ``set``,
        ``thresholds``, ``settings``), ``realism`` (``ceiling``, ``set``), ``release`` (the
        distance attack on all of the file's haplotypes at their number, every training against
        every held-out haplotype: :func:`~vae_genomics.evaluation.release_attack.release_attack`)
        and ``version``.

    Raises:
        DataError: The file cannot be read, lacks some of the run's sites or has other alleles at
            them (the message names the sites), or has too few haplotypes to score.
    """
    from vae_genomics.common.io import to_jsonable
    from vae_genomics.evaluation.judging import judge_sets, thresholds_from_config
    from vae_genomics.evaluation.pca import HaplotypePCA
    from vae_genomics.evaluation.realism import common_size, realism_ceiling, realism_panel
    from vae_genomics.evaluation.steps import seeded_streams, subsample_heldout
    from vae_genomics.run.load import load_run

    run = load_run(run_dir)
    x_syn, syn_samples = _read_synthetic(run, synthetic)
    # the table checked before anything is scored
    labelled = None if populations is None else _synthetic_labels(run, syn_samples, populations)
    config = run.config.evaluation
    x_train = run.data.matrix.haplotypes[run.train_rows]
    rng = seeded_streams(int(run.config.seed), ("subsample", "modeseek", "realism"))
    x_heldout, _ = subsample_heldout(
        run.data.matrix.haplotypes[run.val_rows], config.max_points, rng["subsample"]
    )
    n_components = max(run.config.report.n_components, thresholds_from_config(config).n_pcs)
    pca = HaplotypePCA(n_components=n_components).fit(x_train)
    size = common_size(len(x_syn), len(x_heldout), len(x_train), config.max_points)
    positions = run.data.matrix.positions
    panel = realism_panel(x_syn, x_train, x_heldout, positions, seed=rng["realism"], size=size)
    ceiling = realism_ceiling(x_train, x_heldout, positions, seed=rng["realism"], size=size)
    modeseek = judge_sets(
        x_train, x_heldout, {SET_NAME: x_syn}, pca, config, rng["modeseek"], {SET_NAME: panel}
    )
    stats = modeseek["sets"][SET_NAME]
    verdict = stats.pop("verdict")
    _log_verdict(synthetic, verdict)
    release = _release_attack(synthetic, x_syn, x_train, run.data.matrix.haplotypes[run.val_rows])
    return to_jsonable(
        {
            "run": str(run.run_dir),
            "section": run.data.section.name,
            "synthetic": str(synthetic),
            "n_haplotypes": len(x_syn),
            "n_variants": int(x_syn.shape[1]),
            "n_heldout": len(x_heldout),
            "n_train": len(x_train),
            "verdict": verdict,
            "modeseek": {
                "ceiling": modeseek["ceiling"],
                "set": stats,
                "thresholds": modeseek["thresholds"],
                "settings": modeseek["settings"],
            },
            "realism": {"ceiling": ceiling, "set": panel},
            "release": release,
            **(
                {"populations": _by_population(run, x_syn, labelled, populations, x_train)}
                if labelled is not None
                else {}
            ),
            "version": __version__,
        }
    )


def _release_attack(
    synthetic: str | Path, x_syn: np.ndarray, x_train: np.ndarray, x_heldout: np.ndarray
) -> dict[str, Any]:
    """The distance attack on all of the file's haplotypes, logged
    (:func:`~vae_genomics.evaluation.release_attack.release_attack`)."""
    from vae_genomics.evaluation.release_attack import release_attack

    release = release_attack(x_syn, x_train, x_heldout)
    log.info(
        "%s: distance attack on its %d haplotypes (every training against every held-out "
        "haplotype): AUC %.3f (0.5 = chance, spread %.3f)", synthetic, len(x_syn),
        release["auc"], release["null_sd"],
    )  # fmt: skip
    return release


def _read_synthetic(run: Any, synthetic: str | Path) -> np.ndarray:
    """The file's haplotypes at the run's sites, checked to be enough to score.

    Args:
        run: The loaded run (its data's section and matrix, its config, its held-out rows).
        synthetic: Phased VCF/BCF.

    Returns:
        The haplotypes, int8, shape (n_haplotypes, n_variants), and the sample of each row.

    Raises:
        DataError: The file cannot be read, lacks some of the run's sites or has other alleles at
            them, or has too few haplotypes to score.
    """
    from vae_genomics.data.at_sites import read_section_haplotypes

    matrix = run.data.matrix
    found = read_section_haplotypes(
        synthetic, run.data.section.contig, matrix.positions, matrix.ref, matrix.alt
    )
    x_syn = np.asarray(found.haplotypes, dtype=np.int8)
    config = run.config.evaluation
    if len(x_syn) <= config.prdc_k:
        raise DataError(
            f"{synthetic}: {len(x_syn)} haplotypes; scoring needs more than evaluation.prdc_k = "
            f"{config.prdc_k} (give at least as many as the run's {len(run.val_rows)} held-out "
            "haplotypes for numbers comparable with the ceiling)."
        )
    return x_syn, np.asarray(found.haplotype_samples)


def _synthetic_labels(
    run: Any, syn_samples: np.ndarray, table: str | Path
) -> tuple[np.ndarray, str, np.ndarray]:
    """The file's haplotypes labelled by ``table``, at the run's population or superpopulation
    level (whichever holds every label).

    Returns:
        Each synthetic haplotype's label, the level, and the run's label of each of its rows.

    Raises:
        DataError: A sample of the file is not in the table, or a label is neither a population
            nor a superpopulation of the run (the known ones named).
    """
    from vae_genomics.data.vcf import read_populations

    samples = np.unique(syn_samples)
    labels = dict(zip(samples, read_populations(table, samples), strict=True))
    unlabelled = [s for s in samples if labels[s] == "unknown"]
    if unlabelled:
        raise DataError(
            f"{table}: {len(unlabelled)} samples of the synthetic VCF are not in it (e.g. "
            f"'{unlabelled[0]}'); give every sample a population."
        )
    syn_labels = np.asarray([labels[s] for s in syn_samples], dtype=object)
    level, real = _label_level(run, set(syn_labels), table)
    return syn_labels, level, real


def _by_population(
    run: Any,
    x_syn: np.ndarray,
    labelled: tuple[np.ndarray, str, np.ndarray],
    table: str | Path,
    x_train: np.ndarray,
) -> dict[str, Any]:
    """``populations`` of :func:`evaluate_external`: each label's synthetic haplotypes compared
    with the run's real haplotypes of it
    (:func:`~vae_genomics.evaluation.population_panel.population_panel`); ``labelled`` is
    :func:`_synthetic_labels`'."""
    from vae_genomics.evaluation.population_panel import population_panel

    syn_labels, level, real = labelled
    summary = population_panel(
        x_syn, syn_labels, x_train, real[run.train_rows],
        run.data.matrix.haplotypes[run.val_rows], real[run.val_rows],
        k=run.config.evaluation.prdc_k, seed=int(run.config.seed),
    )  # fmt: skip
    for label, entry in summary.items():
        if "note" not in entry:
            log.info(
                "%s: classifier %.3f (held-out %.3f), F_ST %.4f (training %.4f), coverage %.3f "
                "(training %.3f), privacy loss %.3f (training %.3f)", label,
                entry["classifier"]["synthetic"], entry["classifier"]["heldout"],
                entry["fst"]["synthetic"], entry["fst"]["reference"],
                entry["coverage_hamming"]["synthetic"], entry["coverage_hamming"]["reference"],
                entry["privacy_loss"]["synthetic"], entry["privacy_loss"]["reference"],
            )  # fmt: skip
    return {"level": level, "table": str(table), "groups": summary}


def _label_level(run: Any, wanted: set[str], table: str | Path) -> tuple[str, np.ndarray]:
    """``("population" | "superpopulation", the run's label of each row)`` holding ``wanted``."""
    for level, real in (
        ("population", run.data.populations),
        ("superpopulation", run.superpopulations),
    ):
        if real is not None and wanted <= set(np.asarray(real).astype(str)):
            return level, np.asarray(real).astype(str)
    known = (
        sorted(set(np.asarray(run.data.populations).astype(str)))
        if run.data.populations is not None
        else []
    )
    raise DataError(
        f"{table}: labels {sorted(wanted)} are not all populations (or all superpopulations) of "
        f"the run's populations table (populations: {', '.join(known) or 'none'}); label the "
        "synthetic samples with the run's names."
    )


def _log_verdict(synthetic: str | Path, verdict: dict[str, Any]) -> None:
    """Log the file's verdict and, when a check tripped it, the number and its threshold.

    Args:
        synthetic: The file scored.
        verdict: ``verdict``, ``tripped_by``, ``value`` and ``threshold``.
    """
    log.info(
        "%s: %s%s",
        synthetic,
        verdict["verdict"],
        f" ({verdict['tripped_by']} = {verdict['value']:.3g}, threshold {verdict['threshold']:.3g})"
        if verdict["tripped_by"]
        else "",
    )


def headline_numbers(scores: dict[str, Any]) -> list[str]:
    """The numbers a reader looks at first, each beside the real-vs-real ceiling, as lines.

    Args:
        scores: What :func:`evaluate_external` returns.

    Returns:
        Lines: coverage (PCA, Hamming) and LD r as fractions of the ceiling's; privacy loss and
        distance-attack AUC beside the real reference and their excesses; the sites at 1-10 ALT
        copies pooled against the held-out haplotypes (omitted when there are none).
    """
    ms, c = scores["modeseek"]["set"], scores["modeseek"]["ceiling"]

    def fraction(a: str, b: str) -> float:
        return ms[a][b] / c[a][b] if c[a][b] else float("nan")

    s, ref = scores["realism"]["set"], scores["realism"]["ceiling"]
    lines = [
        f"coverage: {fraction('prdc_pca', 'coverage'):.3f} x the ceiling's (PCA), "
        f"{fraction('prdc_hamming', 'coverage'):.3f} x (Hamming); "
        f"LD r {fraction('ld', 'pearson_r'):.3f} x",
        f"privacy: loss {s['privacy_loss']:.3f} (real reference {ref['privacy_loss']:.3f}, excess "
        f"{s['privacy_loss'] - ref['privacy_loss']:+.3f}); distance-attack AUC "
        f"{s['distance_attack_auc']:.3f} (reference {ref['distance_attack_auc']:.3f}, excess "
        f"{s['distance_attack_auc'] - ref['distance_attack_auc']:+.3f})",
    ]
    rare, ceiling = s["sfs"]["rare"]["total_relative_error"], ref["sfs"]["rare"]
    if rare is not None:
        top = ceiling["total_relative_error"]
        beside = "n/a" if top is None else f"{100 * top:+.1f}%"
        lines.append(
            f"sites at 1-{len(ceiling['copies'])} copies: {100 * rare:+.1f}% pooled against the "
            f"held-out haplotypes (ceiling {beside})"
        )
    return lines


def run_command(args: argparse.Namespace) -> None:
    from vae_genomics.run.directory import resolve_run_dir

    resolve_run_dir(args.run)  # before TensorFlow starts: a refusal comes at once
    check_input_file(args.synthetic, "--synthetic")
    check_input_file(args.populations, "--populations", "populations table")
    if args.out is not None:
        check_out(args, args.synthetic)
    start_tensorflow(args)
    import json

    from vae_genomics.commands.evaluate import evaluate_external
    from vae_genomics.common.io import write_json

    scores = evaluate_external(args.run, args.synthetic, args.populations)
    if args.out is None:
        print(json.dumps(scores, indent=1))
    else:
        write_json(args.out, scores, args.overwrite)  # exclusive: another job may have written it
        v = scores["verdict"]
        why = f" ({v['tripped_by']} = {v['value']:.3g})" if v["tripped_by"] else ""
        lines = [f"verdict: {v['verdict']}{why}", *headline_numbers(scores), f"scores:  {args.out}"]
        print("\n".join(lines))
