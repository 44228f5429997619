"""``train --sections``: several sections in one job, reports drawn alongside, failures isolated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vae_genomics.cli import main
from vae_genomics.commands import train_sections as batch
from vae_genomics.train.fit import prepare

SECTIONS = ["1_100-5000", "1_5100-12000"]


def _metrics(runs, section, name):
    return json.loads((runs / section / name / "metrics.json").read_text())


@pytest.mark.slow
def test_sections_in_one_job_match_one_job_each(tiny_config, tmp_path, capsys):
    runs = tmp_path / "runs"
    argv = ["train", "--config", str(tiny_config), "--epochs", "2"]
    figures = ["--set", "report.figures=true"]
    assert main([*argv, *figures, "--sections", ",".join(SECTIONS), "--run-name", "batch"]) == 0
    out = capsys.readouterr().out
    for section in SECTIONS:
        run = runs / section / "batch"
        assert f"run:    {run}" in out
        assert (run / "report" / "index.html").is_file() and (run / "model.keras").is_file()
        assert len(list((run / "report").glob("*.png"))) >= 6
        assert not (runs / section / ".batch.partial").exists()
        assert not (runs / section / ".batch.lock").exists()
        assert (runs / section / "latest").resolve() == run.resolve()
    assert main([*argv, "--section", SECTIONS[1], "--run-name", "single"]) == 0
    # the same seed trains the same model whichever way the job is cut (figures or none)
    batched, single = _metrics(runs, SECTIONS[1], "batch"), _metrics(runs, SECTIONS[1], "single")
    assert batched["heldout"] == single["heldout"]
    assert batched["evaluation"]["headline"] == single["evaluation"]["headline"]
    page = (runs / SECTIONS[1] / "batch" / "report" / "index.html").read_text()
    assert "--sections" in page  # the command in the report's header


@pytest.mark.slow
def test_a_failed_section_does_not_stop_the_others(tiny_config, tmp_path, capsys, caplog):
    caplog.set_level("WARNING", logger="tensorflow")
    runs = tmp_path / "runs"
    argv = ["train", "--config", str(tiny_config), "--epochs", "1", "--run-name", "r"]
    assert main([*argv, "--sections", f"nosuch,{SECTIONS[0]}"]) == 2
    assert (runs / SECTIONS[0] / "r" / "metrics.json").is_file()
    assert "1 of 2 sections failed" in caplog.text and "unknown section 'nosuch'" in caplog.text
    first = (runs / SECTIONS[0] / "r" / "metrics.json").stat().st_mtime_ns
    # again: the finished run is refused (never replaced by accident) but the other section trains
    caplog.clear()
    assert main([*argv, "--sections", ",".join(SECTIONS)]) == 2
    assert "a finished run with this name exists" in caplog.text
    assert "retracing" not in caplog.text  # a new model per section: expected, not logged
    assert (runs / SECTIONS[1] / "r" / "metrics.json").is_file()
    # --skip-existing leaves both alone and succeeds
    capsys.readouterr()
    assert main([*argv, "--sections", ",".join(SECTIONS), "--skip-existing"]) == 0
    assert (runs / SECTIONS[0] / "r" / "metrics.json").stat().st_mtime_ns == first
    assert capsys.readouterr().out.count("kept:") == 2


def test_batch_options_are_checked_before_training(tiny_config, caplog, capsys):
    base = ["train", "--config", str(tiny_config)]
    assert main([*base, "--skip-existing"]) == 2
    assert "--skip-existing goes with --sections" in caplog.text
    assert main([*base, "--sections", f"{SECTIONS[0]},{SECTIONS[0]}"]) == 2
    assert "names a section twice" in caplog.text
    with pytest.raises(SystemExit):
        main([*base, "--section", SECTIONS[0], "--sections", SECTIONS[1]])
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.slow
def test_a_report_that_fails_discards_only_its_section(tiny_config, tmp_path, monkeypatch):
    drawn = []

    def draw(arguments):
        drawn.append(arguments["title"])
        if SECTIONS[0] in arguments["title"]:
            raise RuntimeError("disk full while drawing")
        return original(arguments)

    original = batch.draw_report
    monkeypatch.setattr(batch, "draw_report", draw)
    result = batch.train_sections(
        SECTIONS, lambda name: prepare(tiny_config, name, {"training": {"epochs": 1}}), "r",
        background=False,
    )  # fmt: skip
    runs = tmp_path / "runs"
    assert list(result.failed) == [SECTIONS[0]] and "disk full" in result.failed[SECTIONS[0]]
    assert list(result.trained) == [SECTIONS[1]] and len(drawn) == 2
    assert not (runs / SECTIONS[0] / "r").exists()
    assert not (runs / SECTIONS[0] / ".r.lock").exists()  # its lock is released
    partial = runs / SECTIONS[0] / ".r.partial"
    # what training left is kept for --resume when it holds a checkpoint, else removed
    assert not partial.exists() or (partial / "checkpoint").is_dir()
    assert (runs / SECTIONS[1] / "r" / "report" / "index.html").is_file()


@pytest.mark.slow
def test_an_interrupted_batch_stops_the_drawing_process_and_keeps_nothing_half_done(
    tiny_config, tmp_path, monkeypatch
):
    from concurrent.futures import Future

    calls = []

    class Drawing:  # a drawing process still busy with the first report when Ctrl-C comes
        def submit(self, fn, *args):
            calls.append("submit")
            return Future()

        def stop(self):
            calls.append("stop")

        def shutdown(self, wait=True, cancel_futures=False):
            calls.append("shutdown")

    def interrupted(name):
        if name == SECTIONS[1]:
            raise KeyboardInterrupt
        return prepare(tiny_config, name, {"training": {"epochs": 1}})

    monkeypatch.setattr(batch, "_drawing_pool", Drawing)
    with pytest.raises(KeyboardInterrupt):
        batch.train_sections(SECTIONS, interrupted, "r")
    assert calls == ["submit", "stop", "shutdown"]
    section = tmp_path / "runs" / SECTIONS[0]
    assert not (section / "r").exists() and not (section / ".r.lock").exists()


def test_a_report_lost_with_the_drawing_process_is_drawn_once_more(monkeypatch, caplog):
    """A report whose drawing process died (killed, or dead before the report reached it) is
    handed to a new process once; lost twice, only its section fails, and its staged run is
    discarded."""
    import contextlib
    import dataclasses
    import types
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from vae_genomics.commands import train_section

    lost = {"A": 2, "B": 1}  # how many times each section's report is lost
    submitted, discarded = [], []

    class Drawing:
        def submit(self, fn, arguments):
            submitted.append(arguments["title"])
            future = Future()
            if submitted.count(arguments["title"]) <= lost[arguments["title"]]:
                future.set_exception(BrokenProcessPool("a process terminated abruptly"))
            else:
                future.set_result(Path("report"))
            return future

    @contextlib.contextmanager
    def discard_on_error(name):
        try:
            yield
        except BaseException:
            discarded.append(name)
            raise

    @dataclasses.dataclass
    class Evaluation:
        gmm: object = None

    def staged(name):
        staging = types.SimpleNamespace(discard_on_error=lambda: discard_on_error(name))
        report = {"title": name, "evaluation": Evaluation()}
        return types.SimpleNamespace(section=name, staging=staging, report=report)

    monkeypatch.setattr(
        train_section, "finish_section", lambda s: types.SimpleNamespace(run_dir=s.section)
    )
    pool, result = Drawing(), batch.BatchResult()
    pending = [batch._Pending(staged(n), batch._submit_report(staged(n), pool), 0.0) for n in "AB"]
    batch._settle(pending, result, block=True, pool=pool)
    assert submitted == ["A", "B", "A", "B"]  # each redrawn once: A lost again, B drawn
    assert result.trained == {"B": "B"} and result.failed == {"A": batch.DIED}
    assert discarded == ["A"] and pending == []
    assert caplog.text.count("was lost with the drawing process; drawing it again") == 2
