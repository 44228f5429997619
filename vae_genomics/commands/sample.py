"""``vae-genomics sample RUN``: synthetic haplotypes from one section's run, written as VCF."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vae_genomics.commands.options import check_sample_out, check_sampler_name, start_tensorflow
from vae_genomics.common.errors import DataError, RunError
from vae_genomics.data.packed import PackedHaplotypes
from vae_genomics.generate.names import SHORT_NAMES

if TYPE_CHECKING:
    from vae_genomics.run.load import LoadedRun

log = logging.getLogger(__name__)


def draw_haplotypes(
    run: LoadedRun, n: int, sampler: str | None = None, seed: int | None = None
) -> np.ndarray:
    """Generated haplotypes of a run's model.

    Args:
        run: A loaded run.
        n: Number of haplotypes.
        sampler: A generator name (``source/decoder``,
            :func:`~vae_genomics.generate.generators.make_generator`), fitted to the posteriors of
            the run's training haplotypes; ``None`` is
            :data:`~vae_genomics.generate.generators.DEFAULT_GENERATOR`, what the report
            evaluates. Two short names are kept: ``prior`` (Bernoulli draws at z ~ p(z), the
            model's prior) and ``gmm`` (Bernoulli draws at codes from the run's stored BIC mixture,
            :meth:`LoadedRun.mixture`).
        seed: Seed of the draws (default: the run's seed).

    Returns:
        Haplotypes, int8 0/1, shape (n, n_variants).

    Raises:
        DataError: An unknown generator name.
    """
    from vae_genomics.generate.generators import DEFAULT_GENERATOR
    from vae_genomics.generate.samplers import sample_gmm, sample_prior

    seed = run.config.seed if seed is None else seed
    sampler = sampler or DEFAULT_GENERATOR
    if sampler == "gmm":
        return sample_gmm(run.model, run.mixture(), n, seed=seed)["samples"].astype(np.int8)
    if sampler == "prior":
        return sample_prior(run.model, n, seed=seed)["samples"].astype(np.int8)
    gen = _fitted_generator(run, sampler)
    return gen.sample(run.model, n, seed=seed)["samples"].astype(np.int8)


def _fitted_generator(run: LoadedRun, sampler: str) -> Any:
    """The ``source/decoder[/guard]`` generator ``sampler``, fitted to the run's training
    haplotypes (:func:`~vae_genomics.generate.generators.make_generator`).

    Raises:
        DataError: An unknown generator name.
    """
    from vae_genomics.generate.generators import make_generator

    try:
        gen = make_generator(sampler, run.config.evaluation.gmm_max_components)
    except ValueError as err:
        raise DataError(f"--sampler: {err}") from None
    gen.fit(run.model, run.data.matrix.haplotypes[run.train_rows], seed=run.config.seed)
    return gen


def in_blocks(sampler: str | None) -> bool:
    """Whether :func:`draw_release` draws ``sampler``'s haplotypes a block at a time: every
    ``source/decoder`` generator (None: the default), not ``prior``, ``gmm`` or a copy guard
    (``source/decoder/guard``)."""
    return sampler is None or (sampler not in SHORT_NAMES and sampler.count("/") < 2)


def draw_release(
    run: LoadedRun, n: int, sampler: str | None = None, seed: int | None = None
) -> np.ndarray | PackedHaplotypes:
    """:func:`draw_haplotypes`' haplotypes, the same draws, held one bit per call when the
    generator can draw them a block at a time (every ``source/decoder`` generator without a copy
    guard, the default included): then only a block's logits and uniforms are held besides the
    bits, instead of every haplotype's (about 17 bytes per call).

    Returns:
        Haplotypes, 0/1, shape (n, n_variants): a
        :class:`~vae_genomics.data.packed.PackedHaplotypes`, or an int8 array for ``prior``,
        ``gmm`` and guarded generators.
    """
    from vae_genomics.generate.generators import DEFAULT_GENERATOR

    seed = run.config.seed if seed is None else seed
    if not in_blocks(sampler):
        return draw_haplotypes(run, n, sampler, seed)
    gen = _fitted_generator(run, sampler or DEFAULT_GENERATOR)
    packed = PackedHaplotypes(n, run.model.n_variants)
    start = 0
    for block in gen.iter_samples(run.model, n, seed=seed):
        packed.set_rows(start, block)
        start += len(block)
    return packed


def sample_run(
    run_dir: str | Path,
    n: int,
    out: str | Path,
    sampler: str | None = None,
    seed: int | None = None,
    command: str = "",
    overwrite: bool = True,
    privacy: str | None = None,
) -> Path | None:
    """Generate ``n`` haplotypes with a run's model and write them as a phased, bgzipped VCF.

    Haplotypes come from a generator (:func:`draw_haplotypes`; the default generator when
    ``sampler`` is None, the one the report evaluates). Haplotypes 2i and 2i + 1 become the two
    phased haplotypes of synthetic sample i (see :func:`vae_genomics.data.export.write_haplotype_vcf`).
    The header carries the contig's length, a ``##source`` line with the version and ``command``,
    and the run's provenance; a tabix index is written beside the file.

    Args:
        run_dir: A run directory, or a section directory (its ``latest`` run).
        n: Number of haplotypes, even and positive.
        out: Output path (``.vcf.gz``), or ``-`` for uncompressed VCF on standard output.
        sampler: A generator name, or None for the default (:func:`draw_haplotypes`).
        seed: Seed of the draws (default: the run's seed).
        command: The command line, for the ``##source`` line.
        overwrite: Replace an existing ``out`` (else the final rename is exclusive).
        privacy: The privacy budget (:mod:`vae_genomics.commands.privacy_gate`), or None for the
            run's ``generation.privacy``; checked before drawing, recorded in
            ``<out>.privacy.json``.

    Returns:
        The written path (``None`` for standard output).

    Raises:
        PrivacyBudgetError: The run's measured numbers miss the budget, or the distance attack
            on the haplotypes drawn does at their number (nothing is written).
    """
    from vae_genomics.commands.privacy_gate import gate, write_record
    from vae_genomics.commands.release_gate import release_gate
    from vae_genomics.data.export import check_haplotype_count
    from vae_genomics.generate.generators import DEFAULT_GENERATOR
    from vae_genomics.run.load import load_run

    check_haplotype_count(n)
    check_sampler_name(sampler)
    run = load_run(run_dir)
    record = gate(
        [run], privacy, sampler or DEFAULT_GENERATOR, f"sample of {run.data.section.name}"
    )
    seed = run.config.seed if seed is None else seed
    haplotypes = draw_release(run, n, sampler, seed)
    release_gate(run, haplotypes, record, f"sample of {run.data.section.name}")
    from vae_genomics.commands.sample_populations import write_run_vcf

    path = write_run_vcf(run, haplotypes, out, sampler, seed, command, overwrite)
    write_record(path, record)
    return path


def check_size(args: argparse.Namespace) -> None:
    """Refuse an --n beyond --max-memory before TensorFlow starts or anything is loaded."""
    from vae_genomics.data.export import check_haplotype_count
    from vae_genomics.run.limits import check_region_size, check_run_size

    check_haplotype_count(args.n)
    if args.runs or args.region or args.sections:
        runs = args.runs or Path("runs")
        check_region_size(runs, args.sections, args.region, args.n, args.max_memory, streamed=True)
    elif args.run is not None:
        check_run_size(args.run, args.n, args.max_memory, streamed=in_blocks(args.sampler))


def run_command(args: argparse.Namespace) -> None:
    check_sampler_name(args.sampler)  # every way of sampling: before anything is read
    if args.admixed is not None:
        from vae_genomics.commands.sample_admixed import run_admixed

        return run_admixed(args)
    if args.populations is not None or args.individuals or args.n is None:
        if args.populations is not None and (args.runs or args.region or args.sections):
            from vae_genomics.commands.sample_region_populations import run_region_populations

            return run_region_populations(args)
        from vae_genomics.commands.sample_populations import run_populations

        return run_populations(args)  # its own size check, then TensorFlow
    check_size(args)
    check_sample_out(args)
    start_tensorflow(args)
    if args.runs or args.region or args.sections:
        if args.run is not None:
            raise RunError("give either RUN or --runs/--region/--sections, not both")
        from vae_genomics.commands.sample_region import DEFAULT_JOINT, run_region

        result = run_region(
            args.runs or Path("runs"), args.n, args.out, sections=args.sections,
            region=args.region, joint=args.joint or DEFAULT_JOINT, seed=args.seed,
            report=not args.no_report, decoder=args.decoder, overwrite=args.overwrite,
            source=args.codes, max_components=args.components, neighbours=args.neighbours,
            command=" ".join(["vae-genomics", *args.argv]), max_memory=args.max_memory,
            privacy=args.privacy, groups=args.mosaic_groups, switch_sites=args.switch_sites,
            size_checked=True,  # by check_size above
        )  # fmt: skip
        print(f"vcf:    {result.vcf}")
        if result.page is not None:
            print(f"report: {result.page}")
        return
    if args.run is None or args.out is None:
        raise RunError("sample: give RUN and --out (or --runs/--region/--sections for a region)")
    from vae_genomics.commands.sample import sample_run

    command = " ".join(["vae-genomics", *args.argv])
    path = sample_run(
        args.run, args.n, args.out, sampler=args.sampler, seed=args.seed, command=command,
        overwrite=args.overwrite or str(args.out) == "-", privacy=args.privacy,
    )  # fmt: skip
    if path is not None:  # not when the VCF itself went to standard output
        print(f"vcf:    {path}")
