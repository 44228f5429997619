"""What the commands share: config overrides from the options, TensorFlow start-up, output checks."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from vae_genomics.common.errors import DataError, VaeGenomicsError

log = logging.getLogger("vae_genomics")


def parse_settings(items: list[str] | None) -> dict[str, Any]:
    """Nested overrides from ``--set key.sub=value`` items (values parsed as YAML).

    Raises:
        ConfigError: An item without ``=`` or without a key, or a value that is not valid YAML.
    """
    import yaml

    from vae_genomics.common.errors import ConfigError
    from vae_genomics.common.yamlio import load_yaml

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
            value = load_yaml(text) if text.strip() else None  # nesting and digits bounded
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


def config_overrides(args: argparse.Namespace) -> dict[str, Any]:
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


def start_tensorflow(args: argparse.Namespace, threads: int = 0) -> None:
    """Import TensorFlow now, its start-up notices filtered (all of them shown with -v), and bound
    its threads and BLAS's to ``threads`` (0: the libraries' defaults)."""
    from vae_genomics.common.logs import import_tensorflow_quietly
    from vae_genomics.train.threads import limit_threads

    import_tensorflow_quietly(show_all=args.verbose)
    limit_threads(threads)


def check_input_file(path: str | Path | None, option: str, what: str = "VCF/BCF file") -> None:
    """Refuse an input file given on the command line that is missing (or a directory, or a
    dangling link) before TensorFlow starts, naming the option that gave it.

    Raises:
        DataError: ``path`` is not a file.
    """
    from vae_genomics.common.io import missing_file

    if path is not None and not Path(path).is_file():
        raise DataError(f"{option} {path}: {missing_file(Path(path), what)}")


def check_data_input(config: Any) -> None:
    """Refuse configured inputs that are not there before TensorFlow starts: the sections' list
    (``data.bed`` or ``data.regions`` for those schemes), the VCF/BCF (unless a cache,
    ``data.cache``, stands in for it), the populations table, the sample list and the BED file; in
    the words the readers use when they meet them.

    Raises:
        ConfigError: BED or region sections without their list.
        DataError: A file is not there.
    """
    from vae_genomics.common.io import require_file
    from vae_genomics.data.pipeline import check_scheme
    from vae_genomics.data.sections import BED_FILE
    from vae_genomics.data.vcf import POPULATION_FILE, SAMPLE_LIST, check_file

    data = config.data
    check_scheme(data)
    if data.cache is None:
        check_file(data.vcf)
    bed = data.bed if data.sections == "bed" else None
    for path, kind in ((data.populations, POPULATION_FILE), (data.samples, SAMPLE_LIST),
                       (bed, BED_FILE)):  # fmt: skip
        if path is not None:
            require_file(path, *kind)


def check_out(args: argparse.Namespace, *inputs: Path | None) -> None:
    """Refuse an --out that is a directory, an input of the run, or exists without --overwrite."""
    from vae_genomics.common.io import check_output_path
    from vae_genomics.run.directory import resolve_run_dir, run_inputs

    run_dir = resolve_run_dir(args.run)
    protected = [*run_inputs(run_dir), *(p for p in inputs if p is not None)]
    check_output_path(args.out, args.overwrite, protected)
    if args.command == "sample":
        check_output_path(Path(f"{args.out}.tbi"), args.overwrite, protected)


#: Names ``sample`` writes its bgzipped, tabix-indexed VCF under.
VCF_SUFFIXES = (".vcf.gz", ".vcf.bgz")


def check_vcf_name(path: str | Path, what: str = "--out") -> None:
    """Refuse a VCF output named other than ``*.vcf.gz`` / ``*.vcf.bgz`` (``-`` is standard
    output): what is written is BGZF with a ``.tbi`` index beside it, which a name like
    ``x.vcf`` or ``x.txt`` would hide from the tools that choose a reader by the name.

    Raises:
        DataError: Another name (the message suggests one).
    """
    name = Path(path).name
    if str(path) == "-" or name.endswith(VCF_SUFFIXES):
        return
    base = name[: -len(".vcf")] if name.endswith(".vcf") else (Path(name).stem or name)
    raise DataError(
        f"{what} {path}: the synthetic haplotypes are written as a bgzip-compressed VCF with a "
        f"tabix index beside it, so the name must end in .vcf.gz or .vcf.bgz (e.g. "
        f"{Path(path).with_name(base + '.vcf.gz')}), or give - for plain VCF on standard output"
    )


def check_sampler_name(sampler: str | None) -> None:
    """Refuse a generator name that does not parse (:mod:`vae_genomics.generate.names`; nothing
    built, no TensorFlow), before a run is loaded or its privacy numbers are looked up.

    Raises:
        DataError: An unknown source, decoder or guard, or a number out of its range.
    """
    from vae_genomics.generate.names import SHORT_NAMES, parse_generator

    if sampler is None or sampler in SHORT_NAMES:
        return
    try:
        parse_generator(sampler)
    except ValueError as err:
        raise DataError(f"--sampler: {err}") from None


def check_sample_out(args: argparse.Namespace) -> None:
    """``sample``'s ``--out`` (and its ``.tbi``) checked before TensorFlow starts, so that a
    refusal comes at once: never an input of RUN, never an existing file without
    ``--overwrite``, and a VCF's name (:func:`check_vcf_name`). Each way of sampling checks its
    outputs again when it writes them."""
    from vae_genomics.common.io import check_output_path

    if args.out is None or str(args.out) == "-":
        return
    if args.run is not None:
        check_out(args)
    else:
        check_output_path(args.out, args.overwrite, [])
        check_output_path(Path(f"{args.out}.tbi"), args.overwrite, [])
    check_vcf_name(args.out)


def configured_sections(config: Any) -> list[dict[str, Any]]:
    """Every section of the configured data (name, contig, start, end), or none if unreadable."""
    from vae_genomics.data import list_sections

    try:
        _, sections = list_sections(config.data, genotypes=False)
    except VaeGenomicsError as exc:
        log.warning("the index lists trained sections only: %s", exc)
        return []
    return [{"name": s.name, "contig": s.contig, "start": s.start, "end": s.end} for s in sections]


def interrupt_on_sigterm() -> Any:
    """Turn SIGTERM (SLURM's walltime, pre-emption, Snakemake cancelling a job, ``kill``) into
    Ctrl-C, so that a command removes what it had half-written (``.partial`` files and stores),
    a training keeps its checkpoint, and the process exits with 130 instead of vanishing
    mid-write. Returns the previous handler. Set for every command by ``cli.main``."""
    import signal

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    return signal.signal(signal.SIGTERM, handler)


def table_path(out: str | Path, kind: str = "populations.tsv") -> Path:
    """``<out without .vcf.gz>.<kind>`` beside the VCF: the populations table by default, or
    another file of the same sample (``populations.json``, ``ancestry.tsv``, ...)."""
    out = Path(out)
    name = out.name
    for suffix in (".vcf.gz", ".vcf.bgz", ".vcf", ".gz"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return out.with_name(f"{name}.{kind}")
