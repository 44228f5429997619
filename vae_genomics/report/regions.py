"""The "Regions" table of the runs index: every sampled region of ``<runs_dir>/regions/``.

A region sampled by ``vae-genomics sample --region/--sections`` into its default place,
``<runs_dir>/regions/<name>/``, leaves ``region.json`` and its page ``index.html`` there
(:mod:`vae_genomics.commands.sample_region`); the index lists each with the numbers of its targets (boundary
LD r and coverage as fractions of the real-vs-real ceiling, privacy loss) and links its page.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vae_genomics.report.html import num, table
from vae_genomics.run.region_sections import REGIONS_DIR

log = logging.getLogger(__name__)

#: Files of a sampled region's directory: its numbers and its page.
REGION_JSON = "region.json"
REGION_PAGE = "index.html"


@dataclass
class RegionRow:
    """One sampled region as the index shows it."""

    name: str
    link: str
    metrics: dict[str, Any]


def region_files(
    vcf: Path, runs_dir: str | Path, overwrite: bool, protected: Iterable[Path] = ()
) -> tuple[Path, Path]:
    """Where a region sampled to ``vcf`` writes its numbers and its page, each checked like the VCF.

    In the default place, ``<runs_dir>/regions/<name>/<name>.vcf.gz``, they are ``region.json`` and
    ``index.html`` (the runs index lists them); anywhere else they are named after the VCF
    (``x.vcf.gz``: ``x.json`` and ``x.html``), so a region never writes over a page or numbers of
    another output (the runs index page, another region's) it was not asked to write.

    Raises:
        RunError: One of them exists and ``overwrite`` is false, or is an input or a directory.
    """
    from vae_genomics.common.io import check_output_path

    vcf = Path(vcf)
    name = vcf.name.removesuffix(".gz").removesuffix(".vcf").removesuffix(".bcf")
    default = Path(runs_dir) / REGIONS_DIR / name / f"{name}.vcf.gz"
    if vcf.resolve() == default.resolve():
        files = (vcf.parent / REGION_JSON, vcf.parent / REGION_PAGE)
    else:
        files = (vcf.with_name(f"{name}.json"), vcf.with_name(f"{name}.html"))
    for path in files:
        check_output_path(path, overwrite, protected)
    return files


def collect_regions(runs_dir: str | Path) -> list[RegionRow]:
    """Every ``<runs_dir>/regions/<name>/`` holding ``region.json`` and its page, by name."""
    root = Path(runs_dir) / REGIONS_DIR
    rows = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        path = folder / REGION_JSON
        if not (path.is_file() and (folder / REGION_PAGE).is_file()):
            continue
        try:
            metrics = json.loads(path.read_text())
        except json.JSONDecodeError:
            log.warning("%s: not valid JSON; region skipped", path)
            continue
        rows.append(RegionRow(folder.name, f"{REGIONS_DIR}/{folder.name}/{REGION_PAGE}", metrics))
    return rows


def regions_html(rows: list[RegionRow]) -> str:
    """The table of the index's "Regions" part (empty string when there is no region)."""
    if not rows:
        return ""
    header = ["region", "sections", "sites", "joint model", "boundary LD r ÷ ceiling",
              "coverage PCA ÷ ceiling", "coverage Hamming ÷ ceiling", "privacy loss"]  # fmt: skip
    cells = []
    for row in rows:
        region = row.metrics.get("region", {})
        joint = row.metrics.get("sampling", {}).get("joint", "")
        summary = row.metrics.get("summary", {}).get(joint, {})
        cells.append(
            [
                f'<td><a href="{html.escape(row.link)}">{html.escape(row.name)}</a></td>',
                num(len(region.get("sections", [])) or None),
                num(region.get("n_sites")),
                f"<td>{html.escape(joint)}</td>",
                num(summary.get("boundary_ld_r_fraction"), digits=3),
                num(summary.get("coverage_pca_fraction"), digits=3),
                num(summary.get("coverage_hamming_fraction"), digits=3),
                num(summary.get("privacy_loss"), digits=3),
            ]
        )
    return (
        "<h2 id='regions'>Regions</h2><p class='note'>Whole regions sampled across sections "
        "(<code>vae-genomics sample --region</code>): the sampled model's numbers as fractions of "
        "the real-vs-real ceiling; click a region for its page.</p>" + table(header, cells)
    )
