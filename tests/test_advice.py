"""Verdict sentences and "what to do next" findings name the failure and the number that tripped it
(synthetic metrics, one per verdict)."""

import pytest

from vae_genomics.report.advice import (
    NOT_CONVERGED_EPOCHS,
    next_steps,
    not_converged,
    verdict_sentences,
)


def _verdict(verdict, tripped_by=None, value=None, threshold=None):
    return {"verdict": verdict, "tripped_by": tripped_by, "value": value, "threshold": threshold}


def _metrics(generated=None, prior=None, recon=None, epochs_run=50, best_epoch=30, active=8):
    sets = {
        "reconstruction_samples": recon or _verdict("ok"),
        "prior_samples": prior or _verdict("ok"),
        "generated_samples": generated or _verdict("ok"),
    }
    return {
        "epochs_run": epochs_run,
        "best_epoch": best_epoch,
        "active_units": active,
        "latent_dim": 8,
        "evaluation": {
            "verdicts": {n: v["verdict"] for n, v in sets.items()},
            "modeseek": {
                "ceiling": {"prdc_pca": {"coverage": 0.97}},
                "sets": {n: {"verdict": v, "prdc_pca": {"coverage": 0.9}} for n, v in sets.items()},
            },
        },
    }


def _findings(metrics, max_epochs=200):
    return [finding for finding, _ in next_steps(metrics, "S", max_epochs)]


def test_all_ok_means_nothing_to_fix():
    steps = next_steps(_metrics(), "S", 200)
    assert len(steps) == 1 and steps[0][0].startswith("nothing to fix")
    assert "--sampler" not in steps[0][1]  # the default generator


def test_off_distribution_names_precision_and_suggests_less_noise():
    m = _metrics(generated=_verdict("off-distribution", "precision_hamming", 0.41, 0.66))
    (finding,) = _findings(m)
    assert "off-distribution" in finding and "precision_hamming = 0.41, threshold 0.66" in finding
    assert "calls" in next_steps(m, "S", 200)[0][1]
    sentence = dict((v, t) for v, t in verdict_sentences(m))["off-distribution"]
    assert "precision_hamming is 0.41 (threshold 0.66)" in sentence


def test_copies_training_data_names_the_privacy_number():
    m = _metrics(generated=_verdict("copies-training-data", "privacy_loss", 0.31, 0.1))
    (finding,) = _findings(m)
    assert "copy training haplotypes" in finding and "privacy_loss = 0.31, threshold 0.1" in finding
    sentence = dict(verdict_sentences(m))["copies-training-data"]
    assert "privacy_loss is 0.31" in sentence


def test_mode_seeking_and_collapse_point_to_the_sweep():
    m = _metrics(recon=_verdict("mode-seeking", "variance_ratio_pc3", 0.2, 0.45))
    (finding,) = _findings(m)
    assert "mode-seeking (variance_ratio_pc3 = 0.2, threshold 0.45)" in finding
    assert next_steps(m, "S", 200)[0][1] == "make sweep SECTION=S"
    m = _metrics(generated=_verdict("collapsed", "site_variance_ratio", 0.01, 0.05), active=1)
    assert _findings(m)[0].startswith("posterior collapse: 1 of 8")


def test_prior_samples_are_advisory():
    m = _metrics(prior=_verdict("off-distribution", "precision_pca", 0.3, 0.68))
    (finding,) = _findings(m)
    assert "prior samples are off-distribution (precision_pca = 0.3" in finding
    assert "advisory" in finding


@pytest.mark.parametrize(
    ("epochs_run", "best", "limit", "flagged"),
    [
        (200, 200, 200, True),
        (200, 200 - NOT_CONVERGED_EPOCHS + 1, 200, True),
        (200, 200 - NOT_CONVERGED_EPOCHS, 200, False),  # improved, then plateaued
        (120, 119, 200, False),  # early stopping, not the limit
    ],
)
def test_not_converged_when_the_best_epoch_is_at_the_limit(epochs_run, best, limit, flagged):
    m = _metrics(epochs_run=epochs_run, best_epoch=best)
    got = not_converged(m, limit)
    assert (got is not None) == flagged
    if flagged:
        assert f"best epoch {best}" in got and f"{limit}-epoch limit" in got
        assert any(f.startswith("not converged") for f in _findings(m, limit))
        assert f"--epochs {2 * limit}" in next_steps(m, "S", limit)[0][1]
