"""``vae-genomics sample --region/--sections/--runs --admixed CEU:0.8,YRI:0.2``: admixed
haplotypes over a region, with their true local ancestry.

Each source population's synthetic haplotypes come from its own region mosaic (as
``sample --populations``); each admixed haplotype draws its ancestry tracts from the
hybrid-isolation model (:mod:`vae_genomics.generate.admixture`: ``--generations`` since the pulse,
``--recombination-rate`` crossovers per bp per generation) and takes at each site the allele of
that site's source. Beside ``<name>.vcf.gz`` it writes:

- ``<name>.populations.tsv``: every sample labelled ``admixed``;
- ``<name>.ancestry.tsv``: the true local ancestry, one row per tract: ``sample``, ``haplotype``
  (0 or 1, the phased haplotype of the VCF's GT), ``chrom``, ``start``, ``end`` (the tract holds
  the sites with ``start <= POS < end``), ``ancestry`` (a source population) and ``n_sites``;
- ``<name>.admixture.json``: the model asked for, its expectations and what the draw holds
  (each source's share of the bp and of the sites, mean tract lengths).
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from vae_genomics.commands.sample_region_options import check_group_draw
from vae_genomics.common.errors import DataError, RunError
from vae_genomics.common.limits import region_block
from vae_genomics.data.packed import PackedHaplotypes
from vae_genomics.generate.admixture import Tracts

log = logging.getLogger(__name__)

_ITEM = re.compile(r"^\s*([^:,\s]+)\s*:\s*([^:,\s]+)\s*$")


def parse_proportions(text: str) -> dict[str, float]:
    """``{"CEU": 0.8, "YRI": 0.2}`` of ``"CEU:0.8,YRI:0.2"``, in order.

    Raises:
        DataError: Not ``NAME:FRACTION`` items, a fraction that is not a number in (0, 1), a name
            given twice, fewer than two sources, or fractions that do not sum to 1.
    """
    from vae_genomics.generate.admixture import check_proportions

    out: dict[str, float] = {}
    for part in str(text).split(","):
        match = _ITEM.match(part)
        if not match:
            raise DataError(
                f"--admixed {text!r}: expected NAME:FRACTION items separated by commas (e.g. "
                f"CEU:0.8,YRI:0.2), got {part.strip()!r}"
            )
        name, value = match.groups()
        try:
            fraction = float(value)
        except ValueError:
            fraction = float("nan")
        if not 0 < fraction < 1:
            raise DataError(f"--admixed: the fraction of {name} ({value!r}) is not in (0, 1)")
        if name in out:
            raise DataError(f"--admixed: {name} is named twice; give each source once")
        out[name] = fraction
    try:
        check_proportions(np.asarray(list(out.values())))
    except ValueError as err:
        raise DataError(f"--admixed {text!r}: {err}") from None
    return out


def tracts_table(
    tracts: Tracts, sources: list[str], samples: list[str], contig: str, positions: np.ndarray
) -> str:
    """The true local ancestry as TSV text, one row per tract (module docstring).

    Args:
        tracts: Tracts of the haplotypes (haplotypes 2i and 2i + 1 are sample i's).
        sources: Source population of each ancestry index.
        samples: Synthetic sample names, one per pair of haplotypes.
        contig: Contig name.
        positions: Site positions in bp, sorted, shape (n_sites,).
    """
    # integer bounds that keep each tract's sites: pos >= ceil(start) and pos < ceil(end)
    start = np.ceil(tracts.start).astype(np.int64)
    end = np.ceil(tracts.end).astype(np.int64)
    sites = np.searchsorted(positions, end) - np.searchsorted(positions, start)
    lines = ["sample\thaplotype\tchrom\tstart\tend\tancestry\tn_sites"]
    for h, s, e, a, k in zip(tracts.haplotype, start, end, tracts.ancestry, sites, strict=True):
        lines.append(f"{samples[h // 2]}\t{h % 2}\t{contig}\t{s}\t{e}\t{sources[a]}\t{k}")
    return "\n".join(lines) + "\n"


def admix(
    sources: dict[str, np.ndarray | PackedHaplotypes],
    proportions: dict[str, float],
    positions: np.ndarray,
    window: tuple[float, float],
    generations: float,
    rate: float,
    seed: int,
) -> tuple[PackedHaplotypes, Tracts, dict[str, Any]]:
    """Splice the sources' haplotypes along drawn ancestry tracts.

    Args:
        sources: Source population → its synthetic haplotypes, 0/1 (n, n_sites), rows aligned:
            arrays or bits.
        proportions: Source population → its share of the ancestry (same order as ``sources``).
        positions: Site positions in bp, sorted, shape (n_sites,).
        window: ``[start, end)`` of the region in bp (holding every site).
        generations: Generations since admixture.
        rate: Crossovers per bp per generation.
        seed: Seed of the tracts.

    Returns:
        The admixed haplotypes ((n, n_sites), one bit per call, spliced a block of haplotypes at
        a time), their tracts and the summary (``admixture.json``: asked, expected, observed).
    """
    from vae_genomics.generate import admixture as adm

    names = list(proportions)
    m = np.asarray([proportions[name] for name in names])
    n = len(next(iter(sources.values())))
    try:
        lam = adm.switch_rate(generations, rate)
    except ValueError as err:
        raise DataError(f"--generations/--recombination-rate: {err}") from None
    tracts = adm.draw_tracts(n, window[0], window[1], m, lam, np.random.default_rng([seed, 0xAD]))
    haplotypes, sites = adm.splice_in_blocks(
        [sources[name] for name in names], tracts, positions, region_block(len(positions))
    )
    observed = adm.observed_tracts(tracts, len(names))
    observed["site_proportions"] = [float(k / (n * len(positions))) for k in sites]
    summary = {
        "sources": names,
        "asked": {
            "proportions": m.tolist(),
            "generations": generations,
            "recombination_rate": rate,
            "switch_rate_per_bp": lam,
        },
        "window": {"start": window[0], "end": window[1], "n_sites": len(positions)},
        "expected": adm.expected_tracts(m, lam, window[1] - window[0]),
        "observed": observed,
        "haplotypes": n,
        "seed": seed,
    }
    return haplotypes, tracts, summary


def _check_args(args: argparse.Namespace) -> None:
    """Refuse what ``--admixed`` cannot be combined with, before anything is loaded."""
    if args.run is not None or not (args.runs or args.region or args.sections):
        raise RunError("sample --admixed draws across a region: give --runs/--region/--sections "
                       "(not RUN)")  # fmt: skip
    if args.populations is not None:
        raise RunError("give either --admixed or --populations, not both")
    check_group_draw(args.out, args.joint, "sample --admixed", "each source population's")
    if args.n is None:
        raise RunError("sample --admixed: give --n (haplotypes; individuals with --individuals)")


def _output_files(out: Path, loaded: Any, overwrite: bool) -> list[Path]:
    """The VCF, its index, populations table, true local ancestry and summary, each checked:
    never an input of the region's runs, never an existing file without ``overwrite``."""
    from vae_genomics.commands.options import table_path
    from vae_genomics.common.io import check_output_path
    from vae_genomics.run.directory import run_inputs

    inputs = [p for run in loaded.sections for p in run_inputs(run.run_dir)]
    files = [out, Path(f"{out}.tbi"), table_path(out), table_path(out, "ancestry.tsv"),
             table_path(out, "admixture.json")]  # fmt: skip
    for path in files:
        check_output_path(path, overwrite, inputs)
    return files


def run_admixed(args: argparse.Namespace) -> None:
    """``sample --region ... --admixed NAME:FRACTION,...``: check, draw the sources, splice,
    write the VCF, its populations table, the true local ancestry and the summary."""
    from vae_genomics.commands.options import check_sample_out, start_tensorflow
    from vae_genomics.commands.population_request import (
        check_region_request_early,
        resolve_request,
    )
    from vae_genomics.commands.privacy_gate import gate, region_generator, write_record
    from vae_genomics.commands.region_vcf import write_region_vcf
    from vae_genomics.commands.release_gate import region_release_gate
    from vae_genomics.commands.sample_populations import populations_table, sample_names
    from vae_genomics.commands.sample_region_options import group_switch_sites
    from vae_genomics.commands.sample_region_populations import region_groups
    from vae_genomics.common.io import atomic_write_text, write_json
    from vae_genomics.data.export import check_haplotype_count
    from vae_genomics.run.limits import check_region_size
    from vae_genomics.run.region import load_region

    _check_args(args)
    proportions = parse_proportions(args.admixed)
    switch_sites = group_switch_sites(args.switch_sites)
    n = 2 * args.n if args.individuals else args.n
    check_haplotype_count(n)
    runs_dir = args.runs or Path("runs")
    check_region_size(runs_dir, args.sections, args.region, n * (len(proportions) + 1),
                      args.max_memory, in_blocks=True)  # fmt: skip
    check_sample_out(args)
    names = {name: n for name in proportions}
    check_region_request_early(runs_dir, args.sections, args.region, names, option="--admixed")
    start_tensorflow(args)
    from vae_genomics.generate.region import DEFAULT_DECODER
    from vae_genomics.generate.region_groups import sample_region_groups

    loaded = load_region(runs_dir, args.sections, args.region)
    record = gate(
        loaded.sections,
        args.privacy,
        region_generator(args.decoder),
        f"admixture over {loaded.name}",
    )
    first = loaded.sections[0]
    counts, groups = resolve_request(first, names, option="--admixed")
    files = _output_files(Path(args.out), loaded, args.overwrite)
    seed = loaded.seed if args.seed is None else args.seed
    decoder = args.decoder or DEFAULT_DECODER
    sources = sample_region_groups(
        loaded, region_groups(loaded, first, groups), counts, seed, decoder, args.neighbours,
        switch_sites, packed=True,  # each source a block of haplotypes at a time, as bits
    )  # fmt: skip
    positions = np.asarray(loaded.positions, dtype=np.int64)
    window = (float(min(loaded.start, positions[0])), float(max(loaded.end, positions[-1] + 1)))
    haplotypes, tracts, summary = admix(
        sources, proportions, positions, window, args.generations, args.recombination_rate, seed
    )
    drawn = {"admixed": haplotypes}
    asked = "|".join(f"{name}:{m:g}" for name, m in proportions.items())
    region_release_gate(loaded, haplotypes, record, f"admixture over {loaded.name}")
    vcf = write_region_vcf(
        loaded, haplotypes, files[0],
        f",joint=mosaic,decoder={decoder},seed={seed},switch_sites={switch_sites},admixed={asked},"
        f"generations={args.generations:g},recombination_rate={args.recombination_rate:g}",
        " ".join(["vae-genomics", *args.argv]), args.overwrite, sample_names(drawn),
    )  # fmt: skip
    atomic_write_text(files[2], populations_table(first, drawn), args.overwrite)
    table = tracts_table(tracts, list(proportions), sample_names(drawn), loaded.contig, positions)
    atomic_write_text(files[3], table, args.overwrite)
    write_json(files[4], summary, args.overwrite)
    write_record(vcf, record)
    observed = summary["observed"]
    log.info(
        "admixed %d haplotypes: proportions %s (asked %s), mean tract %.0f bp (expected %.0f in "
        "this window)", n, [round(p, 3) for p in observed["proportions"]],
        list(proportions.values()), observed["mean_tract_bp"],
        summary["expected"]["mean_tract_bp_in_window"],
    )  # fmt: skip
    for label, path in (("vcf:", vcf), ("table:", files[2]), ("ancestry:", files[3]),
                        ("summary:", files[4])):  # fmt: skip
        print(f"{label:9} {path}")
