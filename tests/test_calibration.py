"""Calibrating each section's generator to its privacy budget on a split kept out of training."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from vcf_factory import structured_haplotypes, vcf_text, write_vcf

from vae_genomics import cli
from vae_genomics.common.errors import RunError
from vae_genomics.config.budget import PrivacyBudget
from vae_genomics.config.schema import Config
from vae_genomics.evaluation.calibration import LADDER, calibrate, choose_point
from vae_genomics.generate import DEFAULT_GENERATOR
from vae_genomics.train.calibration_split import (
    MIN_CALIBRATION,
    calibration_size,
    carve_calibration,
)


def test_calibration_size_keeps_a_tenth_at_least_100_and_only_from_cohorts_that_can_spare_it():
    assert calibration_size(4000, 0.1) == 400
    assert calibration_size(480, 0.1) == MIN_CALIBRATION == 100  # small cohorts keep 100
    assert calibration_size(400, 0.1) == 100  # 300 left: three times as many
    assert calibration_size(399, 0.1) == 0  # too few to spare them
    assert calibration_size(64, 0.1) == 0
    assert calibration_size(4000, 0.0) == 0


def test_the_split_is_carved_from_training_rows_by_haplotype_id():
    ids = np.array([f"S{i:04d}_{h}" for i in range(300) for h in (0, 1)])
    train = np.arange(100, 600)
    config = Config(seed=3)
    kept, carved = carve_calibration(config, train, ids)
    assert len(carved) == 100 and len(kept) == 400
    assert set(kept) | set(carved) == set(train) and not set(kept) & set(carved)
    assert np.all(np.diff(kept) > 0) and np.all(np.diff(carved) > 0)
    # another section of the same cohort, rows in another order: the same haplotypes are carved
    order = np.random.default_rng(0).permutation(len(ids))
    where = np.argsort(order)  # row of each original haplotype in the permuted section
    _, carved2 = carve_calibration(config, np.sort(where[train]), ids[order])
    assert sorted(ids[order][carved2]) == sorted(ids[carved])
    # nothing is carved with the budget off or a zero fraction
    for setting in ({"privacy": "off"}, {"calibration_fraction": 0.0}):
        off = Config(seed=3, generation=setting)
        assert carve_calibration(off, train, ids)[1].size == 0


def _point(name, cov, meets):
    return {"generator": name, "coverage_fraction": cov, "check": {"meets": meets}}


def test_the_most_realistic_point_inside_the_budget_is_chosen():
    points = [_point("a", 0.99, False), _point("b", 0.95, True), _point("c", 0.97, True),
              _point("d", 0.97, True), _point("e", None, True)]  # fmt: skip
    assert choose_point(points) == "c"  # highest coverage; a tie goes to the earlier point
    assert choose_point([_point("a", 0.99, False), _point("b", 0.9, None)]) is None


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """A 260-sample, 60-SNP cohort (520 haplotypes) trained for two epochs at the default
    budget: 416 training haplotypes, of which 100 are kept for calibration."""
    tmp = tmp_path_factory.mktemp("calibration")
    hap, _ = structured_haplotypes(n_samples=260, n_variants=60)
    vcf = write_vcf(tmp / "c.vcf", vcf_text(hap, samples=[f"S{i:03d}" for i in range(260)]))
    config = {
        "seed": 5,
        "runs_dir": str(tmp / "runs"),
        "sections_dir": str(tmp / "sections"),
        "data": {"vcf": str(vcf), "min_maf": 0.0, "window_snps": 60},
        "model": {"latent_dim": 2, "hidden_units": [16, 8]},
        "training": {"jit_compile": False, "epochs": 2, "batch_size": 64, "patience": 1},
        "report": {"figures": False, "n_components": 2},
        "evaluation": {"iw_samples": 2, "elbo_samples": 1},
        "generation": {"privacy": "lenient"},
    }
    (tmp / "config.yaml").write_text(yaml.safe_dump(config))
    args = ["train", "--config", str(tmp / "config.yaml"), "--run-name", "r"]
    assert cli.main(args) == 0
    run = next((tmp / "runs").glob("*/r"))
    return {"tmp": tmp, "run": run, "metrics": json.loads((run / "metrics.json").read_text())}


def test_training_keeps_the_split_out_and_evaluates_the_chosen_point(trained):
    split = json.loads((trained["run"] / "split.json").read_text())
    cal, train, val = (set(split[k]) for k in ("calibration", "train", "validation"))
    assert len(cal) == 100 and len(train) == 316 and len(val) == 104
    assert not cal & train and not cal & val
    metrics = trained["metrics"]
    assert metrics["n_train"] == 316 and metrics["n_calibration"] == 100
    calibration = metrics["evaluation"]["calibration"]
    assert [p["generator"] for p in calibration["points"]] == list(LADDER)
    assert calibration["budget"]["name"] == "lenient"
    assert calibration["generator"] == (calibration["chosen"] or DEFAULT_GENERATOR)
    assert calibration["chosen"] == choose_point(calibration["points"])
    # the report's generated set is the chosen point's, scored on the held-out haplotypes
    assert metrics["evaluation"]["generator"]["name"] == calibration["generator"]
    for point in calibration["points"]:  # each check is the budget at mean + spread
        check = point["check"]
        assert check["strict"] is True
        for name, key in (("loss", "privacy_loss"), ("auc", "distance_attack_auc")):
            assert check[name]["value"] == pytest.approx(point[key])
            assert check[name]["reference"] == pytest.approx(point["reference"][key])
            assert check[name]["margin"] > 0
        meets = all(check[n]["excess"] + check[n]["margin"] <= check[n]["limit"]
                    for n in ("loss", "auc"))  # fmt: skip
        assert check["meets"] is meets


def test_calibration_is_reproducible(trained):
    from vae_genomics.run.load import load_run

    run = load_run(trained["run"])
    assert len(run.calibration_rows) == 100
    x = run.data.matrix.haplotypes
    x_train = x[run.train_rows]
    from vae_genomics.models.inference import encode

    posteriors = encode(run.model, x_train)
    args = (run.model, x_train, x[run.calibration_rows], posteriors, None)
    budget = PrivacyBudget("loose", 1.0, 1.0)
    first = calibrate(*args, budget, seed=5, ladder=LADDER[:2])
    again = calibrate(*args, budget, seed=5, ladder=LADDER[:2])
    assert first.to_dict() == again.to_dict()
    assert first.chosen == choose_point(first.points) is not None  # every point meets (1, 1)


def _sample_header(out: Path) -> str:
    with gzip.open(out, "rt") as handle:
        return next(line for line in handle if line.startswith("##vae_genomics_sample"))


def test_sample_draws_the_stored_point_and_off_draws_todays_default(trained, tmp_path):
    metrics = json.loads((trained["run"] / "metrics.json").read_text())
    metrics["evaluation"]["generator"]["name"] = "aggregate:1.5/ld:16:1"  # as if chosen
    sets = metrics["evaluation"]["realism"]
    sets["sets"]["generated_samples"].update(
        {k: sets["ceiling"][k] for k in ("privacy_loss", "distance_attack_auc")}
    )  # within any budget
    (trained["run"] / "metrics.json").write_text(json.dumps(metrics))
    base = ["sample", str(trained["run"]), "--n", "6", "--seed", "1"]
    chosen, off = tmp_path / "chosen.vcf.gz", tmp_path / "off.vcf.gz"
    assert cli.main([*base, "--out", str(chosen)]) == 0
    assert "sampler=aggregate:1.5/ld:16:1," in _sample_header(chosen)
    record = json.loads((tmp_path / "chosen.privacy.json").read_text())
    assert record["sections"][next(iter(record["sections"]))]["generator"] == (
        "aggregate:1.5/ld:16:1"
    )
    assert cli.main([*base, "--out", str(off), "--privacy", "off"]) == 0
    assert f"sampler={DEFAULT_GENERATOR}," in _sample_header(off)


def test_a_calibration_list_that_overlaps_training_is_refused(trained, tmp_path):
    import shutil

    from vae_genomics.run.load import load_run

    run = tmp_path / "run"
    shutil.copytree(trained["run"], run)
    split = json.loads((run / "split.json").read_text())
    split["calibration"].append(split["train"][0])
    (run / "split.json").write_text(json.dumps(split))
    with pytest.raises(RunError, match="calibration haplotypes are also listed as training"):
        load_run(run)
