"""Names the report gives the evaluation's sets and verdicts (no heavy imports: the index uses them)."""

from __future__ import annotations

#: What each "after" set of :func:`vae_genomics.evaluation.summary.evaluate_model` shows.
SET_LABELS: dict[str, str] = {
    "reconstruction_probabilities": "reconstructions: decoder probabilities at the posterior mean",
    "reconstruction_samples": "reconstructions: Bernoulli draws from those probabilities",
    "reconstruction_threshold": "reconstructions: calls thresholded at 0.5",
    "prior_samples": "generated: z ~ p(z) (the model's prior), decoded, Bernoulli draws",
    "generated_samples": "generated: the default generator (metrics: evaluation.generator)",
}

#: Short names for tables, legends and panel titles.
SET_SHORT: dict[str, str] = {
    "reconstruction_probabilities": "recon. probabilities",
    "reconstruction_samples": "recon. Bernoulli draws",
    "reconstruction_threshold": "recon. thresholded",
    "prior_samples": "prior samples",
    "generated_samples": "generated samples",
}

#: Verdicts from best to worst (``evaluation.verdict.VERDICTS``); the index sorts by this.
SEVERITY = ("ok", "copies-training-data", "off-distribution", "mode-seeking", "collapsed")

#: Runs from older versions call the generated set ``gmm_samples``.
GENERATED = ("generated_samples", "gmm_samples")


def short(name: str) -> str:
    """Short name of a set (the name itself for sets this module does not know)."""
    return SET_SHORT.get(name, name)
