"""``vae-genomics`` command line: parse, call the library, print where the results are."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from vae_genomics import __version__
from vae_genomics.errors import RunError, VaeGenomicsError

log = logging.getLogger("vae_genomics")

_DESCRIPTION = """\
Train one variational autoencoder per genomic section of a phased cohort and draw PCA reports
that show whether the model covers the real haplotype distribution or concentrates on its modes.

Typical use:
  vae-genomics sections --config configs/example.yaml         # list the sections of the VCF
  vae-genomics cache data/example/example.vcf.gz --out example.vcz   # convert once (data.cache)
  vae-genomics train --config configs/example.yaml            # train the default section
  vae-genomics train --config configs/example.yaml --section 22_16000069-16391517
  vae-genomics report runs/22_16000069-16391517               # re-draw the latest run's report
  vae-genomics report --index runs                            # one page across all sections
  vae-genomics sample runs/22_16000069-16391517 --n 200 --sampler gmm --out synthetic.vcf.gz
  vae-genomics encode runs/22_16000069-16391517 --vcf other.vcf.gz --out latent.tsv

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
        description="Read the VCF (or data.cache), apply the filters and print its sections as a "
        "TSV table: name, contig, start, end (1-based inclusive), n_variants (after filtering), "
        "n_records (records in the section before filtering) and the records each filter "
        "removed. --out also writes it to a file. Sections are SNP-count windows, bp windows "
        "(--window-bp), BED intervals (--bed) or regions (--region).",
    )
    _add_config(p)
    p.add_argument("--vcf", type=Path, help="VCF/BCF to read (overrides data.vcf)")
    p.add_argument("--cache", type=Path, help="read this cache instead of the VCF (data.cache)")
    p.add_argument("--samples", type=Path, help="file of sample IDs to keep (data.samples)")
    p.add_argument("--window-snps", type=int, help="SNPs per section (overrides data.window_snps)")
    p.add_argument("--window-bp", type=int, help="bp windows of this width (data.window_bp)")
    p.add_argument("--bed", type=Path, help="one section per BED interval (data.bed)")
    p.add_argument(
        "--region", action="append", dest="regions", metavar="CONTIG:START-END",
        help="a section per region, 1-based inclusive; repeat for more (data.regions)",
    )  # fmt: skip
    p.add_argument("--min-maf", type=float, help="minimum minor allele frequency (data.min_maf)")
    p.add_argument("--min-mac", type=int, help="minimum minor allele count (data.min_mac)")
    p.add_argument(
        "--missing", choices=["error", "drop-site", "impute-af"], help="data.missing policy"
    )
    p.add_argument("--out", type=Path, help="also write the full table to this TSV file")
    p.add_argument("--names", action="store_true", help="print only the section names")

    p = sub.add_parser(
        "cache",
        help="convert a VCF/BCF once into a cache that section jobs read fast",
        description="Parse VCF once and write DIR, a VCF Zarr store (readable by sgkit and zarr) "
        "holding its biallelic SNPs with raw calls, per-site counts and a log of every record. "
        "Set data.cache: DIR (with data.vcf still naming VCF) and every section job reads only "
        "its slice; results are identical to reading the VCF. Filters apply when sections are "
        "loaded, so one cache serves every filter setting. VCF and DIR default to data.vcf and "
        "data.cache of --config. A complete cache of the same file is left as it is.",
    )
    p.add_argument("vcf", type=Path, nargs="?", metavar="VCF", help="VCF/BCF (default: data.vcf)")
    p.add_argument("--out", type=Path, help="cache directory to write (default: data.cache)")
    _add_config(p)
    p.add_argument("--samples", type=Path, help="keep only these samples (one ID per line)")
    p.add_argument("--chunk-variants", type=int, default=1000, help="variants per genotype chunk")
    p.add_argument("--overwrite", action="store_true", help="replace a cache of another file")

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
    p.add_argument(
        "--resume", action="store_true",
        help="continue an interrupted run of this --run-name from its last completed epoch, if it "
        "left a checkpoint (runtime.checkpoint); otherwise start it. Without --resume such a "
        "checkpoint is discarded",
    )  # fmt: skip
    p.add_argument("--epochs", type=int, help="maximum epochs (training.epochs)")
    p.add_argument("--kl-weight", type=float, help="KL weight beta (objective.kl_weight)")
    p.add_argument("--seed", type=int, help="seed of split, initialisation and sampling")
    p.add_argument(
        "--precision", choices=["float32", "mixed_float16", "mixed_bfloat16"],
        help="dtype policy of the layers (runtime.precision)",
    )  # fmt: skip
    p.add_argument(
        "--distribute", choices=["none", "mirrored"],
        help="mirrored: data-parallel over every visible GPU (runtime.distribute)",
    )  # fmt: skip

    p = sub.add_parser(
        "report",
        help="re-draw the report of a finished run, or the index across sections",
        description="Recompute the evaluation (written back into metrics.json), the figures and "
        "report/index.html of a run from its saved model, configuration and split. RUN is "
        "runs/<section>/<run-name> or runs/<section> (latest run). With --index RUNS_DIR, write "
        "RUNS_DIR/index.html instead: one sortable table of every section's latest run, worst "
        "verdict first, linking each section's report.",
    )
    p.add_argument(
        "run", type=Path, nargs="?", metavar="RUN", help="run directory or section directory"
    )
    p.add_argument("--index", type=Path, metavar="RUNS_DIR", help="write the index across sections")
    _add_config(p)

    p = sub.add_parser(
        "sample",
        help="generate synthetic haplotypes as a phased VCF",
        description="Generate N haplotypes with a run's model and write them as a phased, bgzipped "
        "VCF with the section's contig, positions, IDs and REF/ALT alleles. Haplotypes are "
        "Bernoulli draws from the decoder at codes drawn from the prior N(0, I) or from a Gaussian "
        "mixture fitted to the aggregate posterior of the run's training haplotypes (gmm). "
        "Haplotypes 2i and 2i+1 form the phased genotype of synthetic sample i, so N must be even.",
    )
    p.add_argument("run", type=Path, metavar="RUN", help="run directory or section directory")
    p.add_argument("--n", type=int, required=True, help="number of haplotypes (even)")
    p.add_argument("--sampler", choices=["prior", "gmm"], default="prior", help="default: prior")
    p.add_argument("--out", type=Path, required=True, help="output .vcf.gz")
    p.add_argument("--seed", type=int, help="seed of the draws (default: the run's seed)")

    p = sub.add_parser(
        "encode",
        help="embed haplotypes with a run's encoder into a latent TSV",
        description="Write per-haplotype posterior means and sds (columns haplotype, sample, "
        "population, split, mean_1.., sd_1..). Without --vcf, the run's own haplotypes; with "
        "--vcf, a phased VCF/BCF's haplotypes at the section's sites (every site must be present "
        "with the same REF/ALT).",
    )
    p.add_argument("run", type=Path, metavar="RUN", help="run directory or section directory")
    p.add_argument("--vcf", type=Path, help="phased VCF/BCF to embed (default: the run's data)")
    p.add_argument("--out", type=Path, required=True, help="output TSV")

    p = sub.add_parser(
        "sweep",
        help="sweep the KL weight of one section and recommend one",
        description="Train one run per KL weight (same section, seed and split) into "
        "runs/<section>/sweeps/<name>/beta-<b>/, compare them on held-out haplotypes (rate, "
        "distortion, -ELBO, IW-NLL, active units, MI, coverage, verdicts), draw the "
        "rate-distortion curve (rate_distortion.png, index.html, results.csv) and write the "
        "recommended weight into <sections_dir>/<section>.yaml, which `train` then uses. "
        "Recommended: the best held-out -ELBO among points that did not diverge, keep at least "
        "--min-active-units active units, and whose Bernoulli-sampled reconstructions and "
        "aggregate-posterior samples are not mode-seeking or collapsed. Finished points are "
        "reused (an interrupted sweep resumes); a point whose configuration changed is retrained. "
        "A section file with edits of its own is never overwritten: pass --merge.",
    )
    _add_config(p)
    p.add_argument(
        "--section", "-s", help="section name (default: data.default_section or the first)"
    )
    p.add_argument("--betas", type=_floats, default=None,
                   help="comma-separated KL weights (default: 0.03,0.1,0.3,1,3)")  # fmt: skip
    p.add_argument("--reencode-weights", type=_floats, default=None,
                   help="comma-separated re-encoding weights, crossed with the betas")  # fmt: skip
    p.add_argument("--jobs", "-j", type=int, default=1, help="points trained in parallel")
    p.add_argument("--name", default="sweep", help="sweep directory name (default: sweep)")
    p.add_argument("--min-active-units", type=int, default=2,
                   help="fewest active latent units a recommended model keeps (default: 2)")  # fmt: skip
    p.add_argument("--no-write", action="store_true", help="do not write the section's config")
    p.add_argument("--merge", action="store_true",
                   help="merge into a section config that has edits of its own (backup kept)")  # fmt: skip
    p.add_argument("--epochs", type=int, help="maximum epochs per point (training.epochs)")
    return parser


def _floats(text: str) -> list[float]:
    """Parse ``0.1,1,3`` into floats (argparse type)."""
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from exc


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
    from vae_genomics.data import list_sections, section_table
    from vae_genomics.io import atomic_write_text

    overrides = _overrides(args)
    for option, scheme in (("window_snps", "snp-windows"), ("window_bp", "bp-windows"),
                           ("bed", "bed"), ("regions", "regions")):  # fmt: skip
        if getattr(args, option) is not None:
            overrides.setdefault("data", {})["sections"] = scheme
    config = load_config(args.config, overrides=overrides)
    matrix, sections = list_sections(config.data, genotypes=False)
    table = pd.DataFrame(section_table(matrix, sections))
    text = table.to_csv(sep="\t", index=False)
    if args.out:
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
        from vae_genomics.errors import ConfigError

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


def _cmd_train(args: argparse.Namespace) -> None:
    from vae_genomics.training import prepare, train_section

    if args.resume and not args.run_name:
        raise RunError(
            "--resume needs --run-name: the run to continue is found by its name (the default "
            "name is a new timestamp)."
        )
    _interrupt_on_sigterm()
    config, data = prepare(args.config, args.section, _overrides(args))
    result = train_section(
        config, data, run_name=args.run_name, overwrite=args.overwrite, resume=args.resume
    )
    held = result.metrics["heldout"]
    log.info(
        "held-out -ELBO %.2f nats/haplotype (reconstruction %.2f, KL %.2f), %d of %d units active",
        held["neg_elbo"], held["reconstruction"], held["kl"],
        result.metrics["active_units"], result.metrics["latent_dim"],
    )  # fmt: skip
    print(f"run:    {result.run_dir}")
    print(f"report: {result.report}")


def _cmd_report(args: argparse.Namespace) -> None:
    if args.index is not None:
        from vae_genomics.config import load_config
        from vae_genomics.report.index import write_index

        reconstruction = load_config(args.config).report.reconstruction
        print(f"index:  {write_index(args.index, reconstruction)}")
        if args.run is None:
            return
    if args.run is None:
        raise RunError("give a run directory (RUN) or --index RUNS_DIR; see vae-genomics report -h")
    from vae_genomics.finished import report_run

    print(f"report: {report_run(args.run)}")


def _cmd_sample(args: argparse.Namespace) -> None:
    from vae_genomics.finished import sample_run

    path = sample_run(args.run, args.n, args.out, sampler=args.sampler, seed=args.seed)
    print(f"vcf:    {path}")


def _cmd_encode(args: argparse.Namespace) -> None:
    from vae_genomics.finished import encode_run

    print(f"latent: {encode_run(args.run, args.out, vcf=args.vcf)}")


def _cmd_sweep(args: argparse.Namespace) -> None:
    from vae_genomics.sweep import DEFAULT_BETAS, run_sweep

    result = run_sweep(
        args.config, args.section, betas=args.betas or DEFAULT_BETAS,
        reencode_weights=args.reencode_weights, jobs=args.jobs, name=args.name,
        min_active_units=args.min_active_units, write=not args.no_write, merge=args.merge,
        overrides=_overrides(args),
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
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S"
    )
    commands = {
        "sweep": _cmd_sweep,
        "sections": _cmd_sections,
        "cache": _cmd_cache,
        "train": _cmd_train,
        "report": _cmd_report,
        "sample": _cmd_sample,
        "encode": _cmd_encode,
    }
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
