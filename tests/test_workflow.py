"""workflow/Snakefile: the job graph (snakemake -n) and a real local run over tiny sections."""

from __future__ import annotations

import math
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from vae_genomics.config import load_config
from vae_genomics.data import list_sections, write_cache

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "workflow" / "Snakefile"
PROFILES = ROOT / "workflow" / "profiles"
SNAKEMAKE = Path(sys.executable).with_name("snakemake")

pytestmark = pytest.mark.skipif(
    not SNAKEMAKE.exists() and shutil.which("snakemake") is None,
    reason="snakemake is not installed (pip install -e '.[workflow]')",
)


def _snakemake(cwd: Path, config: Path, *args: str, profile: str = "local", **options):
    exe = str(SNAKEMAKE) if SNAKEMAKE.exists() else "snakemake"
    pairs = [f"{k}={v}" for k, v in {"vae_config": config, **options}.items()]
    cmd = [exe, "-s", str(SNAKEFILE), "--profile", str(PROFILES / profile), *args,
           "--config", *pairs]  # fmt: skip
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _jobs(output: str) -> Counter:
    """Rule -> job count from the 'Job stats' table of a dry run."""
    table = output.split("Job stats:", 1)[1]
    return Counter(
        {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}
    )


def _example_config(tmp_path: Path) -> Path:
    raw = yaml.safe_load((ROOT / "configs" / "example.yaml").read_text())
    for key in ("vcf", "populations"):
        raw["data"][key] = str(ROOT / raw["data"][key])
    raw["runs_dir"] = str(tmp_path / "runs")
    raw["sections_dir"] = str(tmp_path / "sections")
    path = tmp_path / "example.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_dry_run_converts_first_then_lists_sections_from_the_cache(tmp_path):
    config = _example_config(tmp_path)
    data = load_config(config).data
    _, sections = list_sections(data, genotypes=False)
    cache = tmp_path / "runs" / ".cache" / "example.vcf.gz.vcz"
    # before the cache exists, only the conversion is planned (the cache job is a checkpoint)
    result = _snakemake(tmp_path, config, "-n")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert _jobs(out) == Counter(cache=1, all=1, total=2)
    assert f"cache --config {config} --out {cache}" in out
    assert not cache.exists() and not (tmp_path / "runs").exists()  # a dry run writes nothing
    # once converted, every section's job is planned from the cache, and every job reads it;
    # by default four sections per job, in genomic order
    write_cache(data.vcf, cache)
    result = _snakemake(tmp_path, config, "-n")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    n_batches = math.ceil(len(sections) / 4)
    assert _jobs(out) == Counter(train_batch=n_batches, index=1, all=1, total=n_batches + 2)
    train = [line for line in out.splitlines() if " train --config " in line]
    assert len(train) == n_batches
    listed = [re.search(r"--sections (\S+)", line).group(1).split(",") for line in train]
    assert sorted(name for names in listed for name in names) == sorted(s.name for s in sections)
    genomic = [s.name for s in sections]
    listed.sort(key=lambda names: genomic.index(names[0]))
    assert [name for names in listed for name in names] == genomic  # neighbours in genomic order
    assert all(len(names) <= 4 for names in listed)
    assert all("--resume --skip-existing" in line for line in train)
    assert all(f"--set data.cache={cache} --threads 1" in line for line in train)
    # one job per section
    result = _snakemake(tmp_path, config, "-n", sections_per_job=1)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert _jobs(out) == Counter(train=len(sections), index=1, all=1, total=len(sections) + 2)
    for section in sections:
        assert f"{tmp_path}/runs/{section.name}/default/metrics.json" in out
        assert f"section={section.name}" in out
    train = [line for line in out.splitlines() if " train --config " in line]
    assert len(train) == len(sections)
    assert all(f"--set data.cache={cache} --threads 1" in line for line in train)
    assert "--resume" in out and "--run-name default" in out
    assert f"report --index {tmp_path}/runs --config {config} --set data.cache={cache}" in out
    assert _snakemake(tmp_path, config, "-n", sections_per_job=0).returncode != 0
    # a subset, GPUs, threads, and the optional sweep before each training job
    one = sections[0].name
    result = _snakemake(
        tmp_path, config, "-n", sections=one, gpu=1, sweep=1, run_name="r1", threads=2
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert _jobs(out) == Counter(sweep=1, train_batch=1, index=1, all=1, total=4)
    assert "gpu=1" in out and f"--sections {one} --run-name r1" in out and "--threads 2" in out
    # an unknown section is named
    result = _snakemake(tmp_path, config, "-n", sections="nope")
    assert result.returncode != 0 and "sections not in" in result.stdout + result.stderr


def test_dry_run_uses_the_configured_cache(tmp_path):
    config = _example_config(tmp_path)
    raw = yaml.safe_load(config.read_text())
    raw["data"]["cache"] = str(tmp_path / "example.vcz")
    config.write_text(yaml.safe_dump(raw))
    result = _snakemake(tmp_path, config, "-n")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert _jobs(out) == Counter(cache=1, all=1, total=2)
    assert f"--out {tmp_path / 'example.vcz'}" in out
    # the workflow's own option wins over data.cache
    result = _snakemake(tmp_path, config, "-n", cache=tmp_path / "elsewhere.vcz")
    assert f"--out {tmp_path / 'elsewhere.vcz'}" in result.stdout + result.stderr


def test_a_missing_vcf_is_said_before_anything_is_planned(tmp_path):
    config = _example_config(tmp_path)
    raw = yaml.safe_load(config.read_text())
    raw["data"]["vcf"] = "data/moved.vcf.gz"
    config.write_text(yaml.safe_dump(raw))
    result = _snakemake(tmp_path, config, "-n")
    assert result.returncode != 0
    assert (
        f"data/moved.vcf.gz: VCF/BCF file not found (a relative path, looked for from the working "
        f"directory {tmp_path}). Check data.vcf" in result.stdout + result.stderr
    )
    assert "Job stats" not in result.stdout + result.stderr


def test_make_dry_run_installs_nothing(tmp_path):
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("")
    args = [make, "-n", "train-all", "GPU=1"]
    # no environment yet: the real run would build the GPU one; the dry run refuses instead
    built = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True).stdout
    assert "pip install" in built and ".venv-gpu" in built
    planned = subprocess.run([*args, "ARGS=-n"], cwd=tmp_path, capture_output=True, text=True)
    assert "pip install" not in planned.stdout and "make install" in planned.stdout
    # with the CPU environment present, the GPU dry run plans with it
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "snakemake").write_text("")
    planned = subprocess.run([*args, "ARGS=-n"], cwd=tmp_path, capture_output=True, text=True)
    assert "pip install" not in planned.stdout
    assert ".venv/bin/snakemake -s workflow/Snakefile" in planned.stdout
    assert re.search(r"gpu=1\s+-n", planned.stdout)


def test_dry_run_with_region_samples_the_sections_after_training_them(tmp_path):
    config = _example_config(tmp_path)
    data = load_config(config).data
    _, sections = list_sections(data, genotypes=False)
    names = ",".join(sorted(s.name for s in sections))
    write_cache(data.vcf, tmp_path / "runs" / ".cache" / "example.vcf.gz.vcz")  # sections planned
    result = _snakemake(tmp_path, config, "-n", region=1, region_n=40, sections_per_job=1)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert _jobs(out) == Counter(train=len(sections), region=1, index=1, all=1,
                                 total=len(sections) + 3)  # fmt: skip
    assert f"sample --runs {tmp_path}/runs --sections {names} --n 40" in out
    assert f"--out {tmp_path}/runs/regions/all/all.vcf.gz --overwrite" in out
    # the region job asks for memory by its cells (16 bytes each over the 2,000 MB base)
    cells = sum(600 * s.n_variants for s in sections)
    asked = re.search(r"rule region:.*?mem_mb=(\d+)", out, re.S)
    assert asked and int(asked.group(1)) == 2000 + math.ceil(16 * cells / 1e6), out[-3000:]
    # training jobs hold one core each (Snakemake prints threads above 1), the region step two
    jobs = [block.split("resources:")[0] for block in re.split(r"\n(?=rule \w+:)", out)]
    assert not [job for job in jobs if job.startswith("rule train:") and "threads:" in job]
    assert [job for job in jobs if job.startswith("rule region:") and "threads: 2" in job]
    result = _snakemake(tmp_path, config, "-n", region="1:1-600000")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert "--region 1:1-600000" in out and "runs/regions/1_1-600000/1_1-600000.vcf.gz" in out


def test_slurm_profile_dry_run(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    config = _example_config(tmp_path)
    write_cache(load_config(config).data.vcf, tmp_path / "example.vcz")
    result = _snakemake(tmp_path, config, "-n", profile="slurm", cache=tmp_path / "example.vcz")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert _jobs(result.stdout + result.stderr)["train_batch"] >= 2


@pytest.mark.slow
def test_local_run_trains_every_section_and_writes_the_index(tmp_path, tiny_config):
    raw = yaml.safe_load(tiny_config.read_text())
    raw["training"]["epochs"] = 2
    raw["evaluation"] = {"iw_samples": 5, "elbo_samples": 2, "traversal_dims": 2}
    tiny_config.write_text(yaml.safe_dump(raw))
    _, sections = list_sections(load_config(tiny_config).data, genotypes=False)
    assert len(sections) >= 2
    result = _snakemake(tmp_path, tiny_config, "--cores", "2", threads=1, sections_per_job=2)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    runs = Path(raw["runs_dir"])
    for section in sections:
        run = runs / section.name / "default"
        assert (run / "report" / "index.html").is_file()
        assert (run / "model.keras").is_file() and (run / "metrics.json").is_file()
        assert not (run / "checkpoint").exists()
        assert not (runs / section.name / ".default.partial").exists()
    markers = sorted((runs / ".batches" / "default").glob("batch*.done"))
    assert len(markers) == math.ceil(len(sections) / 2)
    listed = [line for marker in markers for line in marker.read_text().split()]
    assert sorted(listed) == sorted(s.name for s in sections)
    for marker in markers:
        assert (tmp_path / "logs" / "vae-genomics" / "train" / f"{marker.stem}.log").is_file()
        usage = tmp_path / "logs" / "vae-genomics" / "benchmarks" / "train" / f"{marker.stem}.tsv"
        assert "max_rss" in usage.read_text()  # wall seconds and peak memory of the job
    assert (runs / ".cache").is_dir()  # converted once, first
    index = (runs / "index.html").read_text()
    assert all(section.name in index for section in sections)
    again = _snakemake(tmp_path, tiny_config, "-n", sections_per_job=2)
    assert "Nothing to be done" in again.stdout + again.stderr


def _commands(output: str) -> list[str]:
    """The shell commands a dry run with ``-p`` prints (one line each)."""
    lines = [line.removeprefix("Shell command:").strip() for line in output.splitlines()]
    return [line for line in lines if " -m vae_genomics.cli " in line]


def test_values_with_shell_syntax_reach_commands_as_one_argument(tmp_path):
    runs = tmp_path / "my runs;touch PWNED;#"
    config = _example_config(tmp_path)
    raw = yaml.safe_load(config.read_text())
    raw["runs_dir"] = str(runs)
    config.write_text(yaml.safe_dump(raw))
    hostile = dict(run_name="r;touch PWNED2;#", extra="--epochs 5;touch PWNED3")
    result = _snakemake(tmp_path, config, "-n", "-p", **hostile)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    (cache_command,) = _commands(out)
    words = shlex.split(cache_command)
    assert words[words.index("--out") + 1] == f"{runs}/.cache/example.vcf.gz.vcz"
    # once the cache exists, every job is planned: train batches, the index and the region
    write_cache(load_config(config).data.vcf, runs / ".cache" / "example.vcf.gz.vcz")
    result = _snakemake(tmp_path, config, "-n", "-p", region="1;touch PWNED4", **hostile)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    commands = _commands(out)
    assert {shlex.split(c)[3] for c in commands} == {"train", "sample", "report"}
    for command in commands:
        words = shlex.split(command)
        if "--runs" in words or "--index" in words:
            flag = "--runs" if "--runs" in words else "--index"
            assert words[words.index(flag) + 1] == str(runs)
        if words[3] == "train":
            assert words[words.index("--run-name") + 1] == "r;touch PWNED2;#"
            assert words[words.index("--epochs") + 1] == "5;touch"  # split like a shell, not run
            assert words[words.index("--set") + 1] == f"data.cache={runs}/.cache/example.vcf.gz.vcz"
        if words[3] == "sample":
            assert words[words.index("--region") + 1] == "1;touch PWNED4"
        # run through bash with the program replaced by `printf`: nothing else is executed
        echoed = subprocess.run(
            ["bash", "-c", "printf '%s\\n'" + command.split(" -m vae_genomics.cli", 1)[1]
             .split(" > ", 1)[0]],
            cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        assert echoed.stdout.splitlines() == words[3 : words.index(">")]
    assert not list(tmp_path.rglob("PWNED*"))
