"""The ``vae-genomics`` argument parser: subcommands, their options and help, value types."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from vae_genomics import __version__
from vae_genomics.cli.argtypes import finite as _finite
from vae_genomics.cli.argtypes import floats as _floats
from vae_genomics.cli.argtypes import positive as _positive
from vae_genomics.cli.argtypes import seed as _seed
from vae_genomics.cli.help import DESCRIPTION, Formatter, examples
from vae_genomics.cli.sample_options import sample_options as _sample_options


def _command(sub: argparse._SubParsersAction, name: str, **kwargs: str) -> argparse.ArgumentParser:
    """A subcommand's parser, with its examples (:data:`~vae_genomics.cli.help.EXAMPLES`) as the
    epilog of its --help."""
    return sub.add_parser(name, epilog=examples(name), formatter_class=Formatter, **kwargs)


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", "-c", type=Path, default=None,
        help="YAML config (default: built-in defaults, which use the bundled example data)",
    )  # fmt: skip


def _add_set(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set", action="append", dest="settings", metavar="KEY=VALUE", default=None,
        help="set any config key, e.g. --set training.learning_rate=3e-4 --set "
        "model.hidden_units=[128,64]; the value is read as YAML and validated like the config "
        "file (repeatable; wins over the other options)",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of all subcommands."""
    parser = argparse.ArgumentParser(
        prog="vae-genomics",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for name, (add_options, help_text, description) in _COMMANDS.items():
        add_options(_command(sub, name, help=help_text, description=description))
    return parser


def _sections_options(p: argparse.ArgumentParser) -> None:
    """Options of ``sections``: list the sections of a VCF."""
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
    p.add_argument("--min-maf", type=_finite, help="minimum minor allele frequency (data.min_maf)")
    p.add_argument("--min-mac", type=int, help="minimum minor allele count (data.min_mac)")
    p.add_argument(
        "--missing", choices=["error", "drop-site", "impute-af"], help="data.missing policy"
    )
    p.add_argument("--out", type=Path, help="also write the full table to this TSV file")
    p.add_argument("--names", action="store_true", help="print only the section names")
    _add_set(p)


def _cache_options(p: argparse.ArgumentParser) -> None:
    """Options of ``cache``: convert a VCF/BCF once into a cache."""
    p.add_argument("vcf", type=Path, nargs="?", metavar="VCF", help="VCF/BCF (default: data.vcf)")
    p.add_argument("--out", type=Path, help="cache directory to write (default: data.cache)")
    _add_config(p)
    p.add_argument("--samples", type=Path, help="keep only these samples (one ID per line)")
    p.add_argument("--chunk-variants", type=_positive, default=1000,
                   help="variants per genotype chunk")  # fmt: skip
    p.add_argument("--overwrite", action="store_true", help="replace a cache of another file")


def _train_options(p: argparse.ArgumentParser) -> None:
    """Options of ``train``: train the VAE of one section or of several."""
    _add_config(p)
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--section", "-s", help="section name (default: data.default_section or the first)"
    )
    g.add_argument(
        "--sections", type=lambda t: [v for v in t.split(",") if v], metavar="A,B,...",
        help="train these sections one after the other in this one job (one start-up; each "
        "report is drawn while the next section trains); a failed section does not stop the "
        "others, and the command exits 2 naming every failure",
    )  # fmt: skip
    p.add_argument("--run-name", help="run directory name (default: a timestamp)")
    p.add_argument(
        "--skip-existing", action="store_true",
        help="with --sections: leave a section whose finished run of --run-name exists as it is",
    )  # fmt: skip
    p.add_argument(
        "--overwrite", action="store_true",
        help="replace an existing run of that name (and discard an interrupted run's checkpoint)",
    )  # fmt: skip
    p.add_argument(
        "--resume", action="store_true",
        help="continue an interrupted run of this --run-name from its last completed epoch, if it "
        "left a checkpoint (runtime.checkpoint); otherwise start it. A checkpoint is kept until "
        "the run completes: without --resume the command refuses it (--overwrite discards it)",
    )  # fmt: skip
    p.add_argument("--epochs", type=int, help="maximum epochs (training.epochs)")
    p.add_argument("--kl-weight", type=_finite, help="KL weight beta (objective.kl_weight)")
    p.add_argument("--seed", type=_seed, help="seed of split, initialisation and sampling")
    p.add_argument(
        "--precision", choices=["float32", "mixed_float16", "mixed_bfloat16"],
        help="dtype policy of the layers (runtime.precision)",
    )  # fmt: skip
    p.add_argument(
        "--distribute", choices=["none", "mirrored"],
        help="mirrored: data-parallel over every visible GPU (runtime.distribute)",
    )  # fmt: skip
    _add_threads(p)
    _add_set(p)


def _report_options(p: argparse.ArgumentParser) -> None:
    """Options of ``report``: re-draw a run's report, or the index across sections."""
    p.add_argument(
        "run", type=Path, nargs="?", metavar="RUN", help="run directory or section directory"
    )
    p.add_argument("--index", type=Path, metavar="RUNS_DIR",
                   help="write the index across sections (with --config, the configured sections "
                   "without a run are listed as not trained)")  # fmt: skip
    _add_config(p)
    _add_threads(p)
    _add_set(p)


def _evaluate_options(p: argparse.ArgumentParser) -> None:
    """Options of ``evaluate``: score another generator's VCF against a run."""
    p.add_argument("run", type=Path, metavar="RUN", help="run directory or section directory")
    p.add_argument(
        "--synthetic", type=Path, required=True, metavar="VCF",
        help="phased VCF/BCF to score (e.g. a GAN's, another VAE's or a simulator's output)",
    )  # fmt: skip
    p.add_argument(
        "--populations", type=Path, metavar="TSV",
        help="the VCF's samples' populations (columns sample, population; e.g. the table `sample "
        "--populations` writes): adds each population's numbers against the run's real "
        "haplotypes of it",
    )  # fmt: skip
    p.add_argument("--out", type=Path, help="write the JSON here (default: standard output)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")


def _encode_options(p: argparse.ArgumentParser) -> None:
    """Options of ``encode``: embed haplotypes with a run's encoder."""
    p.add_argument("run", type=Path, metavar="RUN", help="run directory or section directory")
    p.add_argument("--vcf", type=Path, help="phased VCF/BCF to embed (default: the run's data)")
    p.add_argument("--out", type=Path, required=True, help="output TSV, or - for standard output")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")


def _sweep_options(p: argparse.ArgumentParser) -> None:
    """Options of ``sweep``: sweep the KL weight of one section."""
    _add_config(p)
    p.add_argument(
        "--section", "-s", help="section name (default: data.default_section or the first)"
    )
    p.add_argument("--betas", type=_floats, default=None,
                   help="comma-separated KL weights (default: 0.03,0.1,0.3,1,3)")  # fmt: skip
    p.add_argument("--reencode-weights", type=_floats, default=None,
                   help="comma-separated re-encoding weights, crossed with the betas")  # fmt: skip
    p.add_argument("--jobs", "-j", type=_positive, default=1,
                   help="points trained in parallel (at most as many as points)")  # fmt: skip
    p.add_argument("--name", default="sweep", help="sweep directory name (default: sweep)")
    p.add_argument("--min-active-units", type=int, default=2,
                   help="fewest active latent units a recommended model keeps (default: 2)")  # fmt: skip
    p.add_argument("--no-write", action="store_true", help="do not write the section's config")
    p.add_argument("--merge", action="store_true",
                   help="merge into a section config that has edits of its own (backup kept)")  # fmt: skip
    p.add_argument("--epochs", type=int, help="maximum epochs per point (training.epochs)")
    _add_threads(p)
    _add_set(p)


#: Each subcommand in ``--help`` order: the function adding its options, its help and description.
_COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], str, str]] = {
    "sections": (
        _sections_options,
        "list the sections of a VCF",
        "Read the VCF (or data.cache), apply the filters and print its sections as a "
        "TSV table: name, contig, start, end (1-based inclusive), n_variants (after filtering), "
        "n_records (records in the section before filtering) and the records each filter "
        "removed. --out also writes it to a file. Sections are SNP-count windows, bp windows "
        "(--window-bp), BED intervals (--bed) or regions (--region).",
    ),
    "cache": (
        _cache_options,
        "convert a VCF/BCF once into a cache that section jobs read fast",
        "Parse VCF once and write DIR, a VCF Zarr store (readable by sgkit and zarr) "
        "holding its biallelic SNPs with raw calls, per-site counts and a log of every record. "
        "Set data.cache: DIR (with data.vcf still naming VCF) and every section job reads only "
        "its slice; results are identical to reading the VCF. Filters apply when sections are "
        "loaded, so one cache serves every filter setting. VCF and DIR default to data.vcf and "
        "data.cache of --config. A complete cache of the same file is left as it is.",
    ),
    "train": (
        _train_options,
        "train the VAE of one section (or of several in one job)",
        "Train one section's VAE and write runs/<section>/<run-name>/ with model.keras, "
        "history.csv, split.json, latent.tsv, metrics.json, config.yaml and report/index.html. "
        "The run appears only when complete; an existing run is never replaced without "
        "--overwrite.",
    ),
    "report": (
        _report_options,
        "re-draw the report of a finished run, or the index across sections",
        "Recompute the evaluation (written back into metrics.json), the figures and "
        "report/index.html of a run from its saved model, configuration and split. RUN is "
        "runs/<section>/<run-name> or runs/<section> (latest run). With --index RUNS_DIR, write "
        "RUNS_DIR/index.html instead: one sortable table of every section's latest run, worst "
        "verdict first, linking each section's report.",
    ),
    "sample": (
        _sample_options,
        "generate synthetic haplotypes as a phased VCF",
        "Generate N haplotypes with a run's model and write them as a phased, bgzipped "
        "VCF with the section's contig, positions, IDs and REF/ALT alleles. A generator is a code "
        "source and a decoder, SOURCE/DECODER: sources prior (the model's prior, N(0, I) by "
        "default), gmm or gmm-heldout "
        "(Gaussian mixtures on the aggregate posterior of the run's training haplotypes, "
        "components by BIC or by held-out likelihood), aggregate[:S] (the aggregate posterior "
        "itself, spread inflated S times); decoders bernoulli (independent draws per site), "
        "temperature:T (draws from sharpened probabilities), calls (p >= 0.5) or ld[:K[:T]] "
        "(each site drawn given its decoder probability and the K sites before it, by a head "
        "fitted on the training haplotypes; K = 8, T = 1 unless given; sites with a training "
        "minor-allele frequency below 1% are drawn at T = 1). The default is "
        "the generator the report evaluates, chosen by measurement (experiments/notebook/ld-head.md); prior "
        "and gmm are Bernoulli draws from the prior and from the run's stored mixture. "
        "Haplotypes 2i and 2i+1 form the phased genotype of synthetic sample i, so N must be even.",
    ),
    "evaluate": (
        _evaluate_options,
        "score another generator's haplotypes (a VCF) against a run's held-out haplotypes",
        "Read a phased VCF/BCF's haplotypes at the run's sites (every site must be "
        "present with the same REF/ALT) and score them like the run's generated samples: "
        "coverage, precision and variance ratios in PCA and Hamming space, LD, AATS, privacy "
        "loss and exact training copies, LD decay, site frequency spectrum and pairwise "
        "distances, each beside the real-vs-real ceiling, and the verdict with the number that "
        "tripped it. Uses only the run directory (its stored sites and haplotypes). Writes JSON "
        "(to standard output, or with --out to a file, printing the verdict, coverage, LD, "
        "privacy and rare-site numbers beside the ceiling).",
    ),
    "encode": (
        _encode_options,
        "embed haplotypes with a run's encoder into a latent TSV",
        "Write per-haplotype posterior means and sds (columns haplotype, sample, "
        "population, split, mean_1.., sd_1..). Without --vcf, the run's own haplotypes; with "
        "--vcf, a phased VCF/BCF's haplotypes at the section's sites (every site must be present "
        "with the same REF/ALT).",
    ),
    "sweep": (
        _sweep_options,
        "sweep the KL weight of one section and recommend one",
        "Train one run per KL weight (same section, seed and split) into "
        "runs/<section>/sweeps/<name>/beta-<b>/, compare them on held-out haplotypes (rate, "
        "distortion, -ELBO, IW-NLL, active units, MI, coverage, verdicts), draw the "
        "rate-distortion curve (rate_distortion.png, index.html, results.csv) and write the "
        "recommended weight into <sections_dir>/<section>.yaml, which `train` then uses. "
        "Recommended: the best held-out -ELBO among points that did not diverge, keep at least "
        "--min-active-units active units, and whose Bernoulli-sampled reconstructions and "
        "aggregate-posterior samples are not mode-seeking or collapsed. Finished points are "
        "reused (an interrupted sweep resumes); a point whose configuration changed is retrained. "
        "A section file with edits of its own is never overwritten: pass --merge.",
    ),
}


def _add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--threads", type=int, help="CPU threads of TensorFlow and the evaluation (runtime.threads)"
    )
