"""Help text of the ``vae-genomics`` command line: the program description and each subcommand's
examples (they run on the bundled example data), kept line by line in --help."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Train one variational autoencoder per genomic section of a phased cohort and draw PCA reports
that show whether the model covers the real haplotype distribution or concentrates on its modes.

Typical use (on the bundled example, from the project directory):
  vae-genomics sections --config configs/example.yaml         # list the sections of the VCF
  vae-genomics cache data/example/example.vcf.gz --out example.vcz   # convert once (data.cache)
  vae-genomics train --config configs/example.yaml            # train the default section
  vae-genomics train --config configs/example.yaml --section 22_487463-942704 --epochs 50
  vae-genomics report runs/22_487463-942704                   # re-draw the latest run's report
  vae-genomics report --index runs --config configs/example.yaml   # one page across sections
  vae-genomics sample runs/22_487463-942704 --n 200 --out synthetic.vcf.gz   # if it meets the privacy budget
  vae-genomics evaluate runs/22_487463-942704 --synthetic other.vcf.gz   # score any generator
  vae-genomics encode runs/22_487463-942704 --out latent.tsv  # the run's own haplotypes
  vae-genomics <command> --help                               # options and examples of each

A finished run directory holds everything sample, evaluate, encode and report need (no VCF): copy it off
the cluster and use it there, or from Python: vae_genomics.load_run("runs/22_487463-942704").

Configuration: defaults (configs/default.yaml documents every option) <- --config file <-
configs/sections/<section>.yaml <- command-line options.
"""


#: Examples under each subcommand's --help (they work on the bundled example data).
EXAMPLES: dict[str, tuple[str, ...]] = {
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
        "vae-genomics sample runs/22_392-487449 --n 200 --privacy lenient --out synthetic.vcf.gz",
        "vae-genomics sample runs/22_392-487449 --n 1000 --sampler prior --seed 1 --out synthetic.vcf.gz",
        "vae-genomics sample runs/22_392-487449 --n 10 --out - | head -20",
        "vae-genomics sample runs/22_392-487449 --populations YRI:200,CEU:100 --out cohort.vcf.gz",
        "vae-genomics sample --runs runs --region chr1:2802297-3009019 --n 1000",
        "vae-genomics sample --runs runs --sections A,B,C --n 1000 --out region.vcf.gz",
        "vae-genomics sample --runs runs --sections A,B,C --admixed CEU:0.8,YRI:0.2 --n 1000 "
        "--generations 10 --out admixed.vcf.gz",
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


def examples(command: str) -> str:
    """The ``examples:`` epilog of a subcommand's --help."""
    return "examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES[command])


class Formatter(argparse.HelpFormatter):
    """Wraps descriptions as usual; keeps the examples epilog line by line."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)
