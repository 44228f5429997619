"""Python API: open a finished run and use its model with numpy arrays.

    >>> import vae_genomics
    >>> run = vae_genomics.load_run("runs/22_392-487449")   # a run, or a section (latest run)
    >>> means, sds = run.encode(run.haplotypes)              # (n, latent_dim) each
    >>> probabilities = run.decode(means)                    # (n, n_variants), ALT probabilities
    >>> synthetic = run.sample(200, sampler="gmm", seed=1)   # (200, n_variants) int8 0/1
    >>> yri, groups = run.sample_populations({"YRI": 100})   # codes fitted on YRI's haplotypes
    >>> run.write_vcf("synthetic.vcf.gz", synthetic)

The numbers are those of the command line: ``run.encode`` equals ``vae-genomics encode`` and
``run.sample(n, sampler, seed)`` the haplotypes ``vae-genomics sample --n n --sampler sampler
--seed seed`` writes. A run carries its own data (:mod:`vae_genomics.run.stored`), so this works on a
run copied off the cluster, without the training VCF.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vae_genomics.commands.sample import draw_haplotypes
from vae_genomics.common.errors import DataError
from vae_genomics.run.directory import METRICS_FILE, read_json
from vae_genomics.run.load import LoadedRun
from vae_genomics.run.load import load_run as _load


class Run:
    """A finished run (see the module docstring); build it with :func:`load_run`.

    Attributes:
        path: The run directory.
        config: The resolved :class:`~vae_genomics.config.Config` it was trained with.
        section: The :class:`~vae_genomics.data.sections.Section`.
        model: The trained :class:`~vae_genomics.models.vae.HaplotypeVAE` (a ``keras.Model``).
        haplotypes: The section's haplotypes, int8 0/1, shape (n_haplotypes, n_variants).
        haplotype_ids: Row names, shape (n_haplotypes,).
        populations: Population per row, or ``None``.
        train_rows: Rows trained on; ``validation_rows``: rows held out.
        latent_dim: Dimensions of z.
    """

    def __init__(self, loaded: LoadedRun) -> None:
        self._run = loaded
        self.path: Path = loaded.run_dir
        self.config = loaded.config
        self.section = loaded.data.section
        self.model = loaded.model
        self.haplotypes: np.ndarray = loaded.data.matrix.haplotypes
        self.haplotype_ids: np.ndarray = loaded.data.matrix.haplotype_ids
        self.populations: np.ndarray | None = loaded.data.populations
        self.train_rows: np.ndarray = loaded.train_rows
        self.validation_rows: np.ndarray = loaded.val_rows
        self.latent_dim: int = int(loaded.model.latent_dim)

    def __repr__(self) -> str:
        return (
            f"Run({str(self.path)!r}: section {self.section.name}, "
            f"{self.haplotypes.shape[0]} haplotypes x {self.haplotypes.shape[1]} variants, "
            f"latent_dim {self.latent_dim})"
        )

    @property
    def sites(self) -> pd.DataFrame:
        """The section's variants: contig, position, id, ref, alt (one row per model input)."""
        m = self._run.data.matrix
        return pd.DataFrame(
            {"contig": m.chrom, "position": m.positions, "id": m.variant_ids,
             "ref": m.ref, "alt": m.alt}
        )  # fmt: skip

    @property
    def metrics(self) -> dict[str, Any]:
        """The run's ``metrics.json`` (held-out numbers, evaluation, verdicts)."""
        path = self.path / METRICS_FILE
        return read_json(path) if path.is_file() else {}

    def _check(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.haplotypes.shape[1]:
            raise ValueError(
                f"expected haplotypes of shape (n, {self.haplotypes.shape[1]}) (the section's "
                f"variants, in the order of run.sites), got {x.shape}"
            )
        if not np.isin(x, (0, 1)).all():
            raise ValueError("haplotypes must hold 0 (REF) and 1 (ALT) only")
        return x.astype(np.int8)

    def encode(
        self, haplotypes: np.ndarray, batch_size: int = 1024
    ) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means and standard deviations of q(z | x).

        Args:
            haplotypes: 0/1 array, shape (n, n_variants), columns as in :attr:`sites`.
            batch_size: Haplotypes per forward pass.

        Returns:
            ``(means, sds)``, float32, each shape (n, latent_dim).
        """
        from vae_genomics.models.inference import encode

        mean, log_var = encode(self.model, self._check(haplotypes), batch_size=batch_size)
        return mean, np.exp(0.5 * log_var).astype(np.float32)

    def decode(self, z: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """ALT-allele probabilities of codes.

        Args:
            z: Codes, shape (n, latent_dim).
            batch_size: Codes per forward pass.

        Returns:
            Probabilities, float32, shape (n, n_variants).
        """
        from vae_genomics.generate.samplers import decode_probabilities

        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected codes of shape (n, {self.latent_dim}), got {z.shape}")
        return decode_probabilities(self.model, z, batch_size=batch_size)

    def sample(
        self,
        n: int | None,
        sampler: str | None = None,
        seed: int | None = None,
        populations: str | Mapping[str, int] | None = None,
        privacy: str | None = None,
    ) -> np.ndarray:
        """Synthetic haplotypes from a generator (codes, then 0/1 haplotypes from the decoder).

        Args:
            n: Number of haplotypes (with ``populations``: their sum, or ``None``).
            sampler: A generator name (``source/decoder``, as ``vae-genomics sample --sampler``):
                None for the default generator, ``prior``, ``gmm`` (the run's stored mixture),
                ``aggregate:2/calls``, ...
            seed: Seed of the draws (default: the run's seed), as ``vae-genomics sample --seed``.
            populations: Haplotypes per population or superpopulation, ``{"YRI": 1000, "CEU":
                500}`` or ``"YRI:1000,CEU:500"``, as ``vae-genomics sample --populations``
                (:meth:`sample_populations`); the groups' haplotypes follow each other.
            privacy: The privacy budget the run's measured numbers must meet, as ``vae-genomics
                sample --privacy`` (``standard``, ``off``, ``loss=X,auc=Y``, ...); None: the
                run's ``generation.privacy``.

        Returns:
            Haplotypes, int8 0/1, shape (n, n_variants).

        Raises:
            DataError: ``n`` is not a positive whole number (``None`` needs ``populations``), or
                ``sampler`` is not a generator's name.
            PrivacyBudgetError: The run's numbers miss the budget (nothing is drawn), or the
                distance attack on the haplotypes drawn does, at their number (none returned).
        """
        if populations is not None:
            return self.sample_populations(populations, sampler, seed, n=n, privacy=privacy)[0]
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise DataError(
                f"n: expected a positive whole number of haplotypes, got {n!r}"
                + (" (n=None goes with populations=...)" if n is None else "")
            )
        record = self._check_privacy(privacy, sampler)
        haplotypes = draw_haplotypes(self._run, int(n), sampler, seed)
        self._check_release(haplotypes, record)
        return haplotypes

    def _check_privacy(self, privacy: str | None, sampler: str | None) -> dict[str, Any]:
        """The budget check of ``vae-genomics sample`` (commands/privacy_gate), before drawing."""
        from vae_genomics.commands.options import check_sampler_name
        from vae_genomics.commands.privacy_gate import gate
        from vae_genomics.generate import DEFAULT_GENERATOR

        check_sampler_name(sampler)
        what = f"sample of {self._run.data.section.name}"
        return gate([self._run], privacy, sampler or DEFAULT_GENERATOR, what)

    def _check_release(self, haplotypes: np.ndarray, record: dict[str, Any]) -> None:
        """The budget check of the drawn haplotypes at their own number (commands/release_gate)."""
        from vae_genomics.commands.release_gate import release_gate

        release_gate(self._run, haplotypes, record, f"sample of {self._run.data.section.name}")

    def sample_populations(
        self,
        populations: str | Mapping[str, int],
        sampler: str | None = None,
        seed: int | None = None,
        individuals: bool = False,
        n: int | None = None,
        privacy: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Synthetic haplotypes of chosen populations (``vae-genomics sample --populations``).

        Each group's codes come from a code source fitted on its training haplotypes' posteriors
        (:mod:`vae_genomics.commands.sample_populations`).

        Args:
            populations: ``{"YRI": 1000, "AFR": 200}`` or ``"YRI:1000,AFR:200"``: populations or
                superpopulations of the run's populations table, with their counts.
            sampler: A generator name, None for the default one (not one drawing from the prior).
            seed: Seed of the draws (default: the run's seed).
            individuals: The counts are individuals (2 haplotypes each), not haplotypes.
            n: The total number of haplotypes, checked when given.
            privacy: The privacy budget, as for :meth:`sample`.

        Returns:
            ``(haplotypes, groups)``: int8 0/1, shape (n, n_variants), and the group of each row.

        Raises:
            DataError: An unknown name, a count that is not a positive even number of haplotypes,
                a group with too few training haplotypes, ``n`` not the sum.
        """
        from vae_genomics.commands.sample_populations import draw_populations

        record = self._check_privacy(privacy, sampler)
        drawn = draw_populations(self._run, populations, sampler, seed, n, individuals)
        labels = np.concatenate([np.full(len(h), g, dtype=object) for g, h in drawn.items()])
        haplotypes = np.concatenate(list(drawn.values()))
        self._check_release(haplotypes, record)
        return haplotypes, labels

    def write_vcf(self, path: str | Path, haplotypes: np.ndarray) -> Path | None:
        """Write haplotypes at the section's sites as a phased VCF (rows 2i, 2i+1: sample i).

        Args:
            path: ``.vcf.gz`` (BGZF with a tabix index), or ``-`` for standard output.
            haplotypes: 0/1 array, shape (n, n_variants), n even.

        Returns:
            The written path (``None`` for standard output).

        Raises:
            DataError: ``path`` does not end in ``.vcf.gz`` or ``.vcf.bgz``.
        """
        from vae_genomics.commands.options import check_vcf_name
        from vae_genomics.data.export import provenance_header, write_haplotype_vcf

        check_vcf_name(path, "path")
        m = self._run.data.matrix
        return write_haplotype_vcf(
            path, self._check(haplotypes), contig=self.section.contig, positions=m.positions,
            ref=m.ref, alt=m.alt, ids=m.variant_ids,
            header_lines=provenance_header(f"(Python API, run {self.path.name})"),
            contig_length=self._run.contig_length, source=f"run {self.path}",
        )  # fmt: skip


def load_run(path: str | Path) -> Run:
    """Open a finished run: a run directory, or a section directory (its ``latest`` run).

    Raises:
        RunError: Not a finished run.
    """
    return Run(_load(path))
