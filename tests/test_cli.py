"""The command line end to end on a tiny VCF written by the test."""

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from vae_genomics.cli import main


def test_help_of_every_subcommand_explains_itself():
    out = subprocess.run(
        [sys.executable, "-m", "vae_genomics.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for command in ("sections", "train", "report"):
        assert command in out
    for command, phrase in [
        ("sections", "1-based inclusive"),
        ("train", "never replaced without"),
        ("report", "latest run"),
    ]:
        sub = subprocess.run(
            [sys.executable, "-m", "vae_genomics.cli", command, "--help"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert phrase in " ".join(sub.split()), command


def test_sections_lists_windows(tiny_config, tmp_path, capsys):
    out_tsv = tmp_path / "sections.tsv"
    assert main(["sections", "--config", str(tiny_config), "--out", str(out_tsv)]) == 0
    table = pd.read_csv(out_tsv, sep="\t")
    # 120 SNPs in windows of 50: 50 + 70 (the remainder of 20 < 25 merges into the previous)
    assert list(table["n_variants"]) == [50, 70]
    assert list(table["name"]) == ["1_100-5000", "1_5100-12000"]
    header = capsys.readouterr().out.splitlines()[0].split("\t")
    assert header[:6] == ["name", "contig", "start", "end", "n_variants", "n_records"]
    assert {"multiallelic", "not_snp", "monomorphic", "below_min_maf"} <= set(header)


def test_bad_config_exits_2_with_the_key_and_file(tmp_path, caplog):
    bad = tmp_path / "bad.yaml"
    bad.write_text("training:\n  epoch: 3\n")
    assert main(["train", "--config", str(bad)]) == 2
    assert "unknown key 'training.epoch'" in caplog.text and str(bad) in caplog.text


def test_unknown_section_exits_2_with_suggestions(tiny_config, caplog):
    assert main(["train", "--config", str(tiny_config), "--section", "1_100-5001"]) == 2
    assert "unknown section '1_100-5001'" in caplog.text and "1_100-5000" in caplog.text


@pytest.mark.slow
def test_train_then_report_end_to_end(tiny_config, tmp_path, capsys, caplog):
    args = ["train", "--config", str(tiny_config), "--section", "1_5100-12000", "--run-name", "r1",
            "--set", "report.figures=true"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    run = tmp_path / "runs" / "1_5100-12000" / "r1"
    assert f"run:    {run}" in printed
    assert f"report: {run / 'report' / 'index.html'}" in printed

    for name in ("model.keras", "config.yaml", "split.json", "history.csv", "latent.tsv",
                 "metrics.json", "report/index.html", "report/pca_overlay.png"):  # fmt: skip
        assert (run / name).is_file(), name
    assert not list(run.parent.glob(".*partial"))  # no staging directory left behind
    assert (run.parent / "latest").resolve() == run.resolve()

    split = json.loads((run / "split.json").read_text())
    assert len(split["train"]) + len(split["validation"]) == 80
    assert len(split["validation"]) == 16 and not set(split["train"]) & set(split["validation"])

    history = pd.read_csv(run / "history.csv")
    assert list(history["epoch"]) == [1, 2, 3]
    for column in ("loss", "reconstruction", "kl", "kl_weight", "val_loss", "val_kl",
                   "val_neg_elbo", "active_units", "kl_dim_1", "kl_dim_3"):  # fmt: skip
        assert column in history.columns
    assert (history["active_units"] <= 3).all()

    latent = pd.read_csv(run / "latent.tsv", sep="\t")
    assert len(latent) == 80
    assert {"haplotype", "sample", "population", "split", "mean_1", "mean_3", "sd_3"} <= set(latent)
    assert set(latent["population"]) == {"P0", "P1"}
    assert (latent["sd_1"] > 0).all()

    metrics = json.loads((run / "metrics.json").read_text())
    held = metrics["heldout"]
    assert held["neg_elbo"] == pytest.approx(held["reconstruction"] + held["kl"])
    assert metrics["section"]["n_variants"] == 70 and metrics["latent_dim"] == 3
    assert len(held["kl_per_dim"]) == 3

    resolved = yaml.safe_load((run / "config.yaml").read_text())
    assert resolved["resolved"]["section"]["name"] == "1_5100-12000"
    assert resolved["training"]["epochs"] == 3

    html = (run / "report" / "index.html").read_text()
    assert "data:image/png;base64," in html
    # self-contained: no external files (only in-page anchors and the link back to the index)
    assert not re.search(r'(src|href)="(?!data:|#|\.\./\.\./\.\./index\.html")', html)

    # a finished run is never overwritten by accident ...
    model_bytes = (run / "model.keras").read_bytes()
    assert main(args) == 2
    assert "a finished run with this name exists" in caplog.text
    assert (run / "model.keras").read_bytes() == model_bytes
    # ... and the report can be re-drawn from the saved run (section directory → latest run)
    (run / "report" / "pca_overlay.png").unlink()
    assert main(["report", str(run.parent)]) == 0
    assert (run / "report" / "pca_overlay.png").is_file()


@pytest.mark.slow
def test_same_seed_same_split_and_overwrite(tiny_config, tmp_path):
    base = ["train", "--config", str(tiny_config), "--epochs", "1"]
    assert main([*base, "--run-name", "a"]) == 0
    assert main([*base, "--run-name", "a", "--overwrite", "--seed", "8"]) == 0
    assert main([*base, "--run-name", "b", "--seed", "8"]) == 0
    section = tmp_path / "runs" / "1_100-5000"
    split_a = json.loads((section / "a" / "split.json").read_text())
    split_b = json.loads((section / "b" / "split.json").read_text())
    assert split_a == split_b and split_a["seed"] == 8  # a was overwritten by the seed-8 run
    latent_a = pd.read_csv(section / "a" / "latent.tsv", sep="\t")
    latent_b = pd.read_csv(section / "b" / "latent.tsv", sep="\t")
    np.testing.assert_allclose(latent_a["mean_1"], latent_b["mean_1"], rtol=1e-4, atol=1e-5)


def test_divergence_in_the_first_epoch_is_a_clear_error(tiny_config, tmp_path, caplog):
    config = yaml.safe_load(tiny_config.read_text())
    config["objective"] = {"likelihood": "gaussian", "sigma": 1e-30}  # 1/sigma^2 overflows
    path = tmp_path / "diverge.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["train", "--config", str(path), "--run-name", "nan"]) == 2
    assert "diverged in epoch 1" in caplog.text and "reconstruction" in caplog.text
    assert not (tmp_path / "runs" / "1_100-5000" / "nan").exists()
    assert not list((tmp_path / "runs" / "1_100-5000").glob(".nan*"))  # staging removed too


@pytest.mark.slow
def test_a_run_without_figures_gets_them_from_report(tiny_config, tmp_path):
    """report.figures: false (tiny_config's) writes the page with its numbers and no figure;
    `vae-genomics report RUN` draws them."""
    args = ["train", "--config", str(tiny_config), "--section", "1_100-5000", "--run-name", "nf"]
    assert main(args) == 0
    report = tmp_path / "runs" / "1_100-5000" / "nf" / "report"
    page = (report / "index.html").read_text()
    assert "Figures were not drawn" in page and "held-out −ELBO" in page
    assert not list(report.glob("*.png"))
    assert main(["report", str(report.parent)]) == 0
    assert len(list(report.glob("*.png"))) >= 6
    assert "Figures were not drawn" not in (report / "index.html").read_text()
