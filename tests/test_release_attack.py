"""The distance attack on a release at its own size, and `sample`'s check of it after drawing."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from run_factory import SECTIONS, train_tiny_sections

from vae_genomics import cli
from vae_genomics.commands.privacy_gate import PrivacyBudgetError
from vae_genomics.commands.release_gate import (
    RegionReleaseCheck,
    region_release_gate,
    release_gate,
)
from vae_genomics.common.hamming import hamming_matrix
from vae_genomics.config.budget import PrivacyBudget
from vae_genomics.evaluation.attacks import roc_auc
from vae_genomics.evaluation.budget import check_release
from vae_genomics.evaluation.release_attack import null_sd, prefix_sizes, release_attack


def _cohort(rng, n, width=40, p=0.3):
    return (rng.random((n, width)) < p).astype(np.int8)


def test_prefix_sizes_double_up_to_the_release():
    assert prefix_sizes(3000) == [500, 1000, 2000, 3000]
    assert prefix_sizes(1000) == [500, 1000]
    assert prefix_sizes(120) == [120]
    assert prefix_sizes(7, first=2) == [2, 4, 7]


def test_the_attack_is_the_auc_of_nearest_distances_at_every_prefix(rng):
    members, nonmembers, released = _cohort(rng, 50), _cohort(rng, 30), _cohort(rng, 23)
    attack = release_attack(released, members, nonmembers, block=4, first=2)
    for row, size in zip(attack["by_size"], [2, 4, 8, 16, 23], strict=True):
        assert row["n"] == size
    real = np.concatenate([members, nonmembers])
    for row in attack["by_size"]:
        nearest = hamming_matrix(real, released[: row["n"]]).min(axis=1)
        assert row["auc"] == pytest.approx(roc_auc(-nearest[:50], -nearest[50:]))
    assert attack["auc"] == attack["by_size"][-1]["auc"]
    assert attack["null_sd"] == pytest.approx(math.sqrt(81 / (12 * 50 * 30)))
    assert (attack["n_released"], attack["n_members"], attack["n_nonmembers"]) == (23, 50, 30)


def test_copies_of_members_are_caught_and_an_independent_release_is_not(rng):
    members, nonmembers = _cohort(rng, 400, 60), _cohort(rng, 400, 60)
    copies = release_attack(members[:200], members, nonmembers)
    # the 200 copied members (distance 0) beat every non-member; the other 200 are like them
    d = hamming_matrix(np.concatenate([members[200:], nonmembers]), members[:200]).min(axis=1)
    rest = roc_auc(-d[:200], -d[200:])
    assert copies["auc"] == pytest.approx(0.5 * 1.0 + 0.5 * rest)
    assert abs(rest - 0.5) < 3 * null_sd(200, 400)
    assert copies["tpr_at_1pct_fpr"] >= 0.49
    fresh = release_attack(_cohort(rng, 2000, 60), members, nonmembers)
    assert abs(fresh["auc"] - 0.5) < 3 * null_sd(400, 400)
    with pytest.raises(ValueError, match="variants"):
        release_attack(members[:, :10], members, nonmembers)


def _attack(auc_by_size, sd=0.01):
    rows = [{"n": n, "auc": a} for n, a in auc_by_size]
    return {"n_released": rows[-1]["n"], "auc": rows[-1]["auc"], "null_sd": sd,
            "tpr_at_1pct_fpr": 0.02, "by_size": rows}  # fmt: skip


def test_the_release_check_is_the_excess_over_chance_and_names_the_largest_size_within():
    budget = PrivacyBudget("standard", 0.01, 0.02)
    attack = _attack([(500, 0.505), (1000, 0.518), (2000, 0.53)])
    big = check_release(attack, budget, n_train=4000)
    assert not big["meets"] and big["margin"] == 0.0 and not big["strict"]
    assert big["excess"] == pytest.approx(0.03) and big["largest_within"] == 1000
    small = check_release(attack, budget, n_train=480)  # mean + the null's spread
    assert small["strict"] and small["margin"] == 0.01 and small["largest_within"] == 500
    assert check_release(_attack([(500, 0.515)]), budget, 4000)["meets"] is True


def _fake_run(rng):
    x = _cohort(rng, 300, 50)
    return SimpleNamespace(
        data=SimpleNamespace(matrix=SimpleNamespace(haplotypes=x), section=SimpleNamespace(name="s1")),
        train_rows=np.arange(0, 240), val_rows=np.arange(240, 300),
    )  # fmt: skip


def test_the_gate_refuses_a_release_over_the_limit_and_says_how_many_would_pass(rng):
    run = _fake_run(rng)
    budget = {"name": "lenient", "max_loss_excess": 0.05, "max_auc_excess": 0.05}
    x = run.data.matrix.haplotypes
    fresh = _cohort(rng, 600, 50)
    record = release_gate(run, fresh, {"budget": budget})
    assert record["release"]["s1"]["meets"] is True and record["release"]["s1"]["strict"]
    # independent haplotypes first, then copies of every training haplotype
    leaky = np.concatenate([fresh, x[run.train_rows], x[run.train_rows]])
    with pytest.raises(PrivacyBudgetError, match="at the size asked for") as err:
        release_gate(run, leaky, {"budget": budget}, "sample of s1")
    text = str(err.value)
    assert "distance attack on the 1080 haplotypes released" in text
    assert "500: " in text and "1080: " in text and "(`--n 500`)" in text
    assert "Nothing was written" in text and "--privacy off" in text
    off = release_gate(run, leaky, {"budget": "off"})
    assert "release" not in off


def _fake_region(rng, widths=(30, 20)):
    x = _cohort(rng, 300, sum(widths))
    sections = [SimpleNamespace(data=SimpleNamespace(section=SimpleNamespace(name=f"s{k}")))
                for k in range(len(widths))]  # fmt: skip
    return SimpleNamespace(
        name="r", haplotypes=x, offsets=np.concatenate([[0], np.cumsum(widths)]),
        train_rows=np.arange(60, 300), val_rows=np.arange(0, 60), sections=sections,
    )  # fmt: skip


#: A budget chance passes at these sizes (AUC spread 0.042 under the null) and copies do not.
LOOSE = {"name": "loss=1,auc=0.2", "max_loss_excess": 1.0, "max_auc_excess": 0.2}


def test_a_region_is_attacked_section_by_section_and_as_a_whole(rng):
    region = _fake_region(rng)
    released = _cohort(rng, 700, 50)
    record = {"budget": LOOSE}
    check = RegionReleaseCheck(region, record, 700, "region r")
    check.section(0, released[:, :30])
    check.section(1, released[:, 30:])
    check.finish()
    assert set(record["release"]) == {"s0", "s1", "region"}
    # the region's score: minus the distances to the nearest released haplotype, summed
    real = region.haplotypes[np.r_[region.train_rows, region.val_rows]]
    summed = sum(hamming_matrix(real[:, c], released[:, c]).min(axis=1)
                 for c in (slice(0, 30), slice(30, 50)))  # fmt: skip
    assert record["release"]["region"]["auc"] == pytest.approx(
        roc_auc(-summed[:240], -summed[240:])
    )
    assert [row["n"] for row in record["release"]["region"]["by_size"]] == [500, 700]
    assert all(c["meets"] for c in record["release"].values())


def test_a_region_section_that_copies_stops_the_release(rng):
    region = _fake_region(rng)
    x = region.haplotypes[region.train_rows]
    record = {"budget": LOOSE}
    check = RegionReleaseCheck(region, record, 240, "region r")
    check.section(0, _cohort(rng, 240, 30))
    with pytest.raises(PrivacyBudgetError, match="s1: distance attack on the 240 haplotypes"):
        check.section(1, x[:, 30:])
    assert record["release"]["s0"]["meets"] and not record["release"]["s1"]["meets"]


def test_a_region_drawn_whole_is_checked_the_same_way(rng):
    region = _fake_region(rng)
    released = _cohort(rng, 700, 50)
    whole = region_release_gate(region, released, {"budget": LOOSE}, "admixture over r")
    streamed = {"budget": LOOSE}
    check = RegionReleaseCheck(region, streamed, 700, "region r")
    check.section(0, released[:, :30])
    check.section(1, released[:, 30:])
    check.finish()
    assert whole["release"] == streamed["release"]
    assert "release" not in region_release_gate(region, released, {"budget": "off"}, "x")
    copies = region.haplotypes[region.train_rows]
    with pytest.raises(PrivacyBudgetError, match="admixture over r: the haplotypes drawn"):
        region_release_gate(region, copies, {"budget": LOOSE}, "admixture over r")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """The tiny sections, the first one's report numbers set within every budget."""
    made = train_tiny_sections(tmp_path_factory.mktemp("release"))
    path = made["runs"] / SECTIONS[0] / "r" / "metrics.json"
    metrics = json.loads(path.read_text())
    realism = metrics["evaluation"]["realism"]
    same = {"privacy_loss": 0.0, "privacy_loss_sd": 0.0, "distance_attack_auc": 0.5,
            "distance_attack_auc_sd": 0.0}  # fmt: skip
    realism["ceiling"].update(same)
    realism["sets"]["generated_samples"].update(same)
    path.write_text(json.dumps(metrics))
    return made


def test_sample_refuses_a_release_that_copies_with_nothing_written(runs, tmp_path, monkeypatch):
    from vae_genomics.commands import sample
    from vae_genomics.run.load import load_run

    loaded = load_run(runs["run"])
    train = loaded.data.matrix.haplotypes[loaded.train_rows]
    monkeypatch.setattr(sample, "draw_release", lambda run, n, *a: train[:n])
    out = tmp_path / "s.vcf.gz"
    args = ["sample", str(runs["run"]), "--n", "64", "--seed", "1", "--out", str(out)]
    assert cli.main([*args, "--privacy", "loss=1,auc=0.2"]) == 2  # the report's numbers pass
    assert not out.exists() and not Path(str(out) + ".tbi").exists()
    assert not (tmp_path / "s.privacy.json").exists()
    assert cli.main([*args, "--privacy", "off"]) == 0 and out.exists()
    record = json.loads((tmp_path / "s.privacy.json").read_text())
    assert record["budget"] == "off" and "release" not in record


def test_sample_records_the_release_check_beside_the_vcf(runs, tmp_path, monkeypatch):
    from vae_genomics.commands import sample

    rng = np.random.default_rng(3)
    monkeypatch.setattr(
        sample, "draw_release", lambda run, n, *a: _cohort(rng, n, run.data.matrix.n_variants)
    )
    out = tmp_path / "ok.vcf.gz"
    args = ["sample", str(runs["run"]), "--n", "40", "--out", str(out), "--privacy", "loss=1,auc=1"]
    assert cli.main(args) == 0
    release = json.loads((tmp_path / "ok.privacy.json").read_text())["release"][SECTIONS[0]]
    assert release["meets"] is True and release["n_released"] == 40
    assert release["by_size"][-1] == {"n": 40, "auc": release["auc"]}


def test_a_region_sample_that_copies_writes_nothing(runs, tmp_path, monkeypatch):
    from vae_genomics.generate import region as region_module

    def copies(loaded, model, n, *args, **kwargs):
        train = loaded.haplotypes[loaded.train_rows]
        for k in range(len(loaded.sections)):
            yield train[:n, loaded.offsets[k] : loaded.offsets[k + 1]]

    monkeypatch.setattr(region_module, "iter_region", copies)
    out = tmp_path / "region.vcf.gz"
    args = ["sample", "--runs", str(runs["runs"]), "--sections", ",".join(SECTIONS), "--n",
            "64", "--no-report", "--out", str(out)]  # fmt: skip
    both_pass = {"privacy_loss": 0.0, "privacy_loss_sd": 0.0, "distance_attack_auc": 0.5,
                 "distance_attack_auc_sd": 0.0}  # fmt: skip
    path = runs["runs"] / SECTIONS[1] / "r" / "metrics.json"
    metrics = json.loads(path.read_text())
    for key in ("ceiling",):
        metrics["evaluation"]["realism"][key].update(both_pass)
    metrics["evaluation"]["realism"]["sets"]["generated_samples"].update(both_pass)
    path.write_text(json.dumps(metrics))
    assert cli.main([*args, "--privacy", "loss=1,auc=0.2"]) == 2
    assert not out.exists() and not list(tmp_path.glob(".region*"))
    assert cli.main([*args, "--privacy", "off"]) == 0 and out.exists()
    # a refused --overwrite keeps the sample it would have replaced, with its page and numbers
    before = out.read_bytes()
    old = {tmp_path / "region.html": "old page", tmp_path / "region.json": "{}"}
    for path, text in old.items():
        path.write_text(text)
    assert cli.main([*args, "--privacy", "loss=1,auc=0.2", "--overwrite"]) == 2
    assert out.read_bytes() == before
    assert all(path.read_text() == text for path, text in old.items())
    # released: the page and numbers of the old sample are gone with it
    assert cli.main([*args, "--privacy", "off", "--overwrite", "--seed", "5"]) == 0
    assert not any(path.exists() for path in old)
