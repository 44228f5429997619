"""Writes a command was not asked to make: exclusive final renames, per-output region pages, no
symbolic link followed out of a run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from run_factory import SECTIONS, train_tiny_sections

from vae_genomics import cli
from vae_genomics.common.errors import RunError, WrittenMeanwhileError
from vae_genomics.common.io import atomic_write_text, write_json
from vae_genomics.data.export import write_haplotype_vcf


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """The tiny cohort's two sections, each trained for one epoch (shared by this module)."""
    return train_tiny_sections(tmp_path_factory.mktemp("outputs"))


# --- the final rename is the existence check ---------------------------------------------------


def test_an_exclusive_write_keeps_what_appeared_meanwhile_and_never_follows_a_link(tmp_path):
    out = tmp_path / "out.json"
    write_json(out, {"a": 1}, overwrite=False)
    with pytest.raises(RunError, match=r"exists \(written meanwhile"):
        write_json(out, {"a": 2}, overwrite=False)
    assert json.loads(out.read_text()) == {"a": 1}
    # a dangling link is something there too; a link is replaced, never written through
    outside = tmp_path / "elsewhere.json"
    link = tmp_path / "link.json"
    link.symlink_to(outside)
    with pytest.raises(RunError):
        write_json(link, {"a": 3}, overwrite=False)
    assert link.is_symlink() and not outside.exists()
    write_json(link, {"a": 4}, overwrite=True)
    assert not link.is_symlink() and not outside.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "out.json"]  # no temp left


def test_a_replace_replaces_only_what_was_read(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("read")
    atomic_write_text(out, "new", replaces=b"read")
    assert out.read_text() == "new"
    with pytest.raises(WrittenMeanwhileError, match=r"out.txt: changed while this command ran"):
        atomic_write_text(out, "newer", replaces=b"read")  # another job replaced it meanwhile
    assert out.read_text() == "new"
    out.unlink()
    with pytest.raises(WrittenMeanwhileError, match="changed while"):  # removed meanwhile
        atomic_write_text(out, "newer", replaces=b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_vcf_that_appeared_meanwhile_is_kept(tmp_path):
    out = tmp_path / "s.vcf.gz"
    out.write_bytes(b"another job's VCF")
    hap = np.zeros((4, 3), dtype=np.int8)
    with pytest.raises(RunError, match="exists"):
        write_haplotype_vcf(out, hap, "1", np.array([1, 2, 3]), ["A"] * 3, ["C"] * 3,
                            overwrite=False)  # fmt: skip
    assert out.read_bytes() == b"another job's VCF"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.vcf.gz"]


def _scores() -> dict:
    """What ``evaluate_external`` returns, reduced to the numbers ``evaluate --out`` prints."""
    modeseek = {"prdc_pca": {"coverage": 0.9}, "prdc_hamming": {"coverage": 0.9}}
    modeseek["ld"] = {"pearson_r": 0.9}
    sfs = {"rare": {"copies": list(range(1, 11)), "total_relative_error": None}}
    realism = {"privacy_loss": 0.0, "distance_attack_auc": 0.5, "sfs": sfs}
    return {
        "verdict": {"verdict": "ok", "tripped_by": None},
        "modeseek": {"set": modeseek, "ceiling": modeseek},
        "realism": {"set": realism, "ceiling": realism},
    }


def test_two_evaluate_runs_to_one_out_never_both_succeed(runs, monkeypatch, caplog):
    from vae_genomics.commands import evaluate

    out = runs["tmp"] / "scores.json"

    def other_job_finishes_first(run_dir, synthetic, populations=None):  # passed the first check
        out.write_text('{"theirs": true}')
        return _scores()

    monkeypatch.setattr(evaluate, "evaluate_external", other_job_finishes_first)
    args = ["evaluate", str(runs["run"]), "--synthetic", str(runs["vcf"]), "--out", str(out)]
    assert cli.main(args) == 2
    assert "written meanwhile" in caplog.text and json.loads(out.read_text()) == {"theirs": True}
    out.unlink()
    monkeypatch.setattr(evaluate, "evaluate_external", lambda *a: other_job_finishes_first(*a))
    assert cli.main([*args, "--overwrite"]) == 0
    assert json.loads(out.read_text())["verdict"]["verdict"] == "ok"


def test_two_encode_runs_to_one_out_never_both_succeed(runs, monkeypatch, caplog):
    """The latent TSV's existence is checked again at the final rename."""
    from vae_genomics.data import latent_tsv

    out = runs["tmp"] / "codes.tsv"
    real = latent_tsv.write_latent_tsv

    def other_job_finishes_first(path, *args, **kwargs):  # passed the first check
        out.write_text("theirs\n")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(latent_tsv, "write_latent_tsv", other_job_finishes_first)
    assert cli.main(["encode", str(runs["run"]), "--out", str(out)]) == 2
    assert "written meanwhile" in caplog.text and out.read_text() == "theirs\n"
    assert cli.main(["encode", str(runs["run"]), "--out", str(out), "--overwrite"]) == 0
    assert out.read_text().startswith("haplotype\t")


# --- a region's page and numbers are named after its output --------------------------------------


@pytest.mark.slow
def test_a_region_outside_its_default_place_writes_pages_named_after_its_vcf(runs, caplog):
    root = runs["runs"]
    index = root / "index.html"
    index.write_text("the runs index")
    sample = ["sample", "--runs", str(root), "--sections", ",".join(SECTIONS), "--n", "4"]
    assert cli.main([*sample, "--out", str(root / "x.vcf.gz")]) == 0
    assert index.read_text() == "the runs index"
    first = json.loads((root / "x.json").read_text())
    assert first["sampling"]["vcf"] == "x.vcf.gz" and (root / "x.html").is_file()
    # a second region into the same directory keeps the first one's evaluation
    assert cli.main([*sample, "--seed", "3", "--out", str(root / "y.vcf.gz")]) == 0
    assert json.loads((root / "x.json").read_text()) == first
    assert json.loads((root / "y.json").read_text())["sampling"]["vcf"] == "y.vcf.gz"
    # an output whose page would replace an existing file is refused before anything is written
    caplog.clear()
    assert cli.main([*sample, "--out", str(root / "index.vcf.gz")]) == 2
    assert "index.html: exists" in caplog.text and index.read_text() == "the runs index"
    assert not (root / "index.vcf.gz").exists()
    # the default place keeps region.json and index.html, which the runs index links
    assert cli.main([*sample, "--no-report"]) == 0
    assert not list((root / "regions").glob("*/index.html"))
    index.unlink()


# --- the runs index: replaced (it is derived), atomically, never through or over a link -----------


def test_the_runs_index_refuses_a_link_at_its_place(tmp_path, caplog):
    runs = tmp_path / "runs"
    runs.mkdir()
    outside = tmp_path / "elsewhere.html"
    outside.write_text("not ours")
    (runs / "index.html").symlink_to(outside)
    assert cli.main(["report", "--index", str(runs)]) == 2
    assert f"{runs / 'index.html'}: a symbolic link (to {outside})" in caplog.text
    assert "Remove the link" in caplog.text
    assert (runs / "index.html").is_symlink() and outside.read_text() == "not ours"
    assert sorted(p.name for p in runs.iterdir()) == ["index.html"]  # no temporary file left
    # an ordinary file is replaced: the page is derived from the runs
    (runs / "index.html").unlink()
    (runs / "index.html").write_text("an older index")
    assert cli.main(["report", "--index", str(runs)]) == 0
    assert (runs / "index.html").read_text().startswith("<!DOCTYPE html>")


def test_a_link_planted_at_the_runs_index_while_it_is_drawn_is_refused(
    tmp_path, monkeypatch, caplog
):
    """The link is checked at the final rename, not only before the page is drawn."""
    from vae_genomics.report import index

    runs = tmp_path / "runs"
    runs.mkdir()
    outside = tmp_path / "elsewhere.html"
    outside.write_text("not ours")
    real = index.render_index

    def planted_meanwhile(*args, **kwargs):
        (runs / "index.html").symlink_to(outside)
        return real(*args, **kwargs)

    monkeypatch.setattr(index, "render_index", planted_meanwhile)
    assert cli.main(["report", "--index", str(runs)]) == 2
    assert "index.html: a symbolic link" in caplog.text
    assert (runs / "index.html").is_symlink() and outside.read_text() == "not ours"
    assert sorted(p.name for p in runs.iterdir()) == ["index.html"]


# --- report never follows a link out of the run ---------------------------------------------------


def test_report_refuses_a_symlinked_staging_directory(runs, caplog):
    run = runs["run"]
    outside = runs["tmp"] / "outside"
    (outside / "report").mkdir(parents=True)
    (outside / "report" / "index.html").write_text("planted")
    (outside / "metrics.json").write_text("{}")
    staging = run / ".report.partial"
    staging.symlink_to(outside, target_is_directory=True)
    before = (run / "metrics.json").read_text()
    try:
        assert cli.main(["report", str(run)]) == 2
    finally:
        staging.unlink()
    assert ".report.partial: a symbolic link" in caplog.text
    assert (run / "metrics.json").read_text() == before
    assert (outside / "report" / "index.html").read_text() == "planted"
    assert "planted" not in (run / "report" / "index.html").read_text()
