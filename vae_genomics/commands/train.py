"""``vae-genomics train``: one section (:mod:`~vae_genomics.commands.train_section`) or several
in one job (:mod:`~vae_genomics.commands.train_sections`)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from vae_genomics.commands.options import check_data_input, config_overrides, start_tensorflow
from vae_genomics.common.errors import RunError
from vae_genomics.run.directory import check_new_run

log = logging.getLogger("vae_genomics")


def run_command(args: argparse.Namespace) -> None:
    from vae_genomics.config import key_origin, load_config

    if args.resume and not args.run_name:
        raise RunError(
            "--resume needs --run-name: the run to continue is found by its name (the default "
            "name is a new timestamp)."
        )
    overrides = config_overrides(args)
    if args.skip_existing and not args.sections:
        raise RunError("--skip-existing goes with --sections (and --run-name)")
    for name in args.sections or [args.section]:  # every config error before TensorFlow loads
        checked = load_config(args.config, section=name, overrides=overrides)
    if args.section and args.run_name:  # and a run name taken (a batch goes on past one)
        check_new_run(Path(checked.runs_dir) / args.section, args.run_name, args.overwrite)
    check_data_input(checked)  # and a VCF that is not there
    start_tensorflow(args, checked.runtime.threads)
    from vae_genomics.commands.train_section import RunTarget, train_section
    from vae_genomics.train.fit import prepare

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
