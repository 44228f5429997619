"""Bad input, damaged files and misuse: one clear line and exit 2, never a traceback."""

from __future__ import annotations

import errno
import logging
import os
import shutil
from pathlib import Path

import keras
import pytest
import yaml
from vcf_factory import structured_haplotypes, vcf_text, write_vcf

from vae_genomics import cli
from vae_genomics.common.errors import ConfigError
from vae_genomics.common.yamlio import MAX_ALIASES, load_yaml
from vae_genomics.config import read_yaml
from vae_genomics.run.directory import CHECKPOINT_DIR, CHECKPOINT_FILE

SECTION = "1_100-5000"


def _clean(caplog, *words: str) -> None:
    """The error was a clear one: it names each of ``words``, no catch-all, no traceback."""
    assert "unexpectedly" not in caplog.text and "Traceback" not in caplog.text, caplog.text
    for word in words:
        assert word in caplog.text, (word, caplog.text)


# --- the command line's catch-all -------------------------------------------------------------


def test_an_unexpected_exception_is_one_line_and_the_traceback_only_with_v(monkeypatch, caplog):
    import vae_genomics.data as data

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero somewhere deep")

    monkeypatch.setattr(data, "list_sections", broken)
    assert cli.main(["sections", "--vcf", "x.vcf"]) == 2
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None
    line = errors[0].getMessage()
    assert "\n" not in line and line.startswith("sections failed unexpectedly")
    assert "ZeroDivisionError: division by zero somewhere deep" in line and "-v" in line
    assert not any(r.exc_info for r in caplog.records)
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    assert cli.main(["-v", "sections", "--vcf", "x.vcf"]) == 2
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)


@pytest.mark.parametrize("kind", ["MemoryError", "ResourceExhaustedError"])
def test_running_out_of_memory_says_so_and_what_to_lower(monkeypatch, caplog, kind):
    """Python's MemoryError and TensorFlow's OOM (matched by name: no TensorFlow import here)."""
    import vae_genomics.data as data

    error = MemoryError if kind == "MemoryError" else type(kind, (RuntimeError,), {})

    def exhausted(*args, **kwargs):
        raise error("OOM when allocating tensor with shape[1000,100000000]")

    monkeypatch.setattr(data, "list_sections", exhausted)
    assert cli.main(["sections", "--vcf", "x.vcf"]) == 2
    assert f"sections ran out of memory ({kind}: OOM when allocating tensor" in caplog.text
    assert "a smaller training.batch_size or model.hidden_units" in caplog.text
    assert "failed unexpectedly" not in caplog.text


@pytest.mark.parametrize(
    ("code", "advice"),
    [(errno.ENOSPC, "free some space"), (errno.EACCES, "permissions"), (errno.EROFS, "read-only")],
)
def test_operating_system_errors_name_the_file_and_what_to_do(monkeypatch, caplog, code, advice):
    import vae_genomics.data as data

    def failing(*args, **kwargs):
        raise OSError(code, os.strerror(code), "some/where.tsv")

    monkeypatch.setattr(data, "list_sections", failing)
    assert cli.main(["sections", "--vcf", "x.vcf"]) == 2
    _clean(caplog, "sections: some/where.tsv", os.strerror(code), advice)


def test_error_messages_are_bounded(monkeypatch, caplog):
    import vae_genomics.data as data
    from vae_genomics.common.errors import DataError

    def flood(*args, **kwargs):
        raise DataError("x" * 10_000_000)

    monkeypatch.setattr(data, "list_sections", flood)
    assert cli.main(["sections", "--vcf", "x.vcf"]) == 2
    assert len(caplog.text) < 5000 and "more characters" in caplog.text


# --- configuration files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("training:\n  epochs: true\n", "'training.epochs': Value error, expected a number"),
        ("objective:\n  kl_weight: .inf\n", "finite number"),
        ("objective:\n  kl_weight: .nan\n", "finite number"),
        ("seed: 1\nseed: 2\n", "the key 'seed' appears twice"),
        ("training:\n  epochs: 3\n  epochs: 4\n", "the key 'epochs' appears twice"),
    ],
)
def test_config_values_a_careful_user_would_not_mean_are_refused(tmp_path, text, expected):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"c\.yaml") as info:
        from vae_genomics.config import load_config

        load_config(path)
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_alias_expansion_is_refused_beyond_a_small_limit_and_messages_stay_short(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefg", "bcdefgh", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\nseed: *h\n")
    assert path.stat().st_size < 600
    with pytest.raises(ConfigError, match=f"more than {MAX_ALIASES} aliases") as info:
        read_yaml(path)
    assert len(str(info.value)) < 1000
    # a few aliases in a wrongly typed key: the message prints a bounded value
    few = tmp_path / "few.yaml"
    few.write_text(
        "model:\n  hidden_units: &h [" + ", ".join(["1"] * 400) + "]\n"
        "training:\n  epochs: [*h, *h, *h, *h, *h, *h, *h, *h]\n"
    )
    from vae_genomics.config import load_config

    with pytest.raises(ConfigError, match=r"training\.epochs") as info:
        load_config(few)
    assert len(str(info.value)) < 1000 and "more characters" in str(info.value)
    assert load_yaml("a: &x 1\nb: *x\n") == {"a": 1, "b": 1}  # ordinary aliases still work


def test_config_paths_that_are_not_readable_yaml_files(tmp_path, monkeypatch):
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        read_yaml(tmp_path / "dir.yaml")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "gone.yaml")
    with pytest.raises(ConfigError, match="dangling link"):
        read_yaml(tmp_path / "link.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"seed: 1\n# caf\xe9\n")
    with pytest.raises(ConfigError, match="byte 13 is not UTF-8"):
        read_yaml(latin)
    # unreadable (permissions; simulated, as tests may run as root)
    ok = tmp_path / "ok.yaml"
    ok.write_text("seed: 1\n")

    def denied(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(ConfigError, match="cannot be read \\(Permission denied\\)"):
        read_yaml(ok)


# --- data files ---------------------------------------------------------------------------------


@pytest.fixture
def vcf(tmp_path) -> Path:
    hap, _ = structured_haplotypes(n_samples=10, n_variants=40)
    return write_vcf(tmp_path / "x.vcf", vcf_text(hap))


def test_vcf_paths_say_what_is_wrong(tmp_path, vcf, caplog):
    (tmp_path / "d").mkdir()
    assert cli.main(["sections", "--vcf", str(tmp_path / "d")]) == 2
    _clean(caplog, "is a directory, not a VCF/BCF file")
    (tmp_path / "l.vcf").symlink_to(tmp_path / "gone.vcf")
    assert cli.main(["sections", "--vcf", str(tmp_path / "l.vcf")]) == 2
    _clean(caplog, "dangling link")
    assert cli.main(["sections", "--vcf", str(vcf), "--out", str(tmp_path / "d")]) == 2
    _clean(caplog, "is a directory")


@pytest.mark.parametrize("option", ["--samples", "--bed"])
def test_sample_and_bed_files_that_cannot_be_read(tmp_path, vcf, caplog, option):
    what = {"--samples": "sample list", "--bed": "BED file"}[option]
    (tmp_path / "d").mkdir()
    assert cli.main(["sections", "--vcf", str(vcf), option, str(tmp_path / "d")]) == 2
    _clean(caplog, f"is a directory, not a {what}")
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"S000\n" + b"1\t0\t100\tcaf\xe9\n")
    caplog.clear()
    assert cli.main(["sections", "--vcf", str(vcf), option, str(latin)]) == 2
    _clean(caplog, "latin.txt: line 2 holds bytes that are not UTF-8", what)


def test_a_file_given_as_the_cache_directory(vcf, caplog):
    assert cli.main(["sections", "--vcf", str(vcf), "--cache", str(vcf)]) == 2
    _clean(caplog, "a file, not a cache directory")


def test_non_utf8_bytes_in_a_record_name_the_line(tmp_path, vcf, caplog):
    lines = vcf.read_bytes().split(b"\n")
    row = next(i for i, line in enumerate(lines) if line.startswith(b"1\t"))
    lines[row] = b"chr\xe91" + lines[row][1:]
    bad = tmp_path / "latin.vcf"
    bad.write_bytes(b"\n".join(lines))
    assert cli.main(["sections", "--vcf", str(bad)]) == 2
    _clean(caplog, "latin.vcf: line", "not UTF-8")


def test_sections_with_nothing_surviving_the_filters_is_an_error(vcf, caplog, capsys):
    assert cli.main(["sections", "--vcf", str(vcf), "--min-mac", "1000"]) == 2
    _clean(caplog, "no variant survives the filters", "below_min_mac 40", "min_mac")
    assert capsys.readouterr().out == ""


def _config(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "c.yaml"
    config = {
        "runs_dir": str(tmp_path / "runs"),
        "data": {"min_maf": 0.0, "window_snps": 40, "populations": None, **data},
        "model": {"latent_dim": 2, "hidden_units": [8]},
        "training": {"jit_compile": False, "epochs": 1, "batch_size": 8},
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"", "population file is empty"), (b"sample\tpopulation\nS000\tcaf\xe9\n", "not UTF-8")],
)
def test_population_files_that_cannot_be_read(tmp_path, vcf, caplog, content, expected):
    pops = tmp_path / "pops.tsv"
    pops.write_bytes(content)
    config = _config(tmp_path, {"vcf": str(vcf), "populations": str(pops)})
    assert cli.main(["train", "--config", str(config)]) == 2
    _clean(caplog, "pops.tsv", expected)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("n_samples", "advice"),
    [(1, "a larger validation fraction cannot help"), (10, "raise training.validation_fraction")],
)
def test_cohorts_too_small_for_the_evaluation_are_refused_before_training(
    tmp_path, caplog, n_samples, advice
):
    hap, _ = structured_haplotypes(n_samples=n_samples, n_variants=40)
    small = write_vcf(tmp_path / "small.vcf", vcf_text(hap))
    config = _config(tmp_path, {"vcf": str(small)})
    assert cli.main(["train", "--config", str(config)]) == 2
    _clean(caplog, "Nothing was trained", advice, "evaluation.prdc_k")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.keras"))


# --- options ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["train", "--seed", "-1"], "from 0 to 2**32 - 1"),
        (["train", "--seed", "1.5"], "expected an integer"),
        (["train", "--kl-weight", "inf"], "finite"),
        (["sweep", "--betas", "0.1,nan"], "finite"),
        (["sweep", "--betas", ","], "at least one number"),
        (["sections", "--min-maf", "nan"], "finite"),
    ],
)
def test_options_out_of_range_are_usage_errors(capsys, argv, expected):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2 and expected in capsys.readouterr().err


@pytest.mark.parametrize("name", ["../escape", "/tmp/abs", "a/b", ".hidden", "latest", ""])
def test_sweep_names_stay_inside_the_section(tmp_path, vcf, caplog, name):
    config = _config(tmp_path, {"vcf": str(vcf)})
    assert cli.main(["sweep", "--config", str(config), "--betas", "1", "--name", name]) == 2
    _clean(caplog, "invalid sweep name")
    assert not (tmp_path / "escape").exists() and not (tmp_path / "runs").exists()


# --- damaged runs -------------------------------------------------------------------------------


@pytest.fixture
def run(tiny_config) -> Path:
    assert cli.main(["train", "--config", str(tiny_config), "--section", SECTION,
                     "--run-name", "r", "--epochs", "1"]) == 0  # fmt: skip
    return tiny_config.parent / "runs" / SECTION / "r"


def _foreign_model(path: Path) -> None:
    path.unlink()
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(path)


DAMAGE = {
    "metrics.json": lambda p: p.write_text("{oops"),
    "split.json": lambda p: p.write_text("[1, 2]"),
    "config.yaml": lambda p: p.write_text("seed: 1\n"),
    "model.keras": lambda p: p.write_bytes(p.read_bytes()[:3000]),
    "history.csv": lambda p: p.write_bytes(b"\xff\xfe"),
    "haplotypes.npz": lambda p: p.write_bytes(b"junk"),
}


@pytest.mark.slow
def test_damaged_run_files_are_named_with_what_to_do(run, caplog):
    for name, damage in {**DAMAGE, "foreign model.keras": _foreign_model}.items():
        copy = run.with_name(name.replace(" ", "-"))
        shutil.copytree(run, copy)
        target = copy / name.split()[-1]
        damage(target)
        caplog.clear()
        assert cli.main(["report", str(copy)]) == 2, name
        _clean(caplog, str(target), "damaged or not written by vae-genomics", "train the section")
    # encode and sample load the model the same way
    caplog.clear()
    out = run.parent / "e.tsv"
    assert cli.main(["encode", str(run.with_name("model.keras")), "--out", str(out)]) == 2
    _clean(caplog, "model.keras: damaged")
    assert cli.main(["sample", str(run), "--n", "2", "--out", str(run.parent)]) == 2
    _clean(caplog, "is a directory")


@pytest.mark.slow
def test_a_dangling_latest_link_and_a_damaged_checkpoint(run, tiny_config, caplog):
    section = run.parent
    other = section.with_name("other")
    other.mkdir()
    (other / "latest").symlink_to("gone")
    assert cli.main(["report", str(other)]) == 2
    _clean(caplog, "latest: a dangling link (to gone")
    staging = section / ".c.partial" / CHECKPOINT_DIR
    staging.mkdir(parents=True)
    (staging / CHECKPOINT_FILE).write_bytes(b"junk")
    base = ["train", "--config", str(tiny_config), "--section", SECTION, "--run-name", "c"]
    assert cli.main([*base, "--resume"]) == 2
    _clean(caplog, "the checkpoint is damaged", "--overwrite")
    assert cli.main([*base, "--overwrite", "--epochs", "1"]) == 0  # the fresh start works


@pytest.mark.slow
def test_encode_names_a_haploid_call_as_such(run, tiny_cohort, caplog):
    lines = tiny_cohort["vcf"].read_text().split("\n")
    row = next(i for i, line in enumerate(lines) if line.startswith("1\t"))
    fields = lines[row].split("\t")
    fields[9] = "1"
    lines[row] = "\t".join(fields)
    haploid = run.parent / "haploid.vcf"
    haploid.write_text("\n".join(lines))
    out = run.parent / "h.tsv"
    assert cli.main(["encode", str(run), "--vcf", str(haploid), "--out", str(out)]) == 2
    _clean(caplog, "haploid call", "S000")
    assert "truncated" not in caplog.text
