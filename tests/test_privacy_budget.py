"""The privacy budget: its levels, the check beside the real reference, and `sample`'s gate."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from run_factory import SECTIONS, train_tiny_sections

from vae_genomics import cli
from vae_genomics.config import load_config
from vae_genomics.config.budget import LEVELS, PrivacyBudget, parse_budget
from vae_genomics.config.schema import Config
from vae_genomics.evaluation.budget import check_budget, describe_check


def test_levels_and_custom_budgets_parse():
    assert parse_budget("off") is None
    assert parse_budget("standard") == PrivacyBudget("standard", 0.01, 0.02)
    assert parse_budget("loss=0.02, auc=0.03") == PrivacyBudget("loss=0.02, auc=0.03", 0.02, 0.03)
    assert set(LEVELS) == {"strict", "standard", "lenient"}
    for bad in ("loose", "loss=0.02", "loss=2,auc=0.1", "loss=x,auc=0.1", "auc=0.1,size=3"):
        with pytest.raises(ValueError, match="privacy budget"):
            parse_budget(bad)


def test_the_setting_is_validated_with_the_key_named(tmp_path):
    assert Config().generation.privacy == "standard"
    (tmp_path / "c.yaml").write_text("generation:\n  privacy: off\n")  # YAML 1.1: False
    assert load_config(tmp_path / "c.yaml").generation.privacy == "off"
    with pytest.raises(ValueError, match=r"generation\.privacy") as err:
        Config(generation={"privacy": "private"})
    assert "loss=X,auc=Y" in str(err.value)


def _panel(loss, loss_sd, auc, auc_sd):
    return {"privacy_loss": loss, "privacy_loss_sd": loss_sd, "distance_attack_auc": auc,
            "distance_attack_auc_sd": auc_sd}  # fmt: skip


def test_check_is_the_excess_over_the_reference():
    budget = PrivacyBudget("standard", 0.01, 0.02)
    reference = _panel(0.003, 0.004, 0.505, 0.003)
    ok = check_budget(_panel(0.012, 0.008, 0.52, 0.006), reference, budget, n_train=4000)
    assert ok["meets"] is True and not ok["strict"]
    assert ok["loss"]["excess"] == pytest.approx(0.009)
    assert ok["auc"]["excess"] == pytest.approx(0.015)
    assert ok["loss"]["margin"] == 0.0
    over = check_budget(_panel(0.014, 0.008, 0.52, 0.006), reference, budget, n_train=4000)
    assert over["meets"] is False and over["auc"]["excess"] + 0 <= 0.02  # the loss alone trips
    assert "privacy loss 0.014 vs reference 0.003 (excess +0.011, limit +0.01: over)" in (
        describe_check("s", over)
    )


def test_small_cohorts_are_checked_at_mean_plus_spread():
    budget = PrivacyBudget("lenient", 0.05, 0.05)
    generated, reference = _panel(0.04, 0.03, 0.53, 0.02), _panel(0.0, 0.04, 0.5, 0.01)
    assert check_budget(generated, reference, budget, n_train=4000)["meets"] is True
    small = check_budget(generated, reference, budget, n_train=480)
    assert small["strict"] and small["meets"] is False
    assert small["loss"]["margin"] == pytest.approx(math.hypot(0.03, 0.04))  # 0.04 + 0.05 > 0.05
    assert small["auc"]["margin"] == pytest.approx(math.hypot(0.02, 0.01))


def test_missing_numbers_are_not_a_pass():
    check = check_budget({"privacy_loss": 0.0}, _panel(0, 0, 0.5, 0), LEVELS_STANDARD, 4000)
    assert check["meets"] is None
    assert check["missing"] == ["distance_attack_auc"]
    assert "not measured" in describe_check("s", check)


LEVELS_STANDARD = PrivacyBudget("standard", *LEVELS["standard"])


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """The tiny sections, their reports' numbers set to a known leak: the first section's set
    exceeds its reference by 0.03 (loss) and 0.04 (AUC), the second's by 0.001 and 0.002."""
    made = train_tiny_sections(tmp_path_factory.mktemp("budget"))
    for section, (loss, auc) in zip(SECTIONS, [(0.03, 0.04), (0.001, 0.002)], strict=True):
        path = made["runs"] / section / "r" / "metrics.json"
        metrics = json.loads(path.read_text())
        realism = metrics["evaluation"]["realism"]
        realism["ceiling"].update(_panel(0.01, 0.0, 0.5, 0.0))
        realism["sets"]["generated_samples"].update(_panel(0.01 + loss, 0.0, 0.5 + auc, 0.0))
        realism["sets"]["prior_samples"].update(_panel(0.012, 0.0, 0.51, 0.0))  # within standard
        path.write_text(json.dumps(metrics))
    return made


@pytest.fixture(autouse=True)
def _release_within_budget(monkeypatch):
    """The checks here are those made before drawing, on the report's numbers: the attack on the
    drawn haplotypes (whose 16 held-out haplotypes could certify no budget) reads as chance.
    test_release_attack.py checks that one."""
    from vae_genomics.evaluation import release_attack

    def chance(n: int) -> dict:
        return {"n_released": n, "auc": 0.5, "tpr_at_1pct_fpr": 0.01, "null_sd": 0.0,
                "by_size": [{"n": n, "auc": 0.5}]}  # fmt: skip

    monkeypatch.setattr(release_attack, "release_attack", lambda x, *a, **k: chance(len(x)))
    monkeypatch.setattr(release_attack, "attack_from_nearest", lambda d, m, s: chance(s[-1]))


def _sample(run: Path, out: Path, *extra: str) -> int:
    return cli.main(["sample", str(run), "--n", "4", "--seed", "1", "--out", str(out), *extra])


def test_a_section_over_the_budget_is_refused_with_nothing_written(runs, tmp_path, caplog):
    out = tmp_path / "s.vcf.gz"
    assert _sample(runs["run"], out, "--privacy", "standard") == 2
    assert not out.exists() and not (tmp_path / "s.privacy.json").exists()
    text = caplog.text
    assert f"{SECTIONS[0]}: privacy loss 0.040 vs reference 0.010 (excess +0.030" in text
    assert "--privacy off" in text and "model.dropout" in text
    assert "report RUN" not in text and "evaluate RUN" not in text  # advice for this miss only
    # 64 training haplotypes: the stricter check, said why; the spreads were set to 0
    assert "fewer than 1000 training haplotypes: checked at mean + spread" in text
    assert "+ spread" not in text.split("checked at")[0]


def test_a_scored_generator_that_meets_the_budget_is_offered_and_accepted(runs, tmp_path, caplog):
    assert _sample(runs["run"], tmp_path / "d.vcf.gz", "--privacy", "standard") == 2
    assert "meets it: --sampler prior (coverage (Hamming)" in caplog.text
    out = tmp_path / "prior.vcf.gz"
    assert _sample(runs["run"], out, "--sampler", "prior", "--privacy", "standard") == 0
    record = json.loads((tmp_path / "prior.privacy.json").read_text())["sections"][SECTIONS[0]]
    assert record["generator"] == "prior" and record["meets"] is True
    assert record["loss"]["excess"] == pytest.approx(0.002)


def test_a_looser_budget_or_off_releases_and_records_the_check(runs, tmp_path):
    out = tmp_path / "s.vcf.gz"
    assert _sample(runs["run"], out, "--privacy", "loss=0.05,auc=0.05") == 0
    record = json.loads((tmp_path / "s.privacy.json").read_text())
    assert record["meets"] is True
    assert record["budget"] == {"name": "loss=0.05,auc=0.05", "max_loss_excess": 0.05,
                                "max_auc_excess": 0.05}  # fmt: skip
    assert record["sections"][SECTIONS[0]]["loss"]["excess"] == pytest.approx(0.03)
    off = tmp_path / "off.vcf.gz"
    assert _sample(runs["run"], off, "--privacy", "off") == 0
    assert json.loads((tmp_path / "off.privacy.json").read_text())["budget"] == "off"


def test_the_runs_setting_is_the_default_and_the_option_wins(runs, tmp_path, caplog):
    # the tiny runs were trained with generation.privacy: off, so no option samples freely
    assert _sample(runs["run"], tmp_path / "a.vcf.gz") == 0
    assert json.loads((tmp_path / "a.privacy.json").read_text())["budget"] == "off"
    assert _sample(runs["run"], tmp_path / "b.vcf.gz", "--privacy", "strict") == 2
    assert "privacy budget 'strict'" in caplog.text


def test_an_unevaluated_generator_is_not_measured(runs, tmp_path, caplog):
    out = tmp_path / "p.vcf.gz"
    assert _sample(runs["run"], out, "--sampler", "gmm/calls", "--privacy", "lenient") == 2
    assert "not measured" in caplog.text and "not gmm/calls" in caplog.text
    assert "vae-genomics evaluate RUN --synthetic" in caplog.text
    assert not out.exists()


def test_a_region_is_gated_by_each_of_its_sections(runs, tmp_path, caplog):
    region = ["sample", "--runs", str(runs["runs"]), "--sections", ",".join(SECTIONS), "--n", "4",
              "--no-report"]  # fmt: skip
    out = tmp_path / "region.vcf.gz"
    assert cli.main([*region, "--out", str(out), "--privacy", "loss=0.01,auc=0.01"]) == 2
    assert "1 of 2 section(s)" in caplog.text and SECTIONS[0] in caplog.text
    assert f"{SECTIONS[1]}:" not in caplog.text.split("do not meet")[1]  # only the one that misses
    assert not out.exists()
    assert cli.main([*region, "--out", str(out), "--privacy", "loss=0.031,auc=0.041"]) == 0
    record = json.loads((tmp_path / "region.privacy.json").read_text())
    assert record["meets"] is True and set(record["sections"]) == set(SECTIONS)


def test_old_runs_without_attack_numbers_are_refused_until_re_evaluated(runs, tmp_path, caplog):
    run = tmp_path / "old"
    shutil.copytree(runs["run"], run)
    metrics = json.loads((run / "metrics.json").read_text())
    del metrics["evaluation"]["realism"]["sets"]["generated_samples"]["distance_attack_auc"]
    (run / "metrics.json").write_text(json.dumps(metrics))
    assert _sample(run, tmp_path / "o.vcf.gz", "--privacy", "lenient") == 2
    assert "distance_attack_auc" in caplog.text and "`vae-genomics report RUN` recomputes" in (
        caplog.text
    )


def test_an_unknown_budget_on_the_command_line_is_refused_before_anything_runs(
    runs, tmp_path, capsys
):
    with pytest.raises(SystemExit) as stop:
        _sample(runs["run"], tmp_path / "x.vcf.gz", "--privacy", "private")
    assert stop.value.code == 2
    assert "unknown privacy budget 'private'" in capsys.readouterr().err


def test_groups_over_a_region_are_held_to_the_loss_limit_against_their_own_ceiling(caplog):
    from vae_genomics.commands.privacy_gate import group_budget

    record = {"budget": PrivacyBudget("standard", 0.01, 0.02).to_dict()}
    scores = {
        "YRI": {"synthetic": {"privacy_loss": 0.06}, "ceiling": {"privacy_loss": 0.02}},
        "CEU": {"synthetic": {"privacy_loss": 0.025}, "ceiling": {"privacy_loss": 0.02}},
        "MXL": {"skipped": "too few held-out haplotypes"},
    }
    groups = group_budget(record, scores)
    assert set(groups) == {"YRI", "CEU"}
    assert groups["YRI"]["excess"] == pytest.approx(0.04) and not groups["YRI"]["meets"]
    assert groups["CEU"]["meets"]
    assert "1 group(s) leak more than the budget allows over the region: YRI (+0.040)" in (
        caplog.text
    )
    assert group_budget({"budget": "off"}, scores) == {"budget": "off"}


def _metrics(generated, prior, n_train=4000):
    ceiling = _panel(0.0, 0.01, 0.5, 0.01)
    return {"n_train": n_train, "evaluation": {"realism": {
        "ceiling": ceiling, "sets": {"generated_samples": generated, "prior_samples": prior}}}}  # fmt: skip


def test_the_report_says_when_sample_will_not_release_a_section():
    from vae_genomics.report.advice import next_steps

    leaky, fine = _panel(0.05, 0.01, 0.56, 0.01), _panel(0.005, 0.01, 0.51, 0.01)
    steps = dict(next_steps(_metrics(leaky, fine), "S", privacy="standard"))
    finding = next(f for f in steps if "will not release" in f)
    assert "privacy budget 'standard'" in finding and "excess +0.050" in finding
    assert steps[finding].endswith("--sampler prior")
    steps = dict(next_steps(_metrics(leaky, leaky), "S", privacy="standard"))
    assert next(c for f, c in steps.items() if "will not release" in f).endswith(
        "--privacy lenient"
    )
    for privacy in (None, "off"):
        assert not any("will not release" in f for f, _ in next_steps(_metrics(leaky, leaky), "S",
                                                                      privacy=privacy))  # fmt: skip
    assert not any("will not release" in f for f, _ in next_steps(_metrics(fine, leaky), "S",
                                                                  privacy="standard"))  # fmt: skip


def test_a_regions_own_numbers_are_checked_after_drawing(caplog):
    from vae_genomics.commands.privacy_gate import region_budget

    record = {"budget": PrivacyBudget("standard", 0.01, 0.02).to_dict()}
    metrics = {"realism": {"ceiling": _panel(0.02, 0.0, 0.51, 0.0),
                         "sets": {"mosaic": _panel(0.05, 0.0, 0.52, 0.0)}}}  # fmt: skip
    check = region_budget(record, metrics, "mosaic", n_train=4000)
    assert check["meets"] is False and check["loss"]["excess"] == pytest.approx(0.03)
    assert check["budget"]["name"] == "standard"
    assert "the region as a whole does not meet" in caplog.text
    metrics["realism"]["sets"]["mosaic"] = _panel(0.025, 0.0, 0.52, 0.0)
    assert region_budget(record, metrics, "mosaic", n_train=4000)["meets"] is True
    assert region_budget({"budget": "off"}, metrics, "mosaic", 4000) == {"budget": "off"}
