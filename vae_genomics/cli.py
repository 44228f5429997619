"""``vae-genomics`` command line: parse, call the library, print where the results are."""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path
from typing import Any

from vae_genomics import __version__
from vae_genomics.errors import DataError, RunError, VaeGenomicsError
from vae_genomics.evaluation import DEFAULT_GENERATOR

log = logging.getLogger("vae_genomics")

_DESCRIPTION = """\
Train one variational autoencoder per genomic section of a phased cohort and draw PCA reports
that show whether the model covers the real haplotype distribution or concentrates on its modes.

Typical use (on the bundled example, from the project directory):
  vae-genomics sections --config configs/example.yaml         # list the sections of the VCF
  vae-genomics cache data/example/example.vcf.gz --out example.vcz   # convert once (data.cache)
  vae-genomics train --config configs/example.yaml            # train the default section
  vae-genomics train --config configs/example.yaml --section 22_487463-942704 --epochs 50
  vae-genomics report runs/22_487463-942704                   # re-draw the latest run's report
  vae-genomics report --index runs --config configs/example.yaml   # one page across sections
  vae-genomics sample runs/22_487463-942704 --n 200 --out synthetic.vcf.gz   # default generator
  vae-genomics evaluate runs/22_487463-942704 --synthetic other.vcf.gz   # score any generator
  vae-genomics encode runs/22_487463-942704 --out latent.tsv  # the run's own haplotypes
  vae-genomics <command> --help                               # options and examples of each

A finished run directory holds everything sample, evaluate, encode and report need (no VCF): copy it off
the cluster and use it there, or from Python: vae_genomics.load_run("runs/22_487463-942704").

Configuration: defaults (configs/default.yaml documents every option) <- --config file <-
configs/sections/<section>.yaml <- command-line options.
"""


#: Examples under each subcommand's --help (they work on the bundled example data).
_EXAMPLES: dict[str, tuple[str, ...]] = {
    "sections": (
        "vae-genomics sections --config configs/example.yaml",
        "vae-genomics sections --config configs/example.yaml --names",
        "vae-genomics sections --config configs/example.yaml --window-bp 200000 --out sections.tsv",
        "vae-genomics sections --config configs/example.yaml --set data.min_maf=0.05",
    ),
    "cache": (
        "vae-genomics cache data/example/example.vcf.gz --out example.vcz",
        "vae-genomics cache --config configs/example.yaml --out example.vcz   # its data.vcf",
    ),
    "train": (
        "vae-genomics train --config configs/example.yaml",
        "vae-genomics train --config configs/example.yaml --section 22_487463-942704 --epochs 50",
        "vae-genomics train --config configs/example.yaml --kl-weight 0.3 --run-name beta03",
        "vae-genomics train --config configs/example.yaml --set training.learning_rate=3e-4",
        "vae-genomics train --config configs/example.yaml --set model.hidden_units=[128,64]",
        "vae-genomics train --config configs/example.yaml --run-name default --resume   # after a kill",
        "vae-genomics train --config configs/example.yaml --sections 22_392-487449,22_487463-942704 "
        "--run-name default --skip-existing   # several sections in one job",
    ),
    "report": (
        "vae-genomics report runs/22_392-487449            # the latest run of that section",
        "vae-genomics report runs/22_392-487449/default",
        "vae-genomics report --index runs --config configs/example.yaml",
    ),
    "sample": (
        "vae-genomics sample runs/22_392-487449 --n 200 --out synthetic.vcf.gz",
        "vae-genomics sample runs/22_392-487449 --n 1000 --sampler gmm --seed 1 --out synthetic.vcf.gz",
        "vae-genomics sample runs/22_392-487449 --n 10 --out - | head -20",
        "vae-genomics sample --runs runs --region chr1:2802297-3009019 --n 1000",
        "vae-genomics sample --runs runs --sections A,B,C --n 1000 --out region.vcf.gz",
    ),
    "evaluate": (
        "vae-genomics evaluate runs/22_392-487449 --synthetic gan_output.vcf.gz",
        "vae-genomics evaluate runs/22_392-487449 --synthetic synthetic.vcf.gz --out scores.json",
    ),
    "encode": (
        "vae-genomics encode runs/22_392-487449 --out latent.tsv",
        "vae-genomics encode runs/22_392-487449 --vcf data/example/example.vcf.gz --out external.tsv",
    ),
    "sweep": (
        "vae-genomics sweep --config configs/example.yaml --section 22_392-487449",
        "vae-genomics sweep --config configs/example.yaml --section 22_392-487449 --betas 0.3,1,3",
        "vae-genomics sweep --config configs/example.yaml --jobs 2 --epochs 40",
    ),
}


def _examples(command: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in _EXAMPLES[command])


class _Formatter(argparse.HelpFormatter):
    """Wraps descriptions as usual; keeps the examples epilog line by line."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


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


def parse_settings(items: list[str] | None) -> dict[str, Any]:
    """Nested overrides from ``--set key.sub=value`` items (values parsed as YAML).

    Raises:
        ConfigError: An item without ``=`` or without a key, or a value that is not valid YAML.
    """
    import yaml

    from vae_genomics.errors import ConfigError

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
        epilog=_examples("sections"),
        formatter_class=_Formatter,
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
    p.add_argument("--min-maf", type=_finite, help="minimum minor allele frequency (data.min_maf)")
    p.add_argument("--min-mac", type=int, help="minimum minor allele count (data.min_mac)")
    p.add_argument(
        "--missing", choices=["error", "drop-site", "impute-af"], help="data.missing policy"
    )
    p.add_argument("--out", type=Path, help="also write the full table to this TSV file")
    p.add_argument("--names", action="store_true", help="print only the section names")
    _add_set(p)

    p = sub.add_parser(
        "cache",
        epilog=_examples("cache"),
        formatter_class=_Formatter,
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
        epilog=_examples("train"),
        formatter_class=_Formatter,
        help="train the VAE of one section (or of several in one job)",
        description="Train one section's VAE and write runs/<section>/<run-name>/ with model.keras, "
        "history.csv, split.json, latent.tsv, metrics.json, config.yaml and report/index.html. "
        "The run appears only when complete; an existing run is never replaced without "
        "--overwrite.",
    )
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

    p = sub.add_parser(
        "report",
        epilog=_examples("report"),
        formatter_class=_Formatter,
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
    _add_threads(p)
    _add_set(p)

    p = sub.add_parser(
        "sample",
        epilog=_examples("sample"),
        formatter_class=_Formatter,
        help="generate synthetic haplotypes as a phased VCF",
        description="Generate N haplotypes with a run's model and write them as a phased, bgzipped "
        "VCF with the section's contig, positions, IDs and REF/ALT alleles. A generator is a code "
        "source and a decoder, SOURCE/DECODER: sources prior (the model's prior, N(0, I) by "
        "default), gmm or gmm-heldout "
        "(Gaussian mixtures on the aggregate posterior of the run's training haplotypes, "
        "components by BIC or by held-out likelihood), aggregate[:S] (the aggregate posterior "
        "itself, spread inflated S times); decoders bernoulli (independent draws per site), "
        "temperature:T (draws from sharpened probabilities), calls (p >= 0.5) or ld[:K[:T]] "
        "(each site drawn given its decoder probability and the K sites before it, by a head "
        "fitted on the training haplotypes; K = 8, T = 1 unless given). The default is "
        "the generator the report evaluates, chosen by measurement (docs/experiments.md); prior "
        "and gmm are Bernoulli draws from the prior and from the run's stored mixture. "
        "Haplotypes 2i and 2i+1 form the phased genotype of synthetic sample i, so N must be even.",
    )
    p.add_argument(
        "run", type=Path, nargs="?", metavar="RUN",
        help="run directory or section directory (not with --runs/--region/--sections)",
    )  # fmt: skip
    p.add_argument("--n", type=int, required=True, help="number of haplotypes (even)")
    p.add_argument(
        "--sampler", metavar="GENERATOR", default=None,
        help=f"generator, e.g. prior, gmm, gmm/calls, aggregate:2/calls, aggregate/calls/guard "
        f"(default: {DEFAULT_GENERATOR})",
    )  # fmt: skip
    p.add_argument(
        "--out", type=Path,
        help="output .vcf.gz (a tabix index .tbi is written beside it), or - for VCF text on "
        "standard output; required for RUN (a region: default "
        "RUNS_DIR/regions/<region>/<region>.vcf.gz)",
    )  # fmt: skip
    p.add_argument("--seed", type=_seed, help="seed of the draws (default: the run's seed)")
    _add_region_options(p)

    p = sub.add_parser(
        "evaluate",
        epilog=_examples("evaluate"),
        formatter_class=_Formatter,
        help="score another generator's haplotypes (a VCF) against a run's held-out haplotypes",
        description="Read a phased VCF/BCF's haplotypes at the run's sites (every site must be "
        "present with the same REF/ALT) and score them like the run's generated samples: "
        "coverage, precision and variance ratios in PCA and Hamming space, LD, AATS, privacy "
        "loss and exact training copies, LD decay, site frequency spectrum and pairwise "
        "distances, each beside the real-vs-real ceiling, and the verdict with the number that "
        "tripped it. Uses only the run directory (its stored sites and haplotypes). Writes JSON.",
    )
    p.add_argument("run", type=Path, metavar="RUN", help="run directory or section directory")
    p.add_argument(
        "--synthetic", type=Path, required=True, metavar="VCF",
        help="phased VCF/BCF to score (e.g. a GAN's, another VAE's or a simulator's output)",
    )  # fmt: skip
    p.add_argument("--out", type=Path, help="write the JSON here (default: standard output)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")

    p = sub.add_parser(
        "encode",
        epilog=_examples("encode"),
        formatter_class=_Formatter,
        help="embed haplotypes with a run's encoder into a latent TSV",
        description="Write per-haplotype posterior means and sds (columns haplotype, sample, "
        "population, split, mean_1.., sd_1..). Without --vcf, the run's own haplotypes; with "
        "--vcf, a phased VCF/BCF's haplotypes at the section's sites (every site must be present "
        "with the same REF/ALT).",
    )
    p.add_argument("run", type=Path, metavar="RUN", help="run directory or section directory")
    p.add_argument("--vcf", type=Path, help="phased VCF/BCF to embed (default: the run's data)")
    p.add_argument("--out", type=Path, required=True, help="output TSV")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")

    p = sub.add_parser(
        "sweep",
        epilog=_examples("sweep"),
        formatter_class=_Formatter,
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
    _add_threads(p)
    _add_set(p)
    return parser


def _add_region_options(p: argparse.ArgumentParser) -> None:
    """``sample`` options of a whole region (vae_genomics.region)."""
    g = p.add_argument_group(
        "whole region",
        "One VCF over consecutive sections, sampled jointly so that haplotypes continue across "
        "section boundaries: --region or --sections chooses sections of --runs (neither: every "
        "trained section). The sections must share seed, samples and held-out haplotypes and "
        "follow one another without gap. Writes the VCF (+ .tbi), region.json and index.html "
        "(the region panel and LD across boundaries, every joint model beside the ceiling).",
    )
    g.add_argument("--runs", type=Path, metavar="RUNS_DIR", help="runs directory (default: runs)")
    g.add_argument(
        "--region",
        metavar="CONTIG:START-END",
        help="the sections overlapping this range (sites outside it are left out)",
    )
    g.add_argument("--sections", type=lambda t: [v for v in t.split(",") if v],
                   metavar="A,B,...", help="these sections (comma-separated)")  # fmt: skip
    g.add_argument("--joint", choices=["mosaic", "chain", "joint", "independent"], default=None,
                   help="joint latent model of the VCF: mosaic (each section's aggregate "
                   "posterior, switching at each boundary to one of the --neighbours nearest "
                   "training haplotypes), joint "
                   "(one mixture over all codes), chain (a Markov chain of mixtures along the "
                   "genome), or independent (each section on its own, the floor); default: "
                   "the one chosen by measurement (docs/experiments.md, Regions)")  # fmt: skip
    g.add_argument("--decoder", metavar="RULE",
                   help="alleles from decoder probabilities: bernoulli, temperature:T, calls or "
                   "ld[:K[:T]] (one head over the region, its context crossing section "
                   "boundaries; default: the decoder of sample's default generator)")  # fmt: skip
    g.add_argument("--codes", choices=["means", "samples"],
                   help="codes the joint model is fitted on: posterior means (default) or one "
                   "draw z ~ q(z|x) per training haplotype")  # fmt: skip
    g.add_argument("--neighbours", type=int, metavar="M",
                   help="mosaic: training haplotypes a synthetic one may switch to at each "
                   "boundary, the nearest in the section before (default: one per 80 training "
                   "haplotypes; 1 copies one training haplotype's codes through the region)")  # fmt: skip
    g.add_argument("--components", type=int, metavar="K",
                   help="largest number of components of each Gaussian mixture, chosen by BIC "
                   "(default: 24)")  # fmt: skip
    g.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    g.add_argument("--no-report", action="store_true", help="only the VCF, no evaluation/page")


def _floats(text: str) -> list[float]:
    """Parse ``0.1,1,3`` into finite floats (argparse type)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text[:80]!r}"
        ) from exc
    if not values:
        raise argparse.ArgumentTypeError(f"expected at least one number, got {text[:80]!r}")
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text[:80]!r}")
    return values


def _seed(text: str) -> int:
    """A seed: an integer from 0 to 2**32 - 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text[:80]!r}") from exc
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to 2**32 - 1, got {value}")
    return value


def _finite(text: str) -> float:
    """A finite float (argparse type)."""
    values = _floats(text)
    if len(values) != 1:
        raise argparse.ArgumentTypeError(f"expected one number, got {text[:80]!r}")
    return values[0]


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
        from vae_genomics.io import check_output_path

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


def _add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--threads", type=int, help="CPU threads of TensorFlow and the evaluation (runtime.threads)"
    )


def _tensorflow(args: argparse.Namespace, threads: int = 0) -> None:
    """Import TensorFlow now, its start-up notices filtered (all of them shown with -v), and bound
    its threads and BLAS's to ``threads`` (0: the libraries' defaults)."""
    from vae_genomics.logs import import_tensorflow_quietly
    from vae_genomics.threads import limit_threads

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
    from vae_genomics.training import prepare, train_section

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
    result = train_section(
        config, data, run_name=args.run_name, overwrite=args.overwrite, resume=args.resume,
        origins=origins(data.section.name), command=command,
    )  # fmt: skip
    held = result.metrics["heldout"]
    log.info(
        "held-out -ELBO %.2f nats/haplotype (reconstruction %.2f, KL %.2f), %d of %d units active",
        held["neg_elbo"], held["reconstruction"], held["kl"],
        result.metrics["active_units"], result.metrics["latent_dim"],
    )  # fmt: skip
    print(f"run:    {result.run_dir}")
    print(f"report: {result.report}")


def _train_batch(args: argparse.Namespace, overrides: dict, origins: Any, command: str) -> None:
    """``train --sections``: every section in this job (see :mod:`vae_genomics.batch`)."""
    from vae_genomics.batch import train_sections
    from vae_genomics.training import prepare

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
    from vae_genomics.finished import report_run

    print(f"report: {report_run(args.run, command=' '.join(['vae-genomics', *args.argv]))}")


def _check_out(args: argparse.Namespace, *inputs: Path | None) -> None:
    """Refuse an --out that is a directory, an input of the run, or exists without --overwrite."""
    from vae_genomics.io import check_output_path
    from vae_genomics.runs import resolve_run_dir, run_inputs

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
        from vae_genomics.region.command import DEFAULT_JOINT, run_region

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
    from vae_genomics.finished import sample_run

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

    from vae_genomics.external import evaluate_external
    from vae_genomics.io import write_json

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
    from vae_genomics.finished import encode_run

    _check_out(args, args.vcf)
    print(f"latent: {encode_run(args.run, args.out, vcf=args.vcf)}")


def _cmd_sweep(args: argparse.Namespace) -> None:
    from vae_genomics.config import load_config

    overrides = _overrides(args)
    checked = load_config(args.config, section=args.section, overrides=overrides)  # before TF
    _tensorflow(args, checked.runtime.threads)
    from vae_genomics.sweep import DEFAULT_BETAS, run_sweep

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
    from vae_genomics.logs import setup_logging

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


def bounded(text: str, limit: int = 2000) -> str:
    """``text`` cut to ``limit`` characters (an error message never floods the terminal)."""
    return (
        text if len(text) <= limit else f"{text[:limit]}... [{len(text) - limit} more characters]"
    )


def os_error_message(exc: OSError) -> str:
    """One line for an operating-system error: the file, the cause and what to do."""
    import errno

    where = f"{exc.filename}: " if exc.filename is not None else ""
    cause = exc.strerror or str(exc)
    advice = {
        errno.ENOSPC: "free some space on that device (or write elsewhere) and run it again",
        errno.EDQUOT: "free some space within your quota and run it again",
        errno.EACCES: "check the permissions of that path, or choose another one",
        errno.EPERM: "check the permissions of that path, or choose another one",
        errno.EROFS: "the file system is read-only; choose another path",
        errno.EISDIR: "a directory was given where a file is expected; give a file path",
        errno.ENOTDIR: "a file was given where a directory is expected; give a directory path",
        errno.ENOENT: "check that the path exists",
    }.get(exc.errno or 0, "check the path and run it again (with -v for the traceback)")
    return bounded(f"{where}{cause}; {advice}.", 600)


if __name__ == "__main__":
    sys.exit(main())
