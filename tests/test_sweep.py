"""KL-weight sweep: the recommendation rule, the config write-back, and resumption."""

import pandas as pd
import pytest
import yaml

from vae_genomics.commands.sweep import (
    SweepPoint,
    grid,
    is_finished,
    recommend,
    write_recommendation,
)
from vae_genomics.common.errors import ConfigError
from vae_genomics.config import load_config


def _table(rows):
    columns = ["point", "beta", "neg_elbo", "active_units", "verdict_reconstruction",
               "verdict_generated", "diverged"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def test_recommendation_skips_a_collapsed_best_elbo_point():
    table = _table(
        [
            ["beta-0.03", 0.03, 131.0, 8, "ok", "ok", False],
            ["beta-0.3", 0.3, 118.0, 8, "ok", "ok", False],
            ["beta-1", 1.0, 117.5, 7, "ok", "mode-seeking", False],
            ["beta-3", 3.0, 116.0, 3, "ok", "ok", False],
            ["beta-10", 10.0, 115.0, 0, "collapsed", "collapsed", False],  # best ELBO, collapsed
            ["beta-30", 30.0, 90.0, 8, "ok", "ok", True],  # diverged
        ]
    )
    best, reasons = recommend(table, min_active_units=4)
    assert table.loc[best, "point"] == "beta-0.3"
    assert reasons["beta-0.3"].startswith("recommended")
    assert reasons["beta-10"] == "collapsed: 0 active units < 4"
    assert reasons["beta-3"] == "collapsed: 3 active units < 4"
    assert reasons["beta-1"] == "generated samples are mode-seeking"
    assert reasons["beta-30"] == "training diverged"
    assert reasons["beta-0.03"] == "eligible, but held-out -ELBO 131.00 > 118.00"


def test_recommendation_ties_go_to_the_larger_beta_and_none_when_nothing_passes():
    table = _table(
        [["a", 0.1, 100.0, 5, "ok", "ok", False], ["b", 1.0, 100.0, 5, "ok", "ok", False]]
    )
    best, _ = recommend(table)
    assert table.loc[best, "point"] == "b"
    failing = _table([["a", 0.1, 100.0, 0, "collapsed", "ok", False]])
    assert recommend(failing) == (None, {"a": "collapsed: 0 active units < 2"})


def test_grid_and_point_configs():
    points = grid([0.1, 1.0], [0.0, 0.5])
    assert [p.name for p in points] == [
        "beta-0.1_reencode-0",
        "beta-0.1_reencode-0.5",
        "beta-1_reencode-0",
        "beta-1_reencode-0.5",
    ]
    config = points[1].apply(load_config(None))
    assert config.objective.kl_weight == 0.1 and config.objective.reencode.weight == 0.5
    assert [p.name for p in grid([3])] == ["beta-3"]
    with pytest.raises(ConfigError, match="at least one KL weight"):
        grid([])


def test_write_back_creates_replaces_refuses_and_merges(tmp_path):
    sections = tmp_path / "sections"
    sections.mkdir()
    config_file = tmp_path / "c.yaml"
    config_file.write_text(yaml.safe_dump({"sections_dir": str(sections)}))
    path = sections / "22_1-100.yaml"
    provenance = {"sweep": "runs/22_1-100/sweeps/sweep", "held-out -ELBO": 118.0}

    assert write_recommendation(path, 0.3, provenance) == "created"
    assert load_config(config_file, section="22_1-100").objective.kl_weight == 0.3
    assert "runs/22_1-100/sweeps/sweep" in path.read_text()
    # untouched since the sweep wrote it: replaced without asking
    assert write_recommendation(path, 1.0, provenance) == "replaced"
    assert load_config(config_file, section="22_1-100").objective.kl_weight == 1.0

    # the user edits it: refused, and the file is untouched
    edited = (
        path.read_text().replace("kl_weight: 1.0", "kl_weight: 2.0") + "training:\n  epochs: 7\n"
    )
    path.write_text(edited)
    with pytest.raises(ConfigError, match=r"has edits of its own.*--merge"):
        write_recommendation(path, 0.3, provenance)
    assert path.read_text() == edited
    # with merge: the user's other keys survive, kl_weight is set, a backup is kept
    assert write_recommendation(path, 0.3, provenance, merge=True) == "merged"
    merged = load_config(config_file, section="22_1-100")
    assert merged.objective.kl_weight == 0.3 and merged.training.epochs == 7
    assert (sections / "22_1-100.yaml.bak").read_text() == edited


def _meanwhile(monkeypatch, path, text):
    """Another job writes ``path`` after the recommendation read it and before it is published."""
    from vae_genomics.commands import sweep_recommend

    real = sweep_recommend.deep_merge

    def other_job_writes_first(*args):
        path.write_text(text)
        return real(*args)

    monkeypatch.setattr(sweep_recommend, "deep_merge", other_job_writes_first)


def test_two_recommendations_creating_one_file_never_both_succeed(tmp_path, monkeypatch):
    """The section's config is created exclusively at the final rename."""
    path = tmp_path / "22_1-100.yaml"
    _meanwhile(monkeypatch, path, "objective:\n  kl_weight: 3.0\n")
    with pytest.raises(ConfigError) as err:
        write_recommendation(path, 0.3, {})
    assert f"{path}: appeared while this sweep ran" in str(err.value)
    assert "objective.kl_weight = 0.3 was not written" in str(err.value)
    assert "Run the sweep again" in str(err.value)
    assert path.read_text() == "objective:\n  kl_weight: 3.0\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left


@pytest.mark.parametrize("merge", [False, True])
def test_a_recommendation_replaces_only_the_file_it_read(tmp_path, monkeypatch, merge):
    path = tmp_path / "22_1-100.yaml"
    write_recommendation(path, 0.3, {})
    if merge:  # a file with edits of its own: merged, keeping a copy of what was read
        path.write_text(path.read_text() + "training:\n  epochs: 7\n")
    read = path.read_text()
    theirs = read.replace("kl_weight: 0.3", "kl_weight: 3.0")  # another sweep, or an edit
    _meanwhile(monkeypatch, path, theirs)
    with pytest.raises(ConfigError, match=r"22_1-100.yaml: changed while this sweep ran"):
        write_recommendation(path, 1.0, {}, merge=merge)
    assert path.read_text() == theirs
    backup = [path.name + ".bak"] if merge else []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, *backup])
    if merge:
        assert (tmp_path / backup[0]).read_text() == read


def test_a_recommendation_never_writes_through_or_over_a_link(tmp_path):
    shared = tmp_path / "shared.yaml"
    shared.write_text("objective:\n  kl_weight: 2.0\n")
    path = tmp_path / "22_1-100.yaml"
    path.symlink_to(shared)
    for merge in (False, True):
        with pytest.raises(ConfigError, match=r"22_1-100.yaml: a symbolic link \(to .*shared"):
            write_recommendation(path, 0.3, {}, merge=merge)
    assert path.is_symlink() and shared.read_text() == "objective:\n  kl_weight: 2.0\n"


def test_the_sweep_summary_is_replaced_but_never_through_a_link(tmp_path):
    from vae_genomics.commands.sweep import save_results
    from vae_genomics.common.errors import RunError

    table = _table([["beta-1", 1.0, 100.0, 4, "ok", "ok", False]])
    summary = {"recommended": None, "reasons": {"beta-1": "why"}}
    save_results(table, summary, tmp_path)
    save_results(table, summary, tmp_path)  # derived from the points: replaced
    assert pd.read_csv(tmp_path / "results.csv")["reason"].tolist() == ["why"]
    outside = tmp_path / "outside.json"
    outside.write_text("not ours")
    (tmp_path / "recommendation.json").unlink()
    (tmp_path / "recommendation.json").symlink_to(outside)
    with pytest.raises(RunError, match=r"recommendation.json: a symbolic link \(to .*outside"):
        save_results(table, summary, tmp_path)
    assert outside.read_text() == "not ours"


def test_is_finished_compares_the_resolved_config(tmp_path):
    config = load_config(None)
    run = tmp_path / "beta-1"
    assert not is_finished(run, config)
    run.mkdir()
    (run / "metrics.json").write_text("{}")
    (run / "config.yaml").write_text(yaml.safe_dump({**config.to_dict(), "resolved": {"x": 1}}))
    assert is_finished(run, config)
    assert not is_finished(run, SweepPoint(0.5).apply(config))


@pytest.mark.slow
def test_sweep_end_to_end_resumes_and_writes_the_section_config(tiny_config, tmp_path, caplog):
    import logging

    from vae_genomics.cli import main

    caplog.set_level(logging.INFO)
    args = ["sweep", "--config", str(tiny_config), "--betas", "0.1,1", "--epochs", "2",
            "--min-active-units", "1"]  # fmt: skip
    assert main(args) == 0
    sweep = tmp_path / "runs" / "1_100-5000" / "sweeps" / "sweep"
    table = pd.read_csv(sweep / "results.csv")
    assert list(table["point"]) == ["beta-0.1", "beta-1"]
    assert {"rate", "distortion", "neg_elbo", "iw_nll", "active_units", "mi",
            "verdict_generated", "reason"} <= set(table.columns)  # fmt: skip
    assert (table["neg_elbo"] - table["rate"] - table["distortion"]).abs().max() < 1e-3
    assert (sweep / "rate_distortion.png").is_file()
    html = (sweep / "index.html").read_text()
    assert "data:image/png;base64," in html and "beta-0.1" in html
    # two epochs on 80 haplotypes do not make a usable model: every point fails a check, so
    # nothing is recommended and the section's config is not written
    recommendation = yaml.safe_load((sweep / "recommendation.json").read_text())
    assert recommendation["recommended"] is None
    assert all(not r.startswith("recommended") for r in recommendation["reasons"].values())
    assert not (tmp_path / "sections" / "1_100-5000.yaml").exists()
    assert "No point qualified" in html

    # resuming: both points are reused, nothing is retrained
    model = sweep / "beta-1" / "model.keras"
    stamp = model.stat().st_mtime_ns
    caplog.clear()
    assert main(args) == 0
    assert caplog.text.count("finished earlier, reused") == 2
    assert model.stat().st_mtime_ns == stamp
    # a changed configuration invalidates the points
    caplog.clear()
    assert main([*args[:-4], "--epochs", "1", *args[-2:]]) == 0
    assert caplog.text.count("configuration changed since it was trained, retraining") == 2
    assert model.stat().st_mtime_ns != stamp


def test_more_jobs_than_points_start_one_process_per_point_with_its_share_of_threads(
    tmp_path, monkeypatch
):
    """--jobs 8 for two points: two workers, each with half of runtime.threads (8 // 8 would
    leave each of them one thread and six cores idle)."""
    from concurrent.futures import Future

    from vae_genomics.commands import sweep

    started = {}

    class Inline:
        def __init__(self, workers, initializer, initargs):
            started.update(workers=workers, threads=initargs[0])

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, fn, *args):
            done = Future()
            done.set_result(args[3])
            return done

    monkeypatch.setattr(sweep, "spawn_pool", Inline)
    base = load_config(None, overrides={"runtime": {"threads": 8}})
    points = sweep.grid([0.1, 1.0])
    sweep.run_points(base, "s", points, tmp_path, jobs=8)
    assert started == {"workers": 2, "threads": 4}
