"""Mode-seeking statistics and verdicts on haplotype sets whose answer is known."""

import json

import numpy as np
import pytest

from vae_genomics.evaluation.modeseek import (
    compare_sets,
    mode_seeking_report,
    variance_ratios,
)
from vae_genomics.evaluation.pca import HaplotypePCA
from vae_genomics.evaluation.verdict import VerdictThresholds, headline, judge

N_VARIANTS = 150


@pytest.fixture(scope="module")
def cohort():
    """Three populations with their own allele frequencies; every draw is from the same mixture."""
    rng = np.random.default_rng(0)
    freqs = rng.beta(0.5, 0.5, size=(3, N_VARIANTS))

    def draw(n, pops=(0, 1, 2)):
        pop = rng.choice(pops, size=n)
        return (rng.random((n, N_VARIANTS)) < freqs[pop]).astype(np.int8)

    train, heldout = draw(600), draw(200)
    return {
        "train": train,
        "heldout": heldout,
        "matching": draw(200),
        "one_population": draw(200, pops=(0,)),
        "single_point": np.tile((train.mean(0) >= 0.5).astype(np.int8), (200, 1)),
        "mean_probabilities": np.tile(train.mean(0), (200, 1)),
        "pca": HaplotypePCA(n_components=4).fit(train),
    }


def test_variance_ratios_closed_forms(rng):
    coords = rng.normal(size=(100, 4))
    np.testing.assert_allclose(variance_ratios(coords, coords), 1.0)
    np.testing.assert_allclose(variance_ratios(2 * coords, coords), 4.0)
    np.testing.assert_allclose(
        variance_ratios(np.tile(coords[:1], (50, 1)), coords), 0.0, atol=1e-20
    )


def test_a_set_compared_with_itself_agrees_everywhere(cohort):
    held = cohort["heldout"]
    stats = compare_sets(held, held.copy(), cohort["pca"], ld_max_offset=5)
    assert stats["variance_ratio"] == pytest.approx([1.0] * 4)
    assert stats["total_variance_ratio"] == pytest.approx(1.0)
    assert stats["site_variance_ratio"] == pytest.approx(1.0)
    for space in ("prdc_pca", "prdc_hamming"):
        for key in ("precision", "recall", "coverage"):
            assert stats[space][key] == 1.0
    assert stats["allele_frequency"]["pearson_r"] == pytest.approx(1.0)
    assert stats["allele_frequency"]["rmse"] == 0.0
    assert stats["ld"]["pearson_r"] == pytest.approx(1.0) and stats["ld"]["rmse"] == 0.0


def test_a_single_point_has_zero_variance_and_coverage(cohort):
    stats = compare_sets(cohort["heldout"], cohort["single_point"], cohort["pca"])
    assert stats["variance_ratio"] == pytest.approx([0.0] * 4, abs=1e-20)
    assert stats["site_variance_ratio"] == 0.0
    assert stats["prdc_hamming"]["coverage"] < 0.02
    assert stats["ld"]["n_pairs"] == 0 and stats["ld"]["pearson_r"] is None  # NaN → None


def test_verdicts_on_known_sets(cohort):
    sets = {
        name: cohort[name]
        for name in ("matching", "one_population", "single_point", "mean_probabilities")
    }
    report = mode_seeking_report(
        cohort["train"], cohort["heldout"], sets, pca=cohort["pca"], seed=1
    )
    json.dumps(report, allow_nan=False)  # plain JSON
    ceiling = report["ceiling"]
    assert ceiling["prdc_pca"]["coverage"] > 0.85 and ceiling["prdc_hamming"]["coverage"] > 0.85
    verdicts = {name: s["verdict"] for name, s in report["sets"].items()}
    assert verdicts["matching"]["verdict"] == "ok" and verdicts["matching"]["tripped_by"] is None
    # one population only: no spread along the PCs separating populations
    one = verdicts["one_population"]
    assert one["verdict"] == "mode-seeking"
    assert one["tripped_by"] in {"variance_ratio_pc1", "variance_ratio_pc2"}
    assert one["value"] < one["threshold"]
    assert "coverage_pca" in one["tripped"]
    for name in ("single_point", "mean_probabilities"):
        assert verdicts[name]["verdict"] == "collapsed"
        assert verdicts[name]["tripped_by"] in {"max_variance_ratio", "site_variance_ratio"}
    assert report["settings"]["n_reference"] == 200 and report["thresholds"]["n_pcs"] == 4


def test_report_subsamples_to_the_heldout_size(cohort):
    big = np.concatenate([cohort["matching"]] * 3)
    report = mode_seeking_report(cohort["train"], cohort["heldout"], {"big": big}, max_points=150)
    assert report["settings"]["n_reference"] == 150
    assert report["ceiling"]["n"] == 150 and report["sets"]["big"]["n"] == 150


def _stats(ratios, coverage=0.95, site=1.0, precision=0.95):
    return {
        "variance_ratio": ratios,
        "site_variance_ratio": site,
        "prdc_pca": {"coverage": coverage, "precision": precision},
        "prdc_hamming": {"coverage": coverage, "precision": precision},
    }


def test_judge_thresholds_and_precedence():
    ceiling = _stats([1.3, 1.0, 0.9, 1.0], coverage=0.96)
    t = VerdictThresholds()
    assert judge(_stats([0.9, 0.8, 0.7, 0.9]), ceiling, t)["verdict"] == "ok"
    # PC1 threshold is 0.5 × min(1.3, 1): the inflated ceiling is capped at 1
    got = judge(_stats([0.49, 0.8, 0.7, 0.9]), ceiling, t)
    assert (got["verdict"], got["tripped_by"], got["threshold"]) == (
        "mode-seeking",
        "variance_ratio_pc1",
        0.5,
    )
    # PC3: 0.5 × 0.9
    assert judge(_stats([0.9, 0.8, 0.44, 0.9]), ceiling, t)["tripped_by"] == "variance_ratio_pc3"
    got = judge(_stats([0.9, 0.8, 0.7, 0.9], coverage=0.5), ceiling, t)
    assert got["verdict"] == "mode-seeking" and set(got["tripped"]) == {
        "coverage_pca",
        "coverage_hamming",
    }
    assert got["threshold"] == pytest.approx(0.7 * 0.96)
    # collapse wins over mode-seeking, and the worst check (relative to its threshold) is named
    got = judge(_stats([0.01, 0.04, 0.02, 0.03], coverage=0.0, site=0.03), ceiling, t)
    assert got["verdict"] == "collapsed" and got["tripped_by"] == "site_variance_ratio"
    assert {"max_variance_ratio", "site_variance_ratio"} <= set(got["tripped"])  # every failure
    # only the first n_pcs are checked; a missing number never trips
    assert (
        judge(_stats([0.9, 0.8, 0.7, 0.01]), ceiling, VerdictThresholds(n_pcs=3))["verdict"] == "ok"
    )
    assert judge(_stats([None, 0.8, 0.7, 0.9]), ceiling, t)["verdict"] == "ok"
    # stricter thresholds flip a borderline set
    strict = VerdictThresholds(min_variance_fraction=0.95)
    assert (
        judge(_stats([0.9, 0.8, 0.9, 0.9]), ceiling, strict)["tripped_by"] == "variance_ratio_pc2"
    )


def test_off_distribution_names_the_precision_that_tripped_it():
    ceiling = _stats([1.0, 1.0, 1.0, 1.0], precision=0.9)
    # over-dispersed: ratios above 1, precision below 0.7 x 0.9 = 0.63
    got = judge(_stats([2.1, 1.3, 1.2, 1.8], precision=0.4), ceiling)
    assert (got["verdict"], got["tripped_by"], got["value"]) == (
        "off-distribution",
        "precision_pca",
        0.4,
    )
    assert got["threshold"] == pytest.approx(0.63)
    # precision just above the threshold: ok; with a shrunk PC it is mode-seeking instead
    assert judge(_stats([2.1, 1.3, 1.2, 1.8], precision=0.64), ceiling)["verdict"] == "ok"
    got = judge(_stats([0.2, 1.0, 1.0, 1.0], precision=0.99), ceiling)
    assert (got["verdict"], got["tripped_by"]) == ("mode-seeking", "variance_ratio_pc1")
    # collapse still comes first
    got = judge(_stats([0.01, 0.01, 0.01, 0.01], site=0.01, precision=0.1), ceiling)
    assert got["verdict"] == "collapsed" and "precision_pca" in got["tripped"]


def test_copies_training_data_from_privacy_numbers():
    ceiling = _stats([1.0, 1.0, 1.0, 1.0])
    good = _stats([1.0, 1.0, 1.0, 1.0])
    t = VerdictThresholds()
    privacy = {
        "privacy_loss": 0.01,
        "exact_copy_fraction": 0.25,
        "heldout_exact_copy_fraction": 0.2,
    }
    assert judge(good, ceiling, t, privacy)["verdict"] == "ok"
    assert judge(good, ceiling, t, {**privacy, "privacy_loss": 0.09})["verdict"] == "ok"
    got = judge(good, ceiling, t, {**privacy, "privacy_loss": 0.12})
    assert (got["verdict"], got["tripped_by"], got["value"], got["threshold"]) == (
        "copies-training-data", "privacy_loss", 0.12, 0.1,
    )  # fmt: skip
    # exact copies are judged against the held-out haplotypes' own fraction (0.2 + 0.1)
    got = judge(good, ceiling, t, {**privacy, "exact_copy_fraction": 0.35})
    assert (got["verdict"], got["tripped_by"]) == ("copies-training-data", "exact_copy_fraction")
    assert got["threshold"] == pytest.approx(0.3)
    assert judge(good, ceiling, t, {**privacy, "exact_copy_fraction": 0.29})["verdict"] == "ok"
    # without a panel (reconstructions) there is no privacy check; a model failure comes first
    assert judge(good, ceiling, t, None)["verdict"] == "ok"
    shrunk = _stats([0.1, 1.0, 1.0, 1.0])
    got = judge(shrunk, ceiling, t, {**privacy, "privacy_loss": 0.5})
    assert got["verdict"] == "mode-seeking" and set(got["tripped"]) == {
        "variance_ratio_pc1", "privacy_loss",
    }  # fmt: skip


def test_headline_uses_reconstructions_and_the_default_generator_only():
    verdicts = {
        "reconstruction_samples": "ok",
        "prior_samples": "off-distribution",
        "generated_samples": "ok",
    }
    assert headline(verdicts) == {"set": "reconstruction_samples", "verdict": "ok"}
    verdicts["generated_samples"] = "copies-training-data"
    assert headline(verdicts) == {"set": "generated_samples", "verdict": "copies-training-data"}
    verdicts["reconstruction_samples"] = "mode-seeking"
    assert headline(verdicts) == {"set": "reconstruction_samples", "verdict": "mode-seeking"}
    assert headline({"prior_samples": "collapsed"}) == {"set": None, "verdict": None}


def test_thresholds_are_validated():
    with pytest.raises(ValueError, match="min_coverage_fraction"):
        VerdictThresholds(min_coverage_fraction=1.5)
    with pytest.raises(ValueError, match="n_pcs"):
        VerdictThresholds(n_pcs=0)


def test_ceiling_is_measured_in_a_pca_that_did_not_see_it(cohort):
    report = mode_seeking_report(cohort["train"], cohort["heldout"], {}, pca=cohort["pca"])
    assert report["settings"]["ceiling_pca"] == "out-of-sample"
    ceiling = report["ceiling"]
    # like an unseen sample from the same distribution: variance ratios ~1, coverage ~1 - 2^-k
    assert ceiling["variance_ratio"] == pytest.approx([1.0] * 4, abs=0.35)
    assert ceiling["prdc_pca"]["coverage"] > 0.9
    # in the training PCA itself, the weak PCs' variance of the training sample is inflated
    in_sample = compare_sets(cohort["heldout"], cohort["train"][:200], cohort["pca"])
    assert in_sample["variance_ratio"][3] > ceiling["variance_ratio"][3] + 0.3


def test_small_training_set_falls_back_to_an_in_sample_ceiling(cohort, caplog):
    train = cohort["train"][:210]
    report = mode_seeking_report(train, cohort["heldout"], {"m": cohort["matching"]})
    assert report["settings"]["ceiling_pca"] == "in-sample"
    assert "in-sample" in caplog.text
