"""``vae-genomics sample RUN --populations YRI:1000,CEU:500``: a synthetic cohort by ancestry.

The names are populations or superpopulations of the run's populations table (the labels its
training haplotypes carry); the counts are haplotypes (individuals with ``--individuals``). The
default generator (or ``--sampler``) is fitted once on all training haplotypes, then each group's
haplotypes are drawn from a code source refitted on that group's training posteriors
(:func:`vae_genomics.generate.conditional.sample_groups`). The VCF names each synthetic individual
by its group (``YRI_syn0001``) and a populations table is written beside it
(``<out>.populations.tsv``: sample, population and, when the run knows them, superpopulation).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vae_genomics.commands.options import table_path
from vae_genomics.commands.population_request import (
    check_request_early,
    parse_counts,
    resolve_request,
)
from vae_genomics.common.errors import DataError, RunError

if TYPE_CHECKING:
    from vae_genomics.run.load import LoadedRun

log = logging.getLogger(__name__)


def draw_populations(
    run: LoadedRun,
    populations: str | Mapping[str, int],
    sampler: str | None = None,
    seed: int | None = None,
    n: int | None = None,
    individuals: bool = False,
) -> dict[str, np.ndarray]:
    """Generated haplotypes of each group of a request (see the module docstring).

    Args:
        run: A loaded run.
        populations: ``"YRI:1000,CEU:500"`` or a mapping (counts are haplotypes, or individuals).
        sampler: A generator name whose code source is fitted on the training posteriors (``gmm``
            stands for ``gmm/bernoulli``, refitted per group); ``None`` is the default generator.
        seed: Seed of the draws (default: the run's seed).
        n: The total number of haplotypes, or ``None``.
        individuals: Counts are individuals.

    Returns:
        Group name → haplotypes, int8 0/1, in the order asked for.

    Raises:
        DataError: See :func:`resolve_request`; an unknown generator, or one drawing from the prior.
    """
    from vae_genomics.generate.conditional import sample_groups
    from vae_genomics.generate.generators import DEFAULT_GENERATOR, make_generator
    from vae_genomics.models.inference import encode

    counts, groups = resolve_request(run, populations, n, individuals)
    seed = run.config.seed if seed is None else seed
    try:
        gen = make_generator(sampler or DEFAULT_GENERATOR, run.config.evaluation.gmm_max_components)
    except ValueError as err:
        raise DataError(f"--sampler: {err}") from None
    if gen.source.name == "prior":
        raise DataError(
            f"--sampler {sampler}: codes from the prior are the same whatever the population; "
            "with --populations use a code source fitted on the training haplotypes (aggregate[:S], "
            "gmm, gmm-heldout; default: the default generator)"
        )
    x_train = run.data.matrix.haplotypes[run.train_rows]
    mean, log_var = encode(run.model, x_train)
    gen.fit_posteriors(run.model, x_train, mean, log_var, seed=run.config.seed)
    return sample_groups(
        gen, run.model, mean, log_var, groups, counts, seed, fit_seed=run.config.seed
    )


def sample_names(drawn: Mapping[str, np.ndarray]) -> list[str]:
    """``<group>_syn0001``, ... per synthetic individual (two rows each), numbered per group."""
    width = max(4, *(len(str(len(h) // 2)) for h in drawn.values()))
    return [f"{g}_syn{i + 1:0{width}d}" for g, h in drawn.items() for i in range(len(h) // 2)]


def populations_table(run: LoadedRun, drawn: Mapping[str, np.ndarray]) -> str:
    """The synthetic individuals' populations table (the format of a run's populations file):
    ``sample``, ``population`` (the group asked for) and, when the run knows superpopulations,
    ``superpopulation`` (a population's own, or the group itself when it is a superpopulation)."""
    supers = None
    if run.superpopulations is not None and run.data.populations is not None:
        pops = np.asarray(run.data.populations, dtype=str)
        supers = dict(zip(pops, np.asarray(run.superpopulations, dtype=str), strict=True))
    names = iter(sample_names(drawn))
    lines = ["sample\tpopulation" + ("\tsuperpopulation" if supers is not None else "")]
    for group, hap in drawn.items():
        extra = "" if supers is None else "\t" + supers.get(group, group)
        lines.extend(f"{next(names)}\t{group}{extra}" for _ in range(len(hap) // 2))
    return "\n".join(lines) + "\n"


def sample_populations_run(
    run_dir: str | Path,
    populations: str | Mapping[str, int],
    out: str | Path,
    n: int | None = None,
    sampler: str | None = None,
    seed: int | None = None,
    individuals: bool = False,
    command: str = "",
    privacy: str | None = None,
) -> tuple[Path | None, Path | None]:
    """Draw a request's haplotypes and write the VCF (samples named by group) and its table.

    The privacy budget (``privacy``, or the run's ``generation.privacy``) is checked on the run's
    measured numbers before drawing (:mod:`vae_genomics.commands.privacy_gate`; the groups share
    the run's decoder, whose leak those numbers measure), the haplotypes drawn are attacked at
    their number before anything is written (:func:`~vae_genomics.commands.release_gate.
    release_gate`), and both are recorded in ``<out>.privacy.json``.

    Returns:
        The VCF's path and the table's (both ``None`` for standard output: no table is written).
    """
    from vae_genomics.commands.options import check_sampler_name
    from vae_genomics.commands.privacy_gate import gate, write_record
    from vae_genomics.commands.release_gate import release_gate
    from vae_genomics.common.io import atomic_write_text
    from vae_genomics.generate.generators import DEFAULT_GENERATOR
    from vae_genomics.run.load import load_run

    check_sampler_name(sampler)
    run = load_run(run_dir)
    record = gate(
        [run], privacy, sampler or DEFAULT_GENERATOR, f"sample of {run.data.section.name}"
    )
    seed = run.config.seed if seed is None else seed
    drawn = draw_populations(run, populations, sampler, seed, n, individuals)
    haplotypes = np.concatenate(list(drawn.values()))
    release_gate(run, haplotypes, record, f"sample of {run.data.section.name}")
    request = "|".join(f"{g}:{len(h)}" for g, h in drawn.items())
    path = write_run_vcf(
        run, haplotypes, out, sampler, seed, command,
        populations=request, sample_names=sample_names(drawn),
    )  # fmt: skip
    if path is None:
        return None, None
    table = table_path(path)
    atomic_write_text(table, populations_table(run, drawn))
    write_record(path, record)
    return path, table


def write_run_vcf(
    run: LoadedRun,
    haplotypes: np.ndarray,
    out: str | Path,
    sampler: str | None,
    seed: int,
    command: str = "",
    overwrite: bool = True,
    populations: str | None = None,
    sample_names: Sequence[str] | None = None,
) -> Path | None:
    """Write haplotypes drawn from a run's model at its section's sites, with the run's provenance.

    Args:
        run: The loaded run the haplotypes were drawn from.
        haplotypes: Shape (n, n_variants), 0/1, n even.
        out: Output path (``.vcf.gz``), or ``-`` for standard output.
        sampler: The generator's name (None: the default generator).
        seed: Seed of the draws.
        command: The command line, for the ``##source`` line.
        overwrite: Replace an existing ``out``.
        populations: The ``group:count|...`` request of ``sample --populations``, or None.
        sample_names: One name per sample, or None for ``syn0001``, ...

    Returns:
        The written path (``None`` for standard output).
    """
    from vae_genomics.data.export import sites_header, write_synthetic_vcf
    from vae_genomics.generate.generators import DEFAULT_GENERATOR

    request = "" if populations is None else f",populations={populations}"
    return write_synthetic_vcf(
        out,
        haplotypes,
        run.data.section.contig,
        run.data.matrix,
        f"##vae_genomics_sample=<section={run.data.section.name},run={run.run_dir.name},"
        f"sampler={sampler or DEFAULT_GENERATOR},seed={seed},haplotypes={len(haplotypes)}"
        f"{request}>",
        command=command,
        contig_length=run.contig_length,
        source=f"run {run.run_dir}",
        overwrite=overwrite,
        sample_names=sample_names,
        extra_lines=[sites_header(run.config.data, haplotypes.shape[1])],
    )


def run_populations(args: argparse.Namespace) -> None:
    """``sample RUN --populations ...`` (called by ``commands.sample.run_command``); without
    ``--populations`` it only explains what is missing."""
    from vae_genomics.commands.options import check_sample_out, start_tensorflow
    from vae_genomics.common.io import check_output_path
    from vae_genomics.run.directory import resolve_run_dir, run_inputs

    if args.populations is None and args.individuals:
        raise RunError("sample: --individuals counts the individuals of --populations NAME:COUNT")
    if args.populations is None:
        raise RunError(
            "sample: give --n (the number of haplotypes) or --populations NAME:COUNT,..."
        )
    if args.run is None or args.out is None:
        raise RunError("sample: give RUN and --out with --populations")
    from vae_genomics.run.limits import check_run_size

    counts = parse_counts(args.populations, "individuals" if args.individuals else "haplotypes")
    total = sum(counts.values()) * (2 if args.individuals else 1)
    check_run_size(args.run, total, args.max_memory)
    check_sample_out(args)
    check_request_early(args.run, args.populations, args.n, args.individuals)
    start_tensorflow(args)
    if str(args.out) != "-":
        protected = run_inputs(resolve_run_dir(args.run))
        check_output_path(table_path(args.out), args.overwrite, protected, "--out's table")
    vcf, table = sample_populations_run(
        args.run, args.populations, args.out, n=args.n, sampler=args.sampler, seed=args.seed,
        individuals=args.individuals, command=" ".join(["vae-genomics", *args.argv]),
        privacy=args.privacy,
    )  # fmt: skip
    if vcf is not None:
        print(f"vcf:    {vcf}")
        print(f"table:  {table}")
