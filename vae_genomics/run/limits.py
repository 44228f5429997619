"""Sizes of what a command draws from runs, read from the runs' records before anything is loaded.

``sample --n`` is checked against the memory it needs (:func:`~vae_genomics.common.limits.
check_sample_memory`) from the sites recorded in each run's ``config.yaml`` (its resolved
section), so an impossible request is refused in a moment, not after loading the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vae_genomics.common.limits import check_sample_memory
from vae_genomics.config import read_yaml
from vae_genomics.run.directory import CONFIG_FILE, damaged, resolve_run_dir


def recorded_sites(run_dir: Path) -> int:
    """The number of sites a finished run was trained on, from its ``config.yaml``.

    Raises:
        RunError: The file does not record them (damaged, or not written by vae-genomics).
        ConfigError: The file is not valid YAML.
    """
    path = Path(run_dir) / CONFIG_FILE
    resolved = read_yaml(path).get("resolved")
    section = resolved.get("section") if isinstance(resolved, dict) else None
    data = resolved.get("data") if isinstance(resolved, dict) else None
    if isinstance(data, dict) and isinstance(data.get("n_variants"), int):
        return int(data["n_variants"])
    try:
        return int(section["index_stop"]) - int(section["index_start"])  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        raise damaged(path, "no resolved section with its sites") from None


def check_run_size(
    run_dir: str | Path, n: int, max_memory: int | str | None, streamed: bool = False
) -> int:
    """Refuse ``sample RUN --n n`` when its memory estimate exceeds ``max_memory``.

    Args:
        run_dir: The run (or its section's directory).
        n: Haplotypes to draw.
        max_memory: Largest estimate (bytes or a size string; None: the default).
        streamed: Drawn a block of haplotypes at a time into bits
            (``commands.sample.draw_release``), estimated as a region's section; otherwise every
            draw is held.

    Returns:
        The estimate in bytes.

    Raises:
        DataError: Too large (the estimate and the limit named).
    """
    run = resolve_run_dir(run_dir)
    what = f"run {run}" + (" (drawn in blocks)" if streamed else "")
    return check_sample_memory(n, recorded_sites(run), max_memory, what, streamed=streamed)


def check_region_size(
    runs_dir: str | Path,
    names: Sequence[str] | None,
    region: str | None,
    n: int,
    max_memory: int | str | None,
    streamed: bool = False,
    in_blocks: bool = False,
) -> int:
    """Refuse sampling ``n`` haplotypes of a region when its memory estimate exceeds the limit.

    The region's sites are those of its sections (an upper bound when cropped to a range). A
    region drawn and written section by section (``streamed``, ``sample --region``) holds its
    largest section only, as bits; one decoded whole a block of haplotypes at a time
    (``in_blocks``, ``--populations``) holds every site as bits and every section's codes; else
    every draw is held.

    Raises:
        DataError: Too large. RunError: The sections cannot be found (as :func:`load_region`).
    """
    from vae_genomics.run.region_sections import find_section_runs, select_sections

    damaged: dict = {}
    chosen, _ = select_sections(find_section_runs(runs_dir, damaged), names, region, damaged)
    sizes = [s.index_stop - s.index_start for s in chosen]
    sites = max(sizes) if streamed else sum(sizes)
    what = f"the region of {len(chosen)} section(s) in {runs_dir}"
    if streamed:
        what = f"the largest section of {what} (drawn and written section by section)"
        return check_sample_memory(n, sites, max_memory, what, streamed=True)
    if in_blocks:
        what = f"{what} (decoded in blocks)"
        return check_sample_memory(n, sites, max_memory, what, True, held_sections=len(chosen))
    return check_sample_memory(n, sites, max_memory, what)
