"""The evaluation summary: orchestration of the evaluation layer, per-population coverage, traversals."""

import json

import keras
import numpy as np
import pytest
from vcf_factory import structured_haplotypes

from vae_genomics.common.errors import ConfigError
from vae_genomics.config import EvaluationConfig, VerdictConfig, load_config
from vae_genomics.evaluation.prdc import prdc
from vae_genomics.evaluation.summary import (
    SET_NAMES,
    coverage_by_group,
    evaluate_model,
    latent_traversals,
    thresholds_from_config,
)
from vae_genomics.evaluation.verdict import VERDICTS, VerdictThresholds
from vae_genomics.generate import DEFAULT_GENERATOR
from vae_genomics.generate.samplers import decode_probabilities
from vae_genomics.models.vae import HaplotypeVAE

N_VARIANTS = 60
FAST = EvaluationConfig(iw_samples=5, elbo_samples=2, gmm_components=2, traversal_steps=5)


@pytest.fixture(scope="module")
def cohort():
    hap, pops = structured_haplotypes(n_samples=120, n_variants=N_VARIANTS, n_pops=3, seed=4)
    labels = np.repeat(np.array(["A", "B", "C"])[pops], 2)
    order = np.random.default_rng(0).permutation(len(hap))
    train, held = order[:180], order[180:]
    return {"train": hap[train], "held": hap[held], "held_pops": labels[held]}


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(3)
    return HaplotypeVAE(n_variants=N_VARIANTS, latent_dim=3, hidden_units=[16], seed=3)


def test_verdict_defaults_match_the_evaluation_layer():
    assert thresholds_from_config(EvaluationConfig()) == VerdictThresholds()
    assert VerdictConfig().model_dump() == {
        k: getattr(VerdictThresholds(), k) for k in VerdictConfig.model_fields
    }


def test_evaluation_config_validation(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("evaluation:\n  gmm_components: 0\n")
    with pytest.raises(ConfigError, match=r"evaluation\.gmm_components"):
        load_config(path)
    path.write_text("evaluation:\n  verdict:\n    min_coverage_fraction: 1.5\n")
    with pytest.raises(ConfigError, match=r"evaluation\.verdict\.min_coverage_fraction"):
        load_config(path)
    path.write_text("evaluation:\n  gmm_components: 3\n  verdict:\n    n_pcs: 2\n")
    config = load_config(path)
    assert config.evaluation.gmm_components == 3 and config.evaluation.verdict.n_pcs == 2


def test_coverage_by_group_against_brute_force(rng):
    real = rng.normal(size=(40, 3))
    fake = np.concatenate([rng.normal(size=(30, 3)), rng.normal(5.0, 1.0, size=(10, 3))])
    groups = np.array(["x", "y"] * 20)
    got = coverage_by_group(real, fake, groups, k=3)
    d_rr = np.linalg.norm(real[:, None] - real[None], axis=-1)
    np.fill_diagonal(d_rr, np.inf)
    radius = np.sort(d_rr, axis=1)[:, 2]
    nearest = np.linalg.norm(real[:, None] - fake[None], axis=-1).min(axis=1)
    covered = nearest <= radius
    for g in ("x", "y"):
        assert got[g] == {"n": 20, "coverage": pytest.approx(covered[groups == g].mean())}
    # the count-weighted mean over groups is the overall coverage
    overall = prdc(real, fake, k=3)["coverage"]
    assert sum(v["n"] * v["coverage"] for v in got.values()) / 40 == pytest.approx(overall)


def test_latent_traversals_vary_one_dimension_over_two_prior_sds(model):
    centre = np.array([0.3, -0.2, 0.1])
    got = latent_traversals(model, centre, dims=[2, 0], steps=5)
    np.testing.assert_allclose(got["values"], [-2, -1, 0, 1, 2])
    assert got["probabilities"].shape == (2, 5, N_VARIANTS)
    codes = np.tile(centre, (5, 1))
    codes[:, 0] = got["values"]
    np.testing.assert_allclose(got["probabilities"][1], decode_probabilities(model, codes), 1e-6)
    np.testing.assert_allclose(
        got["centre_probabilities"], decode_probabilities(model, centre[None])[0], rtol=1e-6
    )
    assert latent_traversals(model, centre, dims=[])["probabilities"].shape == (0, 9, N_VARIANTS)


def test_evaluate_model_summary_is_complete_and_json_safe(model, cohort):
    ev = evaluate_model(
        model, cohort["train"], cohort["held"], FAST, populations=cohort["held_pops"], seed=1
    )
    s = ev.summary
    json.dumps(s, allow_nan=False)
    assert list(ev.sets) == list(SET_NAMES) == list(s["modeseek"]["sets"])
    n = len(cohort["held"])
    assert all(x.shape == (n, N_VARIANTS) for x in ev.sets.values())
    assert s["heldout"]["neg_elbo"] == pytest.approx(
        s["heldout"]["reconstruction"] + s["heldout"]["kl"]
    )
    assert s["iw_nll"]["n_samples"] == 5 and s["iw_nll"]["nll"] <= s["iw_nll"]["neg_elbo"] + 1e-9
    attack = s["likelihood_attack"]
    assert attack["draws"] == 5 and attack["n"] == n // 2
    assert 0 <= attack["auc"] <= 1 and 0 <= attack["reference_auc"] <= 1
    assert attack["auc_sd"] > 0 and attack["reference_auc_sd"] > 0
    assert attack["heldout_nll"] == pytest.approx(s["iw_nll"]["nll"])  # the same draws
    mi = s["mutual_information"]
    assert mi["mi"] <= mi["upper_bound"] + 1e-9
    assert mi["upper_bound"] == pytest.approx(np.log(len(cohort["train"]) + n))
    assert len(s["latent"]["activity"]) == 3 and len(s["reencoding"]["per_dim"]) == 3
    assert s["gmm"] == {**s["gmm"], "n_components": 2, "chosen_by": "config", "bic": None}
    assert set(s["verdicts"]) == set(SET_NAMES)
    assert s["worst"]["verdict"] in VERDICTS
    # the headline is the worse of the reconstructions' and the default generator's verdicts
    pair = [s["verdicts"]["reconstruction_samples"], s["verdicts"]["generated_samples"]]
    assert s["headline"]["verdict"] == max(pair, key=VERDICTS.index)
    assert s["generator"]["name"] == DEFAULT_GENERATOR
    # the realism and privacy panel of the generated sets, beside its ceiling, feeds their verdicts
    assert set(s["realism"]["sets"]) == {"prior_samples", "generated_samples"}
    for name, panel in s["realism"]["sets"].items():
        assert panel["n"] == s["realism"]["ceiling"]["n"] == n
        assert panel["privacy_loss"] == pytest.approx(panel["aats_heldout"] - panel["aats_train"])
        checks = {c["name"]: c for c in s["modeseek"]["sets"][name]["verdict"]["checks"]}
        assert checks["privacy_loss"]["value"] == panel["privacy_loss"]
    names = {
        c["name"] for c in s["modeseek"]["sets"]["reconstruction_samples"]["verdict"]["checks"]
    }
    assert "privacy_loss" not in names  # reconstructions are not judged for copying
    # per-population coverage uses the balls of prdc_pca: its weighted mean is that coverage
    for stats in s["modeseek"]["sets"].values():
        by_pop = stats["coverage_by_population"]
        assert sorted(by_pop) == ["A", "B", "C"] and sum(v["n"] for v in by_pop.values()) == n
        mean = sum(v["n"] * v["coverage"] for v in by_pop.values()) / n
        assert mean == pytest.approx(stats["prdc_pca"]["coverage"])
    # same seed, same numbers
    again = evaluate_model(
        model, cohort["train"], cohort["held"], FAST, populations=cohort["held_pops"], seed=1
    )
    assert again.summary["modeseek"] == s["modeseek"]


def test_a_constant_decoder_is_judged_collapsed(cohort):
    keras.utils.set_random_seed(5)
    flat = HaplotypeVAE(n_variants=N_VARIANTS, latent_dim=2, hidden_units=[8], seed=5)
    for layer in flat.decoder.layers:  # every code decodes to sigmoid(bias): one point
        layer.kernel.assign(np.zeros(layer.kernel.shape, dtype="float32"))
    ev = evaluate_model(flat, cohort["train"], cohort["held"], FAST, seed=0)
    sets = ev.summary["modeseek"]["sets"]
    for name in ("reconstruction_probabilities", "reconstruction_threshold"):
        assert sets[name]["verdict"]["verdict"] == "collapsed", name
        assert sets[name]["verdict"]["tripped_by"] in {"max_variance_ratio", "site_variance_ratio"}
    assert ev.summary["worst"]["verdict"] == "collapsed"
    assert "coverage_by_population" not in sets["prior_samples"]  # no labels given


def test_the_ceiling_depends_on_the_data_and_the_seed_only(model, cohort):
    keras.utils.set_random_seed(9)
    other = HaplotypeVAE(n_variants=N_VARIANTS, latent_dim=2, hidden_units=[8], seed=9)
    three = FAST.model_copy(update={"gmm_components": 3})  # the samplers draw differently
    a = evaluate_model(model, cohort["train"], cohort["held"], FAST, seed=1).summary
    b = evaluate_model(other, cohort["train"], cohort["held"], three, seed=1).summary
    assert a["modeseek"]["ceiling"] == b["modeseek"]["ceiling"]
    c = evaluate_model(model, cohort["train"], cohort["held"], FAST, seed=2).summary
    assert c["modeseek"]["ceiling"] != a["modeseek"]["ceiling"]


def test_max_points_subsamples_heldout_and_labels_together(model, cohort):
    config = FAST.model_copy(update={"max_points": 30})
    ev = evaluate_model(
        model, cohort["train"], cohort["held"], config, populations=cohort["held_pops"], seed=2
    )
    assert ev.heldout.shape == (30, N_VARIANTS) and len(ev.heldout_populations) == 30
    rows = [np.flatnonzero((cohort["held"] == h).all(axis=1))[0] for h in ev.heldout]
    np.testing.assert_array_equal(ev.heldout_populations, cohort["held_pops"][rows])
    assert ev.summary["modeseek"]["settings"]["n_reference"] == 30
    assert all(len(x) == 30 for x in ev.sets.values())


def test_thresholds_from_the_config_reach_the_verdict(model, cohort):
    strict = FAST.model_copy(update={"verdict": VerdictConfig(min_coverage_fraction=1.0)})
    lenient = FAST.model_copy(
        update={"verdict": VerdictConfig(min_coverage_fraction=0.0, min_variance_fraction=0.0,
                                         collapse_variance_ratio=0.0, min_precision_fraction=0.0,
                                         max_privacy_loss=1.0, max_copy_excess=1.0)}
    )  # fmt: skip
    got = evaluate_model(model, cohort["train"], cohort["held"], lenient, seed=1).summary
    assert set(got["verdicts"].values()) == {"ok"}
    got = evaluate_model(model, cohort["train"], cohort["held"], strict, seed=1).summary
    assert got["modeseek"]["thresholds"]["min_coverage_fraction"] == 1.0
    assert "mode-seeking" in got["verdicts"].values() or "collapsed" in got["verdicts"].values()


def test_too_few_heldout_haplotypes_is_a_clear_error(model, cohort):
    with pytest.raises(ValueError, match="validation_fraction"):
        evaluate_model(model, cohort["train"], cohort["held"][:5], FAST)
