"""Options of ``vae-genomics sample``: one run, populations, admixture, a whole region."""

from __future__ import annotations

import argparse
from pathlib import Path

from vae_genomics.cli.argtypes import positive, privacy_budget, seed
from vae_genomics.generate import DEFAULT_GENERATOR
from vae_genomics.generate.admixture import DEFAULT_GENERATIONS, DEFAULT_RATE


def sample_options(p: argparse.ArgumentParser) -> None:
    """Options of ``sample``: synthetic haplotypes as a phased VCF (a run or a region)."""
    p.add_argument(
        "run", type=Path, nargs="?", metavar="RUN",
        help="run directory or section directory (not with --runs/--region/--sections)",
    )  # fmt: skip
    p.add_argument("--n", type=int, help="number of haplotypes (even; --populations: their sum)")
    p.add_argument(
        "--sampler", metavar="GENERATOR", default=None,
        help=f"generator, e.g. prior, gmm, gmm/calls, aggregate:2/calls, aggregate/calls/guard "
        f"(default: {DEFAULT_GENERATOR})",
    )  # fmt: skip
    p.add_argument(
        "--out", type=Path,
        help="output .vcf.gz or .vcf.bgz (bgzipped; a tabix index .tbi is written beside it), "
        "or - for VCF text on standard output; required for RUN (a region: default "
        "RUNS_DIR/regions/<region>/<region>.vcf.gz)",
    )  # fmt: skip
    p.add_argument("--seed", type=seed, help="seed of the draws (default: the run's seed)")
    p.add_argument("--max-memory", metavar="SIZE", help="refuse an --n whose memory estimate "
                   "(N × sites × 32 bytes; a region drawn section by section: N × (sites of its "
                   "largest section / 8 + 1 KB) + 4,096 × those sites × 32 bytes) exceeds SIZE, "
                   "e.g. 16G (default 4G)")  # fmt: skip
    p.add_argument(
        "--privacy", metavar="BUDGET", default=None, type=privacy_budget,
        help="privacy budget every section must meet, checked on the numbers its report "
        "measured (privacy loss and distance-attack AUC beside the real reference) before "
        "anything is drawn, and a distance attack on the haplotypes drawn, at their number, "
        "before anything is written: strict, standard, lenient, loss=X,auc=Y, or "
        "off (no check; the behaviour before budgets). What was checked goes to <out>.privacy.json "
        "(default: the run's generation.privacy, standard)",
    )  # fmt: skip
    _add_population_options(p)
    _add_region_options(p)


def _add_population_options(p: argparse.ArgumentParser) -> None:
    """``sample RUN --populations``: a synthetic cohort by ancestry (commands/sample_populations)."""
    p.add_argument(
        "--populations", metavar="NAME:COUNT,...", default=None,
        help="haplotypes per population or superpopulation of the run's populations table, e.g. "
        "YRI:1000,CEU:500: each drawn from codes fitted on that group's training haplotypes; "
        "samples are named <NAME>_syn0001 and <out>.populations.tsv is written beside the VCF",
    )  # fmt: skip
    p.add_argument(
        "--individuals", action="store_true",
        help="the counts of --populations (or --n of --admixed) are individuals (2 haplotypes "
        "each)",
    )  # fmt: skip
    p.add_argument(
        "--admixed", metavar="NAME:FRACTION,...", default=None,
        help="admixed haplotypes over a region (--runs/--region/--sections), e.g. CEU:0.8,YRI:0.2: "
        "ancestry tracts from a single admixture pulse --generations ago, each tract's alleles "
        "from its source population's own mosaic; writes <out>.ancestry.tsv (the true local "
        "ancestry, one row per tract), <out>.admixture.json and <out>.populations.tsv",
    )  # fmt: skip
    p.add_argument(
        "--generations", type=float, default=DEFAULT_GENERATIONS, metavar="T",
        help=f"generations since admixture, for --admixed (default {DEFAULT_GENERATIONS:g})",
    )  # fmt: skip
    p.add_argument(
        "--recombination-rate", type=float, default=DEFAULT_RATE, metavar="R",
        help=f"crossovers per bp per generation, for --admixed (default {DEFAULT_RATE:g}; "
        "ancestry switches at T × R per bp)",
    )  # fmt: skip


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
                   "training haplotypes of its --mosaic-groups), joint "
                   "(one mixture over all codes), chain (a Markov chain of mixtures along the "
                   "genome), or independent (each section on its own, the floor); default: "
                   "the one chosen by measurement "
                   "(experiments/notebook/region-mosaic.md, Regions)")  # fmt: skip
    g.add_argument("--decoder", metavar="RULE",
                   help="alleles from decoder probabilities: bernoulli, temperature:T, calls or "
                   "ld[:K[:T]] (one head over the region, its context crossing section "
                   "boundaries; default: the decoder of sample's default generator)")  # fmt: skip
    g.add_argument("--codes", choices=["means", "samples"],
                   help="codes the joint model is fitted on: posterior means (default) or one "
                   "draw z ~ q(z|x) per training haplotype")  # fmt: skip
    g.add_argument("--neighbours", type=positive, metavar="M",
                   help="mosaic: training haplotypes a synthetic one may switch to at each "
                   "boundary, the nearest to its template (see --switch-sites; default: one per "
                   "80 training haplotypes; 1 copies one training haplotype's codes through the "
                   "region)")  # fmt: skip
    g.add_argument("--mosaic-groups", choices=["superpopulation", "population", "none"],
                   help="mosaic: switch only to training haplotypes of the template's own "
                   "superpopulation (its population where the populations table has no "
                   "superpopulation column) or population, so a synthetic haplotype keeps one "
                   "ancestry along the region; none: switch freely (over a chromosome, "
                   "haplotypes then drift across populations); default: superpopulation")  # fmt: skip
    g.add_argument("--switch-sites", type=int, metavar="W",
                   help="mosaic: at each boundary, switch to the training haplotypes nearest the "
                   "template in the alleles of the last W sites before it with a MAF of 1%% or "
                   "more, which carry the linkage across the boundary (0: nearest in the latent "
                   "space of the section before); default: 60, and 0 for each population's own "
                   "mosaic (--populations, --admixed)")  # fmt: skip
    g.add_argument("--components", type=positive, metavar="K",
                   help="largest number of components of each Gaussian mixture, chosen by BIC "
                   "(default: 24)")  # fmt: skip
    g.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    g.add_argument("--no-report", action="store_true", help="only the VCF, no evaluation/page")
