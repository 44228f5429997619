"""A finished run is self-sufficient: moved elsewhere without its VCF, from another working
directory, `sample`, `encode` and `report` still work, and the Python API gives the CLI's numbers."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest
import yaml
from cyvcf2 import VCF
from vcf_factory import structured_haplotypes, vcf_text, write_vcf

import vae_genomics
from vae_genomics.cli import main
from vae_genomics.common.errors import DataError

SECTION = "1_5100-12000"


@pytest.fixture(scope="module")
def moved(tmp_path_factory) -> dict:
    """A tiny run trained, moved to another directory, its VCF and config renamed away."""
    tmp = tmp_path_factory.mktemp("travel")
    hap, pops = structured_haplotypes(n_samples=40, n_variants=120)
    samples = [f"S{i:03d}" for i in range(40)]
    text = vcf_text(hap, samples=samples).replace(
        "##fileformat=VCFv4.2\n", "##fileformat=VCFv4.2\n##contig=<ID=1,length=250000>\n"
    )
    vcf = write_vcf(tmp / "tiny.vcf", text)
    popfile = tmp / "pops.tsv"
    popfile.write_text(
        "sample\tpopulation\tsuperpopulation\n"
        + "".join(f"{s}\tP{p}\tG{p}\n" for s, p in zip(samples, pops, strict=True))
    )
    config = {
        "seed": 7,
        "runs_dir": "runs",  # relative: the run must not depend on the working directory
        "sections_dir": str(tmp / "sections"),
        "data": {"vcf": str(vcf), "populations": str(popfile), "min_maf": 0.0, "window_snps": 50},
        "model": {"latent_dim": 3, "hidden_units": [32, 16]},
        "training": {"jit_compile": False, "epochs": 3, "batch_size": 16, "patience": 2},
        "generation": {"privacy": "off"},  # a toy model: the gate is tested on its own
        "report": {"figures": False},  # a moved run's page: its numbers, figures or none
    }
    (tmp / "config.yaml").write_text(yaml.safe_dump(config))
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        args = ["train", "--config", "config.yaml", "--section", SECTION, "--run-name", "r"]
        assert main(args) == 0
    finally:
        os.chdir(cwd)
    original = tmp / "runs" / SECTION / "r"
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "copied-run"
    shutil.copytree(original, elsewhere)
    shutil.rmtree(tmp / "runs")
    vcf.rename(tmp / "gone.vcf")
    popfile.unlink()
    return {"run": elsewhere, "cwd": tmp_path_factory.mktemp("cwd"), "haplotypes": hap,
            "populations": pops}  # fmt: skip


@pytest.mark.slow
def test_moved_run_samples_encodes_and_reports(moved, monkeypatch):
    run = moved["run"]
    monkeypatch.chdir(moved["cwd"])
    sites = pd.read_csv(run / "sites.tsv", sep="\t")
    assert list(sites.columns) == ["contig", "position", "id", "ref", "alt", "contig_length"]
    assert (sites["position"] == np.arange(5100, 12001, 100)).all()
    assert (sites["contig_length"] == 250000).all()

    assert main(["sample", str(run), "--n", "10", "--sampler", "gmm", "--out", "s.vcf.gz"]) == 0
    reader = VCF("s.vcf.gz")
    header = reader.raw_header
    assert "##contig=<ID=1,length=250000>" in header
    assert "##source=vae-genomics " in header and f"sample {run} --n 10" in header
    assert len(reader.samples) == 5
    records = list(pysam.TabixFile("s.vcf.gz").fetch("1", 5999, 7000))  # the index beside it
    assert [int(r.split("\t")[1]) for r in records] == list(range(6000, 7001, 100))

    assert main(["encode", str(run), "--out", "latent.tsv"]) == 0
    latent = pd.read_csv("latent.tsv", sep="\t")
    assert len(latent) == 80 and set(latent["split"]) == {"train", "validation"}
    assert set(latent["population"]) == {"P0", "P1"}

    assert main(["report", str(run)]) == 0
    assert (run / "report" / "index.html").is_file()


@pytest.mark.slow
def test_sample_to_stdout(moved, capsys):
    capsys.readouterr()
    assert main(["sample", str(moved["run"]), "--n", "4", "--out", "-", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "##fileformat=VCFv4.2" and "vcf:" not in out
    records = [line for line in lines if not line.startswith("#")]
    assert len(records) == 70 and all(len(r.split("\t")) == 11 for r in records)


@pytest.mark.slow
def test_api_matches_cli(moved, monkeypatch):
    run_dir = moved["run"]
    monkeypatch.chdir(moved["cwd"])
    run = vae_genomics.load_run(run_dir)
    assert run.haplotypes.shape == (80, 70) and run.latent_dim == 3
    assert run.sites["position"].tolist() == list(range(5100, 12001, 100))
    assert run.metrics["section"]["name"] == SECTION

    means, sds = run.encode(run.haplotypes)
    assert main(["encode", str(run_dir), "--out", "api.tsv"]) == 0
    table = pd.read_csv("api.tsv", sep="\t")
    np.testing.assert_allclose(means, table[["mean_1", "mean_2", "mean_3"]], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sds, table[["sd_1", "sd_2", "sd_3"]], rtol=1e-5, atol=1e-6)

    probabilities = run.decode(means)
    assert probabilities.shape == (80, 70) and ((probabilities > 0) & (probabilities < 1)).all()

    for sampler in ("prior", "gmm"):
        drawn = run.sample(6, sampler=sampler, seed=11)
        out = f"{sampler}.vcf.gz"
        args = ["sample", str(run_dir), "--n", "6", "--sampler", sampler, "--seed", "11"]
        assert main([*args, "--out", out]) == 0
        gt = np.stack([v.genotype.array()[:, :2] for v in VCF(out)], axis=1)  # (samples, sites, 2)
        from_vcf = gt.transpose(0, 2, 1).reshape(6, 70)  # rows 2i, 2i+1 = sample i
        np.testing.assert_array_equal(drawn, from_vcf)
    # the stored mixture is the one the evaluation fitted: refitting it gives the same parameters
    from vae_genomics.evaluation.summary import fit_aggregate_gmm

    loaded = run._run
    refit = fit_aggregate_gmm(
        run.model, run.haplotypes[run.train_rows], run.config.evaluation, seed=run.config.seed
    )
    np.testing.assert_allclose(loaded.gmm.means_, refit.means_, rtol=1e-6)
    np.testing.assert_allclose(loaded.gmm.covariances_, refit.covariances_, rtol=1e-6)
    with pytest.raises(ValueError, match=r"shape \(n, 70\)"):
        run.encode(np.zeros((2, 5)))
    for n in (None, 0, 2.5, True):  # refused before any privacy check or draw
        with pytest.raises(DataError, match=rf"n: expected a positive whole number .* {n!r}"):
            run.sample(n, privacy="off")
    with pytest.raises(DataError, match="--sampler: generator 'agg/ld'"):
        run.sample(4, sampler="agg/ld", privacy="off")
    with pytest.raises(DataError, match=r"path x\.vcf: .* must end in \.vcf\.gz or \.vcf\.bgz"):
        run.write_vcf("x.vcf", run.haplotypes[:2])
    assert not Path("x.vcf").exists()


@pytest.mark.slow
def test_import_registers_model_for_keras(moved):
    """`import vae_genomics` is light, yet keras.models.load_model knows the model class."""
    code = (
        "import sys, vae_genomics\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
        "import keras\n"
        f"model = keras.models.load_model({str(moved['run'] / 'model.keras')!r})\n"
        "print(type(model).__name__, model.latent_dim)\n"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["HaplotypeVAE", "3"]


@pytest.mark.slow
def test_run_without_stored_data_falls_back_to_the_vcf(moved, tmp_path):
    """A run written before the data was stored re-reads the configured VCF (here: gone)."""
    old = tmp_path / "old-run"
    shutil.copytree(moved["run"], old)
    (old / "haplotypes.npz").unlink()
    assert main(["encode", str(old), "--out", str(tmp_path / "x.tsv")]) == 2
    assert not (tmp_path / "x.tsv").exists()
