"""``vae-genomics sections``: the sections of the configured VCF, with what each filter removed."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from vae_genomics.commands.options import config_overrides
from vae_genomics.common.errors import DataError

log = logging.getLogger("vae_genomics")


_FILTER_COLUMNS = ("multiallelic", "not_snp", "missing_dropped", "monomorphic", "below_min_maf",
                   "below_min_mac")  # fmt: skip


def run_command(args: argparse.Namespace) -> None:
    import pandas as pd

    from vae_genomics.common.io import atomic_write_text
    from vae_genomics.config import load_config
    from vae_genomics.data import list_sections, section_table

    overrides = config_overrides(args)
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
        from vae_genomics.common.io import check_output_path

        d = config.data
        inputs = [d.vcf, Path(f"{d.vcf}.tbi"), Path(f"{d.vcf}.csi"), d.cache, d.samples, d.bed,
                  d.populations]  # fmt: skip
        # the table is regenerated, so an existing one is replaced; an input never is
        check_output_path(args.out, True, [p for p in inputs if p is not None])
        atomic_write_text(args.out, text)
        log.info("wrote %d sections to %s", len(table), args.out)
    sys.stdout.write("\n".join(table["name"]) + "\n" if args.names else text)
