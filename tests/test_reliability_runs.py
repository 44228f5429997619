"""Runs are never lost or mixed: kept checkpoints, run-name locks, protected outputs, atomic reports."""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from vae_genomics import cli
from vae_genomics.common.errors import RunError
from vae_genomics.run.directory import CHECKPOINT_DIR, CHECKPOINT_FILE, stage_run
from vae_genomics.run.locks import acquire_lock, read_lock, release_lock

SECTION = "1_100-5000"


def _train(config: Path, *extra: str) -> int:
    return cli.main(["train", "--config", str(config), "--section", SECTION, *extra])


# --- locks -----------------------------------------------------------------------------------


def test_a_lock_held_by_a_live_job_is_refused_and_a_stale_one_taken_over(tmp_path, caplog):
    lock = tmp_path / ".r.lock"
    acquire_lock(lock, "run r")
    assert read_lock(lock)["pid"] == os.getpid()
    with pytest.raises(RunError, match="already locked by this process"):
        acquire_lock(lock, "run r")
    release_lock(lock)
    assert not lock.exists()
    # another live process of this host (our parent) holds it: refused, naming pid and host
    host = socket.gethostname()
    lock.write_text(json.dumps({"pid": os.getppid(), "host": host, "started": "t"}))
    with pytest.raises(RunError, match=f"another job \\(pid {os.getppid()} on {host}"):
        acquire_lock(lock, "run r")
    release_lock(lock)  # not ours: left alone
    assert read_lock(lock)["pid"] == os.getppid()
    # a job of another host cannot be checked: refused, with the file to delete
    lock.write_text(json.dumps({"pid": 1, "host": "elsewhere.example", "started": "t"}))
    with pytest.raises(RunError, match="delete this lock file"):
        acquire_lock(lock, "run r")
    # a killed job of this host: its pid no longer runs, the lock is taken over
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    lock.write_text(json.dumps({"pid": gone.pid, "host": host, "started": "t"}))
    acquire_lock(lock, "run r")
    assert read_lock(lock)["pid"] == os.getpid() and "stale lock" in caplog.text
    release_lock(lock)


def test_a_stale_lock_replaced_meanwhile_by_a_live_job_is_put_back(tmp_path):
    from vae_genomics.run.locks import _remove_stale

    lock = tmp_path / ".r.lock"
    stale = {"pid": 999_999_999, "host": socket.gethostname(), "started": "t"}
    live = {"pid": os.getppid(), "host": socket.gethostname(), "started": "u"}
    lock.write_text(json.dumps(live))  # another job took over between our read and our removal
    with pytest.raises(RunError, match="being written by another job"):
        _remove_stale(lock, stale, "run r")
    assert read_lock(lock) == live and [p.name for p in tmp_path.iterdir()] == [".r.lock"]
    lock.write_text(json.dumps(stale))
    _remove_stale(lock, stale, "run r")
    assert not lock.exists() and not list(tmp_path.iterdir())


def test_stage_run_refuses_a_run_name_another_job_is_writing(tmp_path):
    parent = tmp_path / "runs" / "sec"
    first = stage_run(parent, "r", overwrite=False)
    marker = first.staging / "written-by-first"
    marker.write_text("x")
    first.release()
    # simulate the first job still running in another process of this host
    first.lock.write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))
    for flags in ({}, {"overwrite": True}, {"resume": True}):
        with pytest.raises(RunError, match="being written by another job"):
            stage_run(parent, "r", **{"overwrite": False, **flags})
    assert marker.is_file(), "a refused job must not touch the other job's staging directory"


@pytest.mark.slow
def test_two_trainings_of_one_run_name_one_refuses_and_the_run_is_consistent(tiny_config):
    """Train in a subprocess; while it holds the lock, a second training of the name refuses."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [sys.executable, "-m", "vae_genomics.cli", "train", "--config", str(tiny_config),
           "--section", SECTION, "--run-name", "r", "--epochs", "40", "--seed", "7"]  # fmt: skip
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    section = tiny_config.parent / "runs" / SECTION
    lock = section / ".r.lock"
    try:
        deadline = time.monotonic() + 120
        while not lock.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lock.exists(), "the first training never took the lock"
        assert read_lock(lock)["pid"] == first.pid
        # the second job: another seed, same run name, even with --overwrite
        assert _train(tiny_config, "--run-name", "r", "--seed", "8", "--overwrite") == 2
        assert lock.exists() and read_lock(lock)["pid"] == first.pid
    finally:
        _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err.decode()[-2000:]
    run = section / "r"
    config = yaml.safe_load((run / "config.yaml").read_text())
    split = json.loads((run / "split.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    assert config["seed"] == split["seed"] == 7  # every artifact from the one job that ran
    assert config["training"]["epochs"] == 40 and metrics["epochs_run"] <= 40
    assert "run r" in (run / "report" / "index.html").read_text()
    assert not lock.exists() and not (section / ".r.partial").exists()


# --- checkpoints are kept on any error --------------------------------------------------------


@pytest.mark.slow
def test_an_error_after_training_keeps_the_checkpoint_and_resume_finishes(
    tiny_config, monkeypatch, caplog
):
    import vae_genomics.commands.train_section as section_run

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "report/index.html")

    monkeypatch.setattr(section_run, "write_section_report", full_disk)
    assert _train(tiny_config, "--run-name", "r") == 2
    assert "No space left on device" in caplog.text and "free some space" in caplog.text
    section = tiny_config.parent / "runs" / SECTION
    checkpoint = section / ".r.partial" / CHECKPOINT_DIR / CHECKPOINT_FILE
    assert checkpoint.is_file() and not (section / "r").exists()
    assert not (section / ".r.lock").exists()
    monkeypatch.undo()
    # neither flag: refused, the checkpoint stays
    assert _train(tiny_config, "--run-name", "r") == 2
    assert "Pass --resume" in caplog.text and checkpoint.is_file()
    # an evaluation/report-only setting changed: the resume is not blocked
    config = yaml.safe_load(tiny_config.read_text())
    config["evaluation"] = {"elbo_samples": 2}
    config["report"] = {"dpi": 60}
    tiny_config.write_text(yaml.safe_dump(config))
    caplog.clear()
    caplog.set_level(logging.INFO)
    assert _train(tiny_config, "--run-name", "r", "--resume") == 0
    assert "resuming after epoch 3 of 3" in caplog.text
    run = section / "r"
    assert yaml.safe_load((run / "config.yaml").read_text())["evaluation"]["elbo_samples"] == 2
    assert not checkpoint.parent.exists() and not (section / ".r.partial").exists()


# --- outputs of finished runs -----------------------------------------------------------------


@pytest.fixture
def trained(tiny_config) -> Path:
    assert _train(tiny_config, "--run-name", "r", "--epochs", "1") == 0
    return tiny_config.parent / "runs" / SECTION / "r"


@pytest.mark.slow
def test_sample_and_encode_never_overwrite_an_output_or_an_input(trained, tiny_cohort, caplog):
    vcf = tiny_cohort["vcf"]
    before = vcf.read_bytes()
    # the run's training VCF, whatever the flags
    for command in (["sample", str(trained), "--n", "4"], ["encode", str(trained)]):
        for extra in ([], ["--overwrite"]):
            assert cli.main([*command, "--out", str(vcf), *extra]) == 2
            assert "input of this command" in caplog.text
    # a file inside the run directory
    assert cli.main(["encode", str(trained), "--out", str(trained / "latent.tsv")]) == 2
    assert vcf.read_bytes() == before
    # encode --vcf X --out X
    assert cli.main(["encode", str(trained), "--vcf", str(vcf), "--out", str(vcf)]) == 2
    # a directory
    caplog.clear()
    assert cli.main(["sample", str(trained), "--n", "4", "--out", str(trained.parent)]) == 2
    assert "is a directory" in caplog.text
    # an existing output: refused without --overwrite, replaced with it
    out = trained.parent.parent / "latent.tsv"
    out.write_text("precious")
    caplog.clear()
    assert cli.main(["encode", str(trained), "--out", str(out)]) == 2
    assert "Pass --overwrite" in caplog.text and out.read_text() == "precious"
    assert cli.main(["encode", str(trained), "--out", str(out), "--overwrite"]) == 0
    assert out.read_text().startswith("haplotype")
    sample = trained.parent.parent / "s.vcf.gz"
    assert cli.main(["sample", str(trained), "--n", "4", "--out", str(sample)]) == 0
    mtime = sample.stat().st_mtime_ns
    assert cli.main(["sample", str(trained), "--n", "4", "--out", str(sample)]) == 2
    assert sample.stat().st_mtime_ns == mtime
    # evaluate --out: never the VCF it scores nor the run's VCF; an existing one needs --overwrite
    evaluate = ["evaluate", str(trained), "--synthetic", str(sample), "--out"]
    for target in (sample, vcf):
        assert cli.main([*evaluate, str(target), "--overwrite"]) == 2
    assert sample.stat().st_mtime_ns == mtime and vcf.read_bytes() == before
    assert cli.main([*evaluate, str(out)]) == 2 and "Pass --overwrite" in caplog.text


@pytest.mark.slow
def test_report_replaces_metrics_and_report_together_or_not_at_all(trained, monkeypatch, caplog):
    import vae_genomics.report.build as build

    metrics = (trained / "metrics.json").read_bytes()
    page = (trained / "report" / "index.html").read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "report/pca_overlay.png")

    monkeypatch.setattr(build, "write_section_report", full_disk)
    assert cli.main(["report", str(trained)]) == 2
    assert "No space left on device" in caplog.text and "free some space" in caplog.text
    assert "Traceback" not in caplog.text
    assert (trained / "metrics.json").read_bytes() == metrics  # the old set, untouched
    assert (trained / "report" / "index.html").read_bytes() == page
    assert not [p.name for p in trained.iterdir() if p.name.startswith(".")]
    monkeypatch.undo()
    assert cli.main(["report", str(trained)]) == 0
    assert (trained / "report" / "index.html").read_bytes() != page  # a new page, new header
    assert not [p.name for p in trained.iterdir() if p.name.startswith(".")]


def test_sections_out_never_writes_over_an_input(tmp_path, caplog):
    from vcf_factory import structured_haplotypes, vcf_text, write_vcf

    hap, _ = structured_haplotypes(n_samples=6, n_variants=30)
    vcf = write_vcf(tmp_path / "x.vcf", vcf_text(hap))
    before = vcf.read_bytes()
    assert cli.main(["sections", "--vcf", str(vcf), "--out", str(vcf)]) == 2
    assert "input of this command" in caplog.text and vcf.read_bytes() == before
    table = tmp_path / "sections.tsv"
    table.write_text("old")
    assert cli.main(["sections", "--vcf", str(vcf), "--out", str(table)]) == 0
    assert table.read_text().startswith("name\tcontig")  # a table of its own is regenerated


def _fake_run(runs: Path, section: str, model: bytes | None) -> Path:
    """A run directory that looks finished, with ``model`` as its model.keras bytes."""
    run = runs / section / "default"
    run.mkdir(parents=True)
    for name in ("metrics.json", "split.json"):
        (run / name).write_text("{}")
    (run / "config.yaml").write_text("seed: 0\n")
    if model is not None:
        (run / "model.keras").write_bytes(model)
    return run


def _zip_bytes(tmp_path: Path) -> bytes:
    import zipfile

    path = tmp_path / "complete.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", '{"class_name": "HaplotypeVAE"}' * 50)
        archive.writestr("model.weights.h5", bytes(range(256)) * 40)
    return path.read_bytes()


def test_skip_existing_keeps_complete_runs_and_retrains_damaged_models(
    tmp_path, monkeypatch, caplog
):
    from types import SimpleNamespace

    import vae_genomics.commands.train_section as section_run
    from vae_genomics.commands.train_sections import train_sections
    from vae_genomics.run.directory import model_file_problem

    complete = _zip_bytes(tmp_path)
    crc = bytearray(complete)
    crc[complete.index(b"HaplotypeVAE") + 3] ^= 0xFF  # a stored member's byte flipped
    runs = tmp_path / "runs"
    models = {
        "ok": complete,
        "cut": complete[: len(complete) // 2],  # a copy cut short: no central directory
        "empty": b"",
        "crc": bytes(crc),
        "gone": None,
    }
    for section, data in models.items():
        _fake_run(runs, section, data)
    assert model_file_problem(runs / "ok" / "default" / "model.keras") is None
    assert "not a complete zip archive" in model_file_problem(runs / "cut/default/model.keras")
    assert "damaged member, config.json" in model_file_problem(runs / "crc/default/model.keras")
    staged = {}

    def stage_section(config, data, target):
        staged[data] = target.overwrite
        raise RunError("not trained in this test")

    monkeypatch.setattr(section_run, "stage_section", stage_section)
    prepare = lambda name: (SimpleNamespace(runs_dir=runs), name)  # noqa: E731
    result = train_sections(list(models), prepare, "default", resume=True, skip_existing=True,
                            background=False)  # fmt: skip
    assert list(result.skipped) == ["ok"]
    # the damaged ones are trained again, replacing the run (overwrite), the others untouched
    assert staged == {"cut": True, "empty": True, "crc": True, "gone": True}
    for section in ("cut", "crc", "empty"):
        assert f"{runs / section / 'default' / 'model.keras'} " in caplog.text
    assert "is not a complete zip archive (it may have been cut short), so the run is not " in (
        caplog.text
    )
    assert "model.keras is missing, so the run is not finished" in caplog.text


def _main_in_a_fresh_process(ways: list[list[str]], cwd: Path | None = None):
    """``cli.main(w)`` for each argument list in one new Python process: the exit codes, whether
    TensorFlow was imported by the end, and what was logged."""
    code = (
        "import json, sys\n"
        "from vae_genomics import cli\n"
        "rcs = [cli.main(w) for w in json.loads(sys.argv[1])]\n"
        "print(json.dumps([rcs, 'tensorflow' in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, json.dumps(ways)], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    rcs, tensorflow = json.loads(done.stdout.strip().splitlines()[-1])
    return rcs, tensorflow, done.stderr


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> dict:
    """Two tiny sections trained once for the tests below that only read them."""
    from run_factory import train_tiny_sections

    return train_tiny_sections(tmp_path_factory.mktemp("shared"))


@pytest.mark.slow
def test_every_way_of_sampling_refuses_an_existing_out_before_tensorflow_starts(shared, tmp_path):
    """An existing --out without --overwrite is named at once (after the options' and the size's
    checks, before TensorFlow's start and the draw), in the same words for one run, populations,
    a region, admixed haplotypes, encode and evaluate."""
    trained = shared["run"]
    out = tmp_path / "s.vcf.gz"
    out.write_text("precious")
    ways = [
        ["sample", str(trained), "--n", "4"],
        ["sample", str(trained), "--populations", "P0:4"],
        ["sample", "--runs", "runs", "--sections", SECTION, "--n", "4"],
        ["sample", "--runs", "runs", "--sections", SECTION, "--populations", "P0:4"],
        ["sample", "--runs", "runs", "--sections", SECTION, "--admixed", "P0:0.5,P1:0.5",
         "--n", "4"],
        ["encode", str(trained)],
        ["evaluate", str(trained), "--synthetic", str(shared["vcf"])],
    ]  # fmt: skip
    ways = [[*w, "--out", str(out)] for w in ways]
    rcs, tensorflow, stderr = _main_in_a_fresh_process(ways, cwd=shared["tmp"])
    assert rcs == [2] * len(ways) and not tensorflow, stderr
    assert stderr.count(f"{out}: exists. Pass --overwrite to replace it") == len(ways)
    assert out.read_text() == "precious"


@pytest.mark.slow
def test_a_bad_name_sampler_or_population_is_refused_before_tensorflow_starts(shared, tmp_path):
    """An --out that is not a .vcf.gz, a misspelt --sampler, populations asked of runs trained
    without them: each named at once, in words that say what to give, nothing written (unknown
    names and odd counts: tests/test_sample_populations.py)."""
    trained = str(shared["run"])
    region = ["sample", "--runs", "runs", "--sections", SECTION]
    out = str(tmp_path / "s.vcf.gz")
    ways = [
        ["sample", trained, "--n", "4", "--out", str(tmp_path / "s.vcf")],
        ["sample", trained, "--n", "4", "--sampler", "aggregat:1.5/ld", "--out", out],
        ["sample", trained, "--n", "4", "--sampler", "aggregate:1.5/ld:16:0", "--out", out],
        # these runs were trained without a populations table
        ["sample", trained, "--populations", "P0:4", "--out", out],
        [*region, "--populations", "P0:4", "--out", out],
        [*region, "--admixed", "P0:0.5,P1:0.5", "--n", "4", "--out", out],
    ]
    rcs, tensorflow, stderr = _main_in_a_fresh_process(ways, cwd=shared["tmp"])
    assert rcs == [2] * len(ways) and not tensorflow, stderr
    assert f"--out {tmp_path / 's.vcf'}: " in stderr and f"(e.g. {tmp_path / 's.vcf.gz'})" in stderr
    assert "--sampler: generator 'aggregat:1.5/ld': unknown code source 'aggregat:1.5'" in stderr
    assert "--sampler: generator 'aggregate:1.5/ld:16:0'" in stderr
    no_labels = "this run has no populations (data.populations was not set when it was trained)"
    assert stderr.count(f"{no_labels}, so --populations has nothing to choose from") == 2
    assert f"{no_labels}, so --admixed has nothing to choose from" in stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_a_missing_input_file_is_named_with_its_option_before_tensorflow_starts(shared, tmp_path):
    """train's, sweep's and cache's VCF and train's populations table, evaluate's --synthetic and
    --populations, encode's --vcf: a file that is not there (or a sweep's negative KL weight) is
    said at once, with the option or key that named it and, for a relative path, the working
    directory it was looked for from."""
    config = tmp_path / "elsewhere.yaml"
    config.write_text("data:\n  vcf: data/cohort.vcf.gz\n")
    labelled = tmp_path / "labelled.yaml"
    labelled.write_text(f"data:\n  vcf: {shared['vcf']}\n  populations: pops.tsv\n")
    trained = str(shared["run"])
    ways = [
        ["train", "--config", str(config)],
        ["train", "--config", str(labelled)],
        ["train", "--config", str(labelled), "--set", "data.sections=bed"],
        ["sweep", "--config", str(config)],
        ["sweep", "--config", str(config), "--betas", "0.1,-1"],
        ["evaluate", trained, "--synthetic", "gone.vcf.gz"],
        ["evaluate", trained, "--synthetic", str(shared["vcf"]), "--populations", "gone.tsv"],
        ["encode", trained, "--vcf", "gone.vcf.gz", "--out", str(tmp_path / "latent.tsv")],
        ["cache", "gone.vcf.gz", "--out", str(tmp_path / "gone.vcz")],
    ]
    rcs, tensorflow, stderr = _main_in_a_fresh_process(ways, cwd=tmp_path)
    assert rcs == [2] * len(ways) and not tensorflow, stderr
    where = f"(a relative path, looked for from the working directory {tmp_path})"
    assert stderr.count(f"data/cohort.vcf.gz: VCF/BCF file not found {where}. Check data.vcf") == 2
    assert "KL weights must be >= 0, got [0.1, -1.0]" in stderr
    assert f"pops.tsv: population file not found {where}. Fix data.populations" in stderr
    assert "data.sections is 'bed' but data.bed is not set; give a BED file." in stderr
    assert f"--synthetic gone.vcf.gz: VCF/BCF file not found {where}" in stderr
    assert f"--populations gone.tsv: populations table not found {where}" in stderr
    assert f"--vcf gone.vcf.gz: VCF/BCF file not found {where}" in stderr
    assert f"cache gone.vcf.gz: VCF/BCF file not found {where}" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.yaml", "labelled.yaml"]


def test_encode_to_standard_output_writes_the_table_there_and_no_file(
    shared, tmp_path, monkeypatch, capsys
):
    """--out - wrote a file named '-' (sample and evaluate take - as standard output)."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["encode", str(shared["run"]), "--out", "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("haplotype\tsample\tpopulation\tsplit\tmean_1")
    assert len(lines) == 1 + 80 and not any(line.startswith("latent:") for line in lines)
    assert not list(tmp_path.iterdir())


def test_a_path_that_is_not_a_run_is_named_before_tensorflow_starts(tmp_path):
    """report, evaluate, encode and sample read a run: a path that is not one is said at once."""
    ways = [
        ["report", "nope"],
        ["evaluate", "nope", "--synthetic", "s.vcf.gz"],
        ["encode", "nope", "--out", "latent.tsv"],
        ["sample", "nope", "--n", "4", "--out", "s.vcf.gz"],
    ]
    rcs, tensorflow, stderr = _main_in_a_fresh_process(ways, cwd=tmp_path)
    assert rcs == [2] * len(ways) and not tensorflow, stderr
    assert stderr.count("nope: not a finished run directory (missing config.yaml") == len(ways)
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_sigterm_while_a_sample_is_written_leaves_nothing_behind(
    shared, tmp_path, monkeypatch, caplog
):
    """SIGTERM (a cancelled job) halfway through writing the VCF: exit 130, no VCF, no index,
    no partial file, and SIGTERM's handler as it was before."""
    import signal

    import vae_genomics.data.bgzf as bgzf

    real = bgzf.write_bgzf

    def killed(chunks, path, threads=1):
        def then_term():
            for i, chunk in enumerate(chunks):
                if i == 1:
                    os.kill(os.getpid(), signal.SIGTERM)  # raised at the next bytecode
                yield chunk

        return real(then_term(), path, threads=threads)

    monkeypatch.setattr(bgzf, "write_bgzf", killed)
    before = signal.getsignal(signal.SIGTERM)
    out = tmp_path / "s.vcf.gz"
    assert cli.main(["sample", str(shared["run"]), "--n", "40", "--out", str(out)]) == 130
    assert "interrupted; no finished artifact was replaced" in caplog.text
    assert not list(tmp_path.iterdir())
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.slow
def test_a_run_name_taken_is_refused_before_tensorflow_starts(shared):
    trained, config = shared["run"], shared["tmp"] / "config.yaml"
    train = ["train", "--config", str(config), "--run-name", "r", "--section", SECTION]
    rcs, tensorflow, stderr = _main_in_a_fresh_process([train, [*train, "--resume"]])
    assert rcs == [2, 2] and not tensorflow, stderr
    assert stderr.count(f"{trained}: a finished run with this name exists") == 2
