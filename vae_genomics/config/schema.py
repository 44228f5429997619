"""The configuration's schema: one strict pydantic model per section of the YAML.

Every option's default lives here and is documented one option per line in
``configs/default.yaml``; loading and layering YAML files is :mod:`vae_genomics.config`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Most CPU threads ``runtime.threads`` may ask for: TensorFlow and every BLAS/OpenMP library
#: start that many each, and a typo such as 100000 exhausted a 24 GiB machine's memory while
#: starting them (and stopped answering SIGTERM) instead of training.
MAX_THREADS = 512


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info: Any) -> Any:
        """``epochs: true`` is a mistake, not 1: refuse booleans for number fields."""
        if isinstance(value, bool) and info.field_name in cls.model_fields:
            annotation = cls.model_fields[info.field_name].annotation
            members = get_args(annotation) or (annotation,)
            if bool not in members and any(m in (int, float) for m in members):
                raise ValueError("expected a number, got true/false")
        return value


class DataConfig(_Strict):
    """Where the cohort comes from, how it is filtered and how it is cut into sections.

    See ``vae_genomics/data/`` (``sites.py`` for the filters and policies, ``sections.py`` for the
    section schemes, ``cache.py`` for the cache) and ``configs/default.yaml``.
    """

    vcf: Path = Field(Path("data/example/example.vcf.gz"), description="phased VCF/BCF")
    cache: Path | None = Field(
        None, description="cache made by `vae-genomics cache`, read instead of the VCF"
    )
    populations: Path | None = Field(
        Path("data/example/populations.tsv"),
        description="TSV with columns sample, population (optional)",
    )
    samples: Path | None = Field(None, description="file of sample IDs to keep, one per line")
    min_maf: float = Field(0.01, ge=0.0, le=0.5, description="minimum minor allele frequency")
    min_mac: int = Field(0, ge=0, description="minimum minor allele count")
    missing: Literal["error", "drop-site", "impute-af"] = Field(
        "error", description="what to do with missing genotype calls"
    )
    impute_seed: int = Field(0, ge=0, lt=2**32, description="seed of the impute-af draws")
    allow_unphased: bool = Field(False, description="use unphased heterozygous calls as written")
    allow_truncated: bool = Field(
        False, description="read a bgzip file without its end-of-file marker (with a warning)"
    )
    sections: Literal["snp-windows", "bp-windows", "bed", "regions"] = Field(
        "snp-windows", description="how the cohort is cut into sections"
    )
    window_snps: int = Field(1000, ge=2, description="SNPs per section window")
    window_bp: int = Field(1_000_000, ge=1, description="base pairs per bp window")
    bed: Path | None = Field(None, description="BED file of sections (sections: bed)")
    regions: list[str] = Field(
        default_factory=list, description="contig:start-end sections (sections: regions)"
    )
    default_section: str | None = Field(None, description="section trained when none is given")


class ModelConfig(_Strict):
    """Architecture of the per-section VAE (see ``models/factory.py`` for the 'auto' rules)."""

    latent_dim: int | Literal["auto"] = "auto"
    hidden_units: list[int] | Literal["auto"] = "auto"
    activation: Literal["elu", "relu", "gelu", "swish", "tanh", "sigmoid"] = "elu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)

    @field_validator("latent_dim")
    @classmethod
    def _positive_latent(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError("must be a positive integer or 'auto'")
        return value

    @field_validator("hidden_units")
    @classmethod
    def _positive_units(cls, value: list[int] | str) -> list[int] | str:
        if isinstance(value, list) and (not value or any(u < 1 for u in value)):
            raise ValueError("must be a non-empty list of positive integers or 'auto'")
        return value


class ScheduleConfig(_Strict):
    """How the KL weight β moves from ``start`` to ``objective.kl_weight`` during training."""

    kind: Literal["constant", "linear", "sigmoid", "cyclical"] = "constant"
    start: float = Field(0.0, ge=0.0, description="β at step 0 (and at each cycle's start)")
    epochs: int = Field(10, ge=1, description="warm-up length of linear and sigmoid schedules")
    steepness: float = Field(10.0, gt=0.0, description="logistic steepness of the sigmoid schedule")
    cycles: int = Field(4, ge=1, description="cyclical: number of cycles M over the whole run")
    ramp_fraction: float = Field(0.5, gt=0.0, le=1.0, description="cyclical: ramp fraction R")


class CapacityConfig(_Strict):
    """Capacity objective (Burgess et al. 2018): γ·|KL − C(t)| replaces β·KL."""

    enabled: bool = False
    max: float = Field(25.0, ge=0.0, description="C_max in nats per haplotype")
    epochs: int = Field(50, ge=1, description="epochs over which C rises linearly to C_max")
    gamma: float = Field(1.0, gt=0.0, description="weight γ of |KL − C(t)|")


class ReencodeConfig(_Strict):
    """Re-encoding loss of the neighbour-embedding VAE (weight 0 disables it)."""

    weight: float = Field(0.0, ge=0.0, description="λ_re")
    loss: Literal["se", "logprob"] = "se"
    cap: float = Field(0.0, description="c of the logprob variant, in nats per dimension")
    input: Literal["probabilities", "sample"] = "probabilities"


class PriorConfig(_Strict):
    """The prior p(z): the standard normal, or a Gaussian mixture learned with the model.

    ``mog`` (HaploNet's GMVAE idea, as a continuous mixture prior): K diagonal Gaussians with
    learned weights, means and variances, trained jointly with the encoder and decoder; its KL term
    is a one-sample Monte Carlo estimate, log q(z|x) − log p(z).
    """

    kind: Literal["normal", "mog"] = "normal"
    components: int = Field(10, ge=1, le=256, description="mog: components K of the learned prior")


class ObjectiveConfig(_Strict):
    """Terms of the training objective (nats per haplotype)."""

    likelihood: Literal["bernoulli", "gaussian"] = "bernoulli"
    sigma: float | Literal["learned", "optimal"] = Field(
        "optimal",
        description="Gaussian likelihood: fixed σ, a learned global σ, or the batch optimum",
    )
    kl_weight: float = Field(1.0, ge=0.0, description="beta: weight of the KL term")
    schedule: ScheduleConfig = ScheduleConfig()
    capacity: CapacityConfig = CapacityConfig()
    free_bits: float = Field(0.0, ge=0.0, description="λ: floor of each dimension's batch-mean KL")
    reencode: ReencodeConfig = ReencodeConfig()
    prior: PriorConfig = PriorConfig()

    @field_validator("sigma")
    @classmethod
    def _positive_sigma(cls, value: float | str) -> float | str:
        if isinstance(value, float | int) and value <= 0:
            raise ValueError("must be a positive number, 'learned' or 'optimal'")
        return value

    @model_validator(mode="after")
    def _compatible(self) -> ObjectiveConfig:
        if self.capacity.enabled and self.schedule.kind != "constant":
            raise ValueError(
                "capacity.enabled replaces beta * KL with gamma * |KL - C(t)|, so a KL-weight "
                f"schedule ('{self.schedule.kind}') has no meaning with it: set "
                "objective.schedule.kind to constant or disable capacity"
            )
        if self.free_bits > 0 and self.prior.kind != "normal":
            raise ValueError(
                "free_bits floors each dimension's KL to N(0, 1), which a learned prior "
                f"('{self.prior.kind}') does not split into: set objective.free_bits to 0 or "
                "objective.prior.kind to normal"
            )
        return self


class TrainingConfig(_Strict):
    """Optimisation and the held-out split."""

    epochs: int = Field(200, ge=1)
    batch_size: int = Field(64, ge=1)
    learning_rate: float = Field(1e-3, gt=0.0)
    validation_fraction: float = Field(0.2, gt=0.0, lt=1.0)
    patience: int = Field(20, ge=1, description="early-stopping patience (epochs)")
    select: Literal["generator", "elbo"] = Field(
        "generator",
        description="whose epoch is kept: elbo = the best held-out -ELBO (early stopping's); "
        "generator = the best generator check when its held-out NLL (decoder with the "
        "generator's LD head) is lower than at the -ELBO's epoch by more than check_margin",
    )
    check_every: int = Field(5, ge=1, description="epochs between generator checks")
    check_samples: int = Field(
        16, ge=1, description="importance draws per held-out haplotype in a generator check"
    )
    check_rows: int = Field(
        1024, ge=0, description="training haplotypes a check's LD head is fitted on (0: all)"
    )
    check_margin: float = Field(
        0.02, ge=0.0, lt=1.0,
        description="fraction by which the best check's NLL must beat the -ELBO's epoch's",
    )  # fmt: skip
    jit_compile: bool | Literal["auto"] = Field(
        True, description="compile the train/test steps with XLA (auto: Keras decides)"
    )
    steps_per_execution: int = Field(
        16, ge=1, description="optimiser steps run per call into the compiled graph"
    )


class RuntimeConfig(_Strict):
    """How training runs: checkpoints for resuming, devices and numeric precision.

    None of these change what is learned (up to floating-point rounding and, after a resume, the
    order of the shuffled batches); see ``docs/architecture.md``, "Resuming and devices".
    """

    checkpoint: bool = Field(
        True, description="save the training state every epoch so `train --resume` can continue"
    )
    precision: Literal["float32", "mixed_float16", "mixed_bfloat16"] = Field(
        "float32", description="Keras dtype policy of the model's layers (mixed: GPU/TPU speed-up)"
    )
    distribute: Literal["none", "mirrored"] = Field(
        "none", description="mirrored: data-parallel over every visible GPU (MirroredStrategy)"
    )
    threads: int = Field(
        0,
        ge=0,
        le=MAX_THREADS,
        description="CPU threads of TensorFlow and the evaluation's BLAS (0: all cores)",
    )
    deterministic: bool = Field(
        False,
        description="TensorFlow op determinism: bit-identical models from one seed on one "
        "machine, whatever the load (slower)",
    )


class ReportConfig(_Strict):
    """What the report draws."""

    n_components: int = Field(4, ge=2, description="principal components computed")
    reconstruction: Literal["probabilities", "samples", "threshold"] = Field(
        "probabilities", description="reconstruction set summarised on the index page"
    )
    ld_window: int = Field(100, ge=2, description="variants drawn in the LD heatmaps")
    dpi: int = Field(150, ge=50, le=600, description="resolution of the PNG figures")
    svg: bool = Field(False, description="also write every figure as SVG beside its PNG")
    figures: bool = Field(
        True,
        description="draw the report's figures (false: the page with its numbers only, seconds "
        "faster per run; `vae-genomics report RUN` draws them later)",
    )


class VerdictConfig(_Strict):
    """Thresholds of the per-set verdict (``evaluation.verdict.VerdictThresholds``)."""

    collapse_variance_ratio: float = Field(
        0.05, ge=0.0, le=1.0, description="collapsed when the PC variance ratios are all below this"
    )
    min_variance_fraction: float = Field(
        0.5, ge=0.0, le=1.0, description="mode-seeking when a PC variance ratio < this × ceiling"
    )
    min_coverage_fraction: float = Field(
        0.7, ge=0.0, le=1.0, description="mode-seeking when a coverage < this × ceiling"
    )
    min_precision_fraction: float = Field(
        0.7, ge=0.0, le=1.0, description="off-distribution when a precision < this × ceiling"
    )
    max_privacy_loss: float = Field(
        0.1, ge=0.0, le=1.0, description="copies-training-data when the privacy loss > this"
    )
    max_copy_excess: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="copies-training-data when exact training copies > held-out's fraction + this",
    )
    n_pcs: int = Field(4, ge=1, description="principal components checked, PC1..PCn")


class EvaluationConfig(_Strict):
    """Numbers computed after training (``evaluation.summary``) and the mode-seeking verdict."""

    verdict: VerdictConfig = VerdictConfig()
    prdc_k: int = Field(5, ge=1, description="k of the k-NN balls of precision/recall/coverage")
    ld_max_offset: int = Field(20, ge=1, description="LD agreement over pairs this many SNPs apart")
    max_points: int = Field(5000, ge=10, description="cap on held-out haplotypes compared")
    elbo_samples: int = Field(8, ge=1, description="posterior samples per held-out -ELBO")
    iw_samples: int = Field(100, ge=1, description="K of the importance-weighted NLL")
    mi_batch_size: int = Field(2048, ge=2, description="minibatch of the MI estimate")
    gmm_components: int | Literal["bic"] = Field(
        "bic", description="components of the aggregate-posterior mixture, or bic"
    )
    gmm_max_components: int = Field(8, ge=1, description="largest number BIC tries")
    traversal_steps: int = Field(9, ge=3, description="codes per latent traversal over ±2 sd")
    traversal_dims: int = Field(8, ge=1, description="most active dimensions traversed")

    @field_validator("gmm_components")
    @classmethod
    def _positive_components(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError("must be a positive integer or 'bic'")
        return value


class GenerationConfig(_Strict):
    """How synthetic haplotypes may be released (``vae-genomics sample``)."""

    privacy: str = Field(
        "standard",
        description="privacy budget every sampled section must meet, checked on its measured "
        "numbers beside the real reference: off, strict, standard, lenient, or loss=X,auc=Y "
        "(evaluation/budget.py, docs/privacy.md)",
    )

    @field_validator("privacy", mode="before")
    @classmethod
    def _off_as_written(cls, value: object) -> object:
        """YAML reads an unquoted ``off`` (or ``no``, ``false``) as False: that means ``off``."""
        return "off" if value is False else value

    @field_validator("privacy")
    @classmethod
    def _known_budget(cls, value: str) -> str:
        from vae_genomics.config.budget import parse_budget

        parse_budget(value)  # ValueError names the text and what is accepted
        return value


class Config(_Strict):
    """The whole, resolved configuration of one run."""

    seed: int = Field(42, ge=0, lt=2**32, description="seed of the split, the weights and draws")
    runs_dir: Path = Path("runs")
    sections_dir: Path = Path("configs/sections")
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    objective: ObjectiveConfig = ObjectiveConfig()
    training: TrainingConfig = TrainingConfig()
    runtime: RuntimeConfig = RuntimeConfig()
    report: ReportConfig = ReportConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    generation: GenerationConfig = GenerationConfig()

    def to_dict(self) -> dict[str, Any]:
        """Plain, YAML-safe dictionary (paths as strings)."""
        return self.model_dump(mode="json")
