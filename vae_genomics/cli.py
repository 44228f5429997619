"""``vae-genomics`` command line: parse, call the library, print where the results are."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from vae_genomics import __version__
from vae_genomics.errors import VaeGenomicsError

log = logging.getLogger("vae_genomics")

_DESCRIPTION = """\
Train one variational autoencoder per genomic section of a phased cohort and draw PCA reports
that show whether the model covers the real haplotype distribution or concentrates on its modes.

Typical use:
  vae-genomics sections --config configs/example.yaml         # list the sections of the VCF
  vae-genomics train --config configs/example.yaml            # train the default section
  vae-genomics train --config configs/example.yaml --section 22_16000069-16391517
  vae-genomics report runs/22_16000069-16391517               # re-draw the latest run's report

Configuration: defaults (configs/default.yaml documents every option) <- --config file <-
configs/sections/<section>.yaml <- command-line options.
"""


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", "-c", type=Path, default=None,
        help="YAML config (default: built-in defaults, which use the bundled example data)",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of all subcommands."""
    parser = argparse.ArgumentParser(
        prog="vae-genomics",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "sections",
        help="list the sections of a VCF",
        description="Read the VCF, apply the filters and print its sections as a TSV table "
        "(name, contig, start, end, n_variants; 1-based inclusive coordinates).",
    )
    _add_config(p)
    p.add_argument("--vcf", type=Path, help="VCF/BCF to read (overrides data.vcf)")
    p.add_argument("--window-snps", type=int, help="SNPs per section (overrides data.window_snps)")
    p.add_argument("--min-maf", type=float, help="minimum minor allele frequency (data.min_maf)")
    p.add_argument("--out", type=Path, help="also write the table to this TSV file")
    p.add_argument("--names", action="store_true", help="print only the section names")

    p = sub.add_parser(
        "train",
        help="train the VAE of one section",
        description="Train one section's VAE and write runs/<section>/<run-name>/ with model.keras, "
        "history.csv, split.json, latent.tsv, metrics.json, config.yaml and report/index.html. "
        "The run appears only when complete; an existing run is never replaced without "
        "--overwrite.",
    )
    _add_config(p)
    p.add_argument(
        "--section", "-s", help="section name (default: data.default_section or the first)"
    )
    p.add_argument("--run-name", help="run directory name (default: a timestamp)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run of that name")
    p.add_argument("--epochs", type=int, help="maximum epochs (training.epochs)")
    p.add_argument("--kl-weight", type=float, help="KL weight beta (objective.kl_weight)")
    p.add_argument("--seed", type=int, help="seed of split, initialisation and sampling")

    p = sub.add_parser(
        "report",
        help="re-draw the report of a finished run",
        description="Recompute the figures and report/index.html of a run from its saved model, "
        "configuration and split. RUN is runs/<section>/<run-name> or runs/<section> (latest run).",
    )
    p.add_argument("run", type=Path, metavar="RUN", help="run directory or section directory")
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Nested config overrides from command-line options that were given."""
    spec = {
        "vcf": ("data", "vcf"),
        "window_snps": ("data", "window_snps"),
        "min_maf": ("data", "min_maf"),
        "epochs": ("training", "epochs"),
        "kl_weight": ("objective", "kl_weight"),
        "seed": ("seed",),
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
    return out


def _cmd_sections(args: argparse.Namespace) -> None:
    import pandas as pd

    from vae_genomics.config import load_config
    from vae_genomics.data import list_sections
    from vae_genomics.io import atomic_write_text

    config = load_config(args.config, overrides=_overrides(args))
    _, sections = list_sections(config.data)
    table = pd.DataFrame([s.to_dict() for s in sections])
    table = table.reindex(columns=["name", "contig", "start", "end", "n_variants"])
    text = table.to_csv(sep="\t", index=False)
    if args.out:
        atomic_write_text(args.out, text)
        log.info("wrote %d sections to %s", len(table), args.out)
    sys.stdout.write("\n".join(table["name"]) + "\n" if args.names else text)


def _cmd_train(args: argparse.Namespace) -> None:
    from vae_genomics.training import prepare, train_section

    config, data = prepare(args.config, args.section, _overrides(args))
    result = train_section(config, data, run_name=args.run_name, overwrite=args.overwrite)
    held = result.metrics["heldout"]
    log.info(
        "held-out -ELBO %.2f nats/haplotype (reconstruction %.2f, KL %.2f), %d of %d units active",
        held["neg_elbo"], held["reconstruction"], held["kl"],
        result.metrics["active_units"], result.metrics["latent_dim"],
    )  # fmt: skip
    print(f"run:    {result.run_dir}")
    print(f"report: {result.report}")


def _cmd_report(args: argparse.Namespace) -> None:
    from vae_genomics.training import report_run

    print(f"report: {report_run(args.run)}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``vae-genomics`` console script.

    Returns:
        0 on success, 2 for bad input (the message says what to fix), 130 when interrupted.
    """
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S"
    )
    commands = {"sections": _cmd_sections, "train": _cmd_train, "report": _cmd_report}
    try:
        commands[args.command](args)
    except VaeGenomicsError as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        log.error("interrupted; no finished artifact was replaced")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
