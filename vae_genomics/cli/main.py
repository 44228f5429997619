"""``vae-genomics`` command line: parse, call the library, print where the results are."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from vae_genomics.cli.parser import build_parser
from vae_genomics.common.errors import (
    DataError,
    RunError,
    VaeGenomicsError,
    bounded,
    os_error_message,
)

log = logging.getLogger("vae_genomics")


def parse_settings(items: list[str] | None) -> dict[str, Any]:
    """Nested overrides from ``--set key.sub=value`` items (values parsed as YAML).

    Raises:
        ConfigError: An item without ``=`` or without a key, or a value that is not valid YAML.
    """
    import yaml

    from vae_genomics.common.errors import ConfigError

    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        parts = key.strip().split(".")
        if not sep or not all(parts):
            raise ConfigError(
                f"--set {item!r}: expected KEY=VALUE with a dotted key, e.g. "
                "--set training.epochs=50 (see configs/default.yaml for the keys)."
            )
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError as exc:
            raise ConfigError(f"--set {item!r}: the value is not valid YAML: {exc}") from exc
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {item!r}: '{part}' was already set to a value above.")
            node = child
        node[parts[-1]] = value
    return out


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Nested config overrides from command-line options that were given."""
    spec = {
        "vcf": ("data", "vcf"),
        "cache": ("data", "cache"),
        "samples": ("data", "samples"),
        "window_snps": ("data", "window_snps"),
        "window_bp": ("data", "window_bp"),
        "bed": ("data", "bed"),
        "regions": ("data", "regions"),
        "min_maf": ("data", "min_maf"),
        "min_mac": ("data", "min_mac"),
        "missing": ("data", "missing"),
        "epochs": ("training", "epochs"),
        "kl_weight": ("objective", "kl_weight"),
        "seed": ("seed",),
        "precision": ("runtime", "precision"),
        "distribute": ("runtime", "distribute"),
        "threads": ("runtime", "threads"),
    }
    out: dict[str, Any] = {}
    for attr, path in spec.items():
        value = getattr(args, attr, None)
        if value is None:
            continue
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = str(value) if isinstance(value, Path) else value
    from vae_genomics.config import deep_merge

    return deep_merge(out, parse_settings(getattr(args, "settings", None)))


_FILTER_COLUMNS = ("multiallelic", "not_snp", "missing_dropped", "monomorphic", "below_min_maf",
                   "below_min_mac")  # fmt: skip


def _cmd_sections(args: argparse.Namespace) -> None:
    import pandas as pd

    from vae_genomics.common.io import atomic_write_text
    from vae_genomics.config import load_config
    from vae_genomics.data import list_sections, section_table

    overrides = _overrides(args)
    for option, scheme in (("window_snps", "snp-windows"), ("window_bp", "bp-windows"),
                           ("bed", "bed"), ("regions", "regions")):  # fmt: skip
        if getattr(args, option) is not None:
            overrides.setdefault("data", {})["sections"] = scheme
    config = load_config(args.config, overrides=overrides)
    matrix, sections = list_sections(config.data, genotypes=False)
    table = pd.DataFrame(section_table(matrix, sections))
    if table.empty or not (table["n_variants"] > 0).any():
        counts = matrix.records.counts() if matrix.records is not None else {}
        removed = ", ".join(f"{c} {counts[c]}" for c in _FILTER_COLUMNS if counts.get(c))
        raise DataError(
            f"{config.data.vcf}: no variant survives the filters ({counts.get('records_read', 0)} "
            f"records read{f'; removed: {removed}' if removed else ''}). Lower data.min_maf / "
            "data.min_mac, check data.missing, --samples and the regions."
        )
    text = table.to_csv(sep="\t", index=False)
    if args.out:
        from vae_genomics.common.io import check_output_path

        d = config.data
        inputs = [d.vcf, Path(f"{d.vcf}.tbi"), Path(f"{d.vcf}.csi"), d.cache, d.samples, d.bed,
                  d.populations]  # fmt: skip
        # the table is regenerated, so an existing one is replaced; an input never is
        check_output_path(args.out, True, [p for p in inputs if p is not None])
        atomic_write_text(args.out, text)
        log.info("wrote %d sections to %s", len(table), args.out)
    sys.stdout.write("\n".join(table["name"]) + "\n" if args.names else text)


def _cmd_cache(args: argparse.Namespace) -> None:
    from vae_genomics.config import load_config
    from vae_genomics.data import write_cache
    from vae_genomics.data.vcf import read_sample_file

    config = load_config(args.config)
    vcf = args.vcf or config.data.vcf
    out = args.out or config.data.cache
    if out is None:
        from vae_genomics.common.errors import ConfigError

        raise ConfigError("cache: give --out DIR (or set data.cache in the --config file).")
    samples = read_sample_file(args.samples) if args.samples else None
    path = write_cache(vcf, out, samples, args.chunk_variants, overwrite=args.overwrite)
    print(f"cache: {path}")


def _interrupt_on_sigterm() -> None:
    """Turn SIGTERM (SLURM walltime, pre-emption, Snakemake cancelling a job) into Ctrl-C, so a
    training job keeps its checkpoint and exits with 130 instead of vanishing mid-write."""
    import signal

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def _tensorflow(args: argparse.Namespace, threads: int = 0) -> None:
    """Import TensorFlow now, its start-up notices filtered (all of them shown with -v), and bound
    its threads and BLAS's to ``threads`` (0: the libraries' defaults)."""
    from vae_genomics.common.logs import import_tensorflow_quietly
    from vae_genomics.train.threads import limit_threads

    import_tensorflow_quietly(show_all=args.verbose)
    limit_threads(threads)


def _cmd_train(args: argparse.Namespace) -> None:
    from vae_genomics.config import key_origin, load_config

    if args.resume and not args.run_name:
        raise RunError(
            "--resume needs --run-name: the run to continue is found by its name (the default "
            "name is a new timestamp)."
        )
    overrides = _overrides(args)
    if args.skip_existing and not args.sections:
        raise RunError("--skip-existing goes with --sections (and --run-name)")
    for name in args.sections or [args.section]:  # every config error before TensorFlow loads
        checked = load_config(args.config, section=name, overrides=overrides)
    _tensorflow(args, checked.runtime.threads)
    from vae_genomics.commands.train import RunTarget, train_section
    from vae_genomics.train.fit import prepare

    _interrupt_on_sigterm()
    command = " ".join(["vae-genomics", *args.argv])

    def origins(section: str) -> dict[str, str]:
        return {
            key: key_origin(args.config, section, overrides, key)
            for key in ("objective.kl_weight", "training.epochs")
        }

    if args.sections:
        _train_batch(args, overrides, origins, command)
        return
    config, data = prepare(args.config, args.section, overrides)
    target = RunTarget(
        run_name=args.run_name, overwrite=args.overwrite, resume=args.resume,
        origins=origins(data.section.name), command=command,
    )  # fmt: skip
    result = train_section(config, data, target)
    held = result.metrics["heldout"]
    log.info(
        "held-out -ELBO %.2f nats/haplotype (reconstruction %.2f, KL %.2f), %d of %d units active",
        held["neg_elbo"], held["reconstruction"], held["kl"],
        result.metrics["active_units"], result.metrics["latent_dim"],
    )  # fmt: skip
    print(f"run:    {result.run_dir}")
    print(f"report: {result.report}")


def _train_batch(args: argparse.Namespace, overrides: dict, origins: Any, command: str) -> None:
    """``train --sections``: every section in this job (see :mod:`vae_genomics.commands.train_sections`)."""
    from vae_genomics.commands.train_sections import train_sections
    from vae_genomics.train.fit import prepare

    if len(set(args.sections)) != len(args.sections):
        raise RunError(f"--sections names a section twice: {','.join(args.sections)}")
    result = train_sections(
        args.sections, lambda name: prepare(args.config, name, overrides), args.run_name,
        overwrite=args.overwrite, resume=args.resume, skip_existing=args.skip_existing,
        origins=origins, command=command,
    )  # fmt: skip
    for run in result.trained.values():
        print(f"run:    {run}")
    for run in result.skipped.values():
        print(f"kept:   {run}")
    log.info(
        "%d of %d sections trained, %d kept, %d failed",
        len(result.trained), len(args.sections), len(result.skipped), len(result.failed),
    )  # fmt: skip
    if result.failed:
        lines = "; ".join(f"{name}: {message}" for name, message in result.failed.items())
        raise RunError(
            f"{len(result.failed)} of {len(args.sections)} sections failed ({lines}). The others "
            "are committed; run the failed ones again (--skip-existing leaves finished ones alone)."
        )


def _cmd_report(args: argparse.Namespace) -> None:
    if args.index is not None:
        from vae_genomics.config import load_config
        from vae_genomics.report.index import write_index

        config = load_config(args.config, overrides=_overrides(args))
        configured = _configured_sections(config)
        command = " ".join(["vae-genomics", *args.argv])
        path = write_index(args.index, config.report.reconstruction, configured, command=command)
        print(f"index:  {path}")
        if args.run is None:
            return
    if args.run is None:
        raise RunError("give a run directory (RUN) or --index RUNS_DIR; see vae-genomics report -h")
    _tensorflow(args, args.threads or 0)
    from vae_genomics.commands.finished import report_run

    print(f"report: {report_run(args.run, command=' '.join(['vae-genomics', *args.argv]))}")


def _check_out(args: argparse.Namespace, *inputs: Path | None) -> None:
    """Refuse an --out that is a directory, an input of the run, or exists without --overwrite."""
    from vae_genomics.common.io import check_output_path
    from vae_genomics.run.directory import resolve_run_dir, run_inputs

    run_dir = resolve_run_dir(args.run)
    protected = [*run_inputs(run_dir), *(p for p in inputs if p is not None)]
    check_output_path(args.out, args.overwrite, protected)
    if args.command == "sample":
        check_output_path(Path(f"{args.out}.tbi"), args.overwrite, protected)


def _configured_sections(config: Any) -> list[dict[str, Any]]:
    """Every section of the configured data (name, contig, start, end), or none if unreadable."""
    from vae_genomics.data import list_sections

    try:
        _, sections = list_sections(config.data, genotypes=False)
    except VaeGenomicsError as exc:
        log.warning("the index lists trained sections only: %s", exc)
        return []
    return [{"name": s.name, "contig": s.contig, "start": s.start, "end": s.end} for s in sections]


def _cmd_sample(args: argparse.Namespace) -> None:
    _tensorflow(args)
    if args.runs or args.region or args.sections:
        if args.run is not None:
            raise RunError("give either RUN or --runs/--region/--sections, not both")
        from vae_genomics.commands.sample_region import DEFAULT_JOINT, run_region

        result = run_region(
            args.runs or Path("runs"), args.n, args.out, sections=args.sections,
            region=args.region, joint=args.joint or DEFAULT_JOINT, seed=args.seed,
            report=not args.no_report, decoder=args.decoder, overwrite=args.overwrite,
            source=args.codes, max_components=args.components, neighbours=args.neighbours,
            command=" ".join(["vae-genomics", *args.argv]),
        )  # fmt: skip
        print(f"vcf:    {result.vcf}")
        if result.page is not None:
            print(f"report: {result.page}")
        return
    if args.run is None or args.out is None:
        raise RunError("sample: give RUN and --out (or --runs/--region/--sections for a region)")
    from vae_genomics.commands.finished import sample_run

    if str(args.out) != "-":
        _check_out(args)
    command = " ".join(["vae-genomics", *args.argv])
    path = sample_run(
        args.run, args.n, args.out, sampler=args.sampler, seed=args.seed, command=command
    )
    if path is not None:  # not when the VCF itself went to standard output
        print(f"vcf:    {path}")


def _cmd_evaluate(args: argparse.Namespace) -> None:
    _tensorflow(args)
    import json

    from vae_genomics.commands.evaluate import evaluate_external
    from vae_genomics.common.io import write_json

    if args.out is not None:
        _check_out(args, args.synthetic)
    scores = evaluate_external(args.run, args.synthetic)
    if args.out is None:
        print(json.dumps(scores, indent=1))
    else:
        write_json(args.out, scores)
        v = scores["verdict"]
        why = f" ({v['tripped_by']} = {v['value']:.3g})" if v["tripped_by"] else ""
        print(f"verdict: {v['verdict']}{why}\nscores:  {args.out}")


def _cmd_encode(args: argparse.Namespace) -> None:
    _tensorflow(args)
    from vae_genomics.commands.finished import encode_run

    _check_out(args, args.vcf)
    print(f"latent: {encode_run(args.run, args.out, vcf=args.vcf)}")


def _cmd_sweep(args: argparse.Namespace) -> None:
    from vae_genomics.config import load_config

    overrides = _overrides(args)
    checked = load_config(args.config, section=args.section, overrides=overrides)  # before TF
    _tensorflow(args, checked.runtime.threads)
    from vae_genomics.commands.sweep import DEFAULT_BETAS, run_sweep

    result = run_sweep(
        args.config, args.section, betas=args.betas or DEFAULT_BETAS,
        reencode_weights=args.reencode_weights, jobs=args.jobs, name=args.name,
        min_active_units=args.min_active_units, write=not args.no_write, merge=args.merge,
        overrides=overrides,
    )  # fmt: skip
    print(f"sweep:  {result.sweep_dir}")
    print(f"report: {result.report}")
    if result.recommended is not None:
        print(f"recommended kl_weight: {result.table.at[result.recommended, 'beta']:g}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``vae-genomics`` console script.

    Returns:
        0 on success, 2 for bad input (the message says what to fix), 130 when interrupted.
    """
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    from vae_genomics.common.logs import setup_logging

    setup_logging(args.verbose, args.quiet)
    commands = {
        "sweep": _cmd_sweep,
        "sections": _cmd_sections,
        "cache": _cmd_cache,
        "train": _cmd_train,
        "report": _cmd_report,
        "sample": _cmd_sample,
        "encode": _cmd_encode,
        "evaluate": _cmd_evaluate,
    }
    try:
        commands[args.command](args)
    except VaeGenomicsError as exc:
        log.error("%s", bounded(str(exc)))
        return 2
    except KeyboardInterrupt:
        log.error("interrupted; no finished artifact was replaced")
        return 130
    except OSError as exc:
        log.debug("traceback of the error below", exc_info=True)
        log.error("%s: %s", args.command, os_error_message(exc))
        return 2
    except Exception as exc:  # anything else: one line, the traceback only with -v
        log.debug("traceback of the error below", exc_info=True)
        log.error(
            "%s failed unexpectedly: %s: %s. Run it again with -v for the traceback.",
            args.command, type(exc).__name__, bounded(str(exc) or "(no message)", 300),
        )  # fmt: skip
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
