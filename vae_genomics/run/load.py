"""Open a finished run: its model, resolved config, data, split and stored mixture."""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from vae_genomics.common.errors import DataError, RunError
from vae_genomics.config import Config, read_yaml
from vae_genomics.data import SectionData, load_section
from vae_genomics.models.vae import HaplotypeVAE
from vae_genomics.run.directory import (
    CONFIG_FILE,
    MODEL_FILE,
    SPLIT_FILE,
    damaged,
    read_json,
    resolve_run_dir,
)
from vae_genomics.run.split import split_rows
from vae_genomics.run.stored import (
    GMM_FILE,
    HAPLOTYPES_FILE,
    data_changes,
    read_gmm,
    read_run_data,
)

log = logging.getLogger(__name__)


@dataclass
class LoadedRun:
    """A finished run re-opened: its configuration, data, split and model.

    Attributes:
        run_dir: The run directory (absolute).
        config: The resolved configuration it was trained with.
        data: The section's haplotypes (int8 0/1, training and held-out rows) and sites.
        train_rows: Rows of ``data.matrix.haplotypes`` trained on, int64.
        val_rows: Rows held out, int64.
        model: The trained model.
        resolved: What training resolved (version, section, architecture, origins of settings).
        superpopulations: Superpopulation per haplotype row, or ``None``.
        contig_length: Length of the section's contig (``None`` when the VCF header gave none).
        gmm: The stored aggregate-posterior mixture, or ``None`` (an older run: refit on demand).
    """

    run_dir: Path
    config: Config
    data: SectionData
    train_rows: np.ndarray
    val_rows: np.ndarray
    model: HaplotypeVAE
    resolved: dict = field(default_factory=dict)
    superpopulations: np.ndarray | None = None
    contig_length: int | None = None
    gmm: Any = None

    def mixture(self) -> Any:
        """The aggregate-posterior mixture: the stored one, or refit as the evaluation fits it."""
        if self.gmm is None:
            from vae_genomics.evaluation.summary import fit_aggregate_gmm

            x_train = self.data.matrix.haplotypes[self.train_rows]
            self.gmm = fit_aggregate_gmm(
                self.model, x_train, self.config.evaluation, seed=self.config.seed
            )
        return self.gmm


def load_run(run_dir: str | Path) -> LoadedRun:
    """Re-open a finished run: resolved config, the section's data, split and model.

    The data comes from the run's own ``haplotypes.npz`` (:mod:`vae_genomics.run.stored`), so a run
    copied elsewhere works without the training VCF and from any working directory; runs written
    before it was stored re-read the VCF through their configuration.

    Args:
        run_dir: A run directory, or a section directory (its ``latest`` run).

    Raises:
        RunError: Not a finished run, or the data no longer holds the run's haplotypes.
    """
    run_dir = resolve_run_dir(run_dir).resolve()
    config_dict = read_yaml(run_dir / CONFIG_FILE)
    resolved = config_dict.pop("resolved", None)
    if not isinstance(resolved, dict) or not isinstance(resolved.get("section"), dict):
        raise damaged(run_dir / CONFIG_FILE, "no 'resolved' entry naming the section")
    section_name = resolved["section"].get("name")
    try:
        config = Config.model_validate(config_dict)
    except ValueError as exc:
        raise damaged(run_dir / CONFIG_FILE, exc) from None
    try:
        stored = read_run_data(run_dir, resolved.get("data") if _recorded(resolved) else None)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise damaged(run_dir / HAPLOTYPES_FILE, exc) from None
    if stored is not None:
        data = SectionData(stored.section, stored.matrix, stored.populations)
    else:
        log.info(
            "%s: no %s (an older run); reading the section from the VCF", run_dir, HAPLOTYPES_FILE
        )
        try:
            data = load_section(config.data, section_name)
        except DataError as exc:
            raise DataError(
                f"{run_dir}: the run has no {HAPLOTYPES_FILE} (the copy of its section's data "
                f"that recent runs keep), and the data it was trained on cannot be read instead: "
                f"{exc}"
            ) from None
    fingerprint = resolved.get("data")
    changed = data_changes(fingerprint, data.matrix) if isinstance(fingerprint, dict) else None
    if changed:
        source = HAPLOTYPES_FILE if stored is not None else config.data.vcf
        raise RunError(
            f"{run_dir}: the data changed since this run was trained ({changed}; read from "
            f"{source}). Its numbers would no longer be those of its model's data: restore the "
            "data, or train the section again."
        )
    split = read_json(run_dir / SPLIT_FILE)
    train_rows, val_rows = split_rows(run_dir / SPLIT_FILE, split, data.matrix.haplotype_ids)
    model = load_model(run_dir / MODEL_FILE)
    if model.n_variants != data.matrix.n_variants:
        raise damaged(
            run_dir / MODEL_FILE,
            f"its model takes {model.n_variants} sites, but the run has {data.matrix.n_variants}",
        )
    return LoadedRun(
        run_dir, config, data, train_rows, val_rows, model, resolved=resolved,
        superpopulations=None if stored is None else stored.superpopulations,
        contig_length=None if stored is None else stored.contig_length,
        gmm=_read_gmm(run_dir / GMM_FILE, model.latent_dim, config.evaluation.gmm_max_components),
    )  # fmt: skip


def _recorded(resolved: dict[str, Any]) -> bool:
    """Whether ``config.yaml`` records the run's data sizes (runs of this version do)."""
    data = resolved.get("data")
    return isinstance(data, dict) and all(
        isinstance(data.get(k), int) and data[k] >= 0 for k in ("n_haplotypes", "n_variants")
    )


def _read_gmm(path: Path, latent_dim: int, max_components: int) -> Any:
    try:
        return read_gmm(path, latent_dim, max_components)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise damaged(path, exc) from None


def load_model(path: Path) -> HaplotypeVAE:
    """Load a run's ``model.keras`` in Keras safe mode (no code in the file runs), without
    compiling it: a loaded run encodes and decodes, it does not train, so the optimizer's state
    (Adam's two moments, twice the weights) stays in the file. On a chromosome's 36 sections this
    keeps 0.3 GB out of memory.

    Raises:
        RunError: The file is damaged (not a zip archive, truncated) or holds another model.
    """
    if not zipfile.is_zipfile(path):
        raise damaged(path, "not a .keras zip archive; truncated or overwritten")
    try:
        model = keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many kinds for a damaged or foreign archive
        raise damaged(path, f"Keras could not load it: {exc}") from None
    if not isinstance(model, HaplotypeVAE):
        raise damaged(path, f"it holds a {type(model).__name__}, not this program's HaplotypeVAE")
    return model
