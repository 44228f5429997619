"""Command-line conveniences: `--set key=value`, every config problem at once before TensorFlow is
imported, TensorFlow's start-up notices filtered, `--help` examples that parse, `make help`."""

import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vae_genomics.cli import main
from vae_genomics.cli.help import EXAMPLES
from vae_genomics.cli.parser import build_parser
from vae_genomics.commands.options import parse_settings
from vae_genomics.common.errors import ConfigError
from vae_genomics.common.logs import rate_and_eta

ROOT = Path(__file__).resolve().parents[1]


def test_set_parses_dotted_keys_with_yaml_values():
    got = parse_settings(["training.learning_rate=0.0003", "model.hidden_units=[128, 64]",
                          "data.populations=null", "seed=3", "objective.reencode.weight=0.1"])  # fmt: skip
    assert got == {
        "training": {"learning_rate": 3e-4}, "model": {"hidden_units": [128, 64]},
        "data": {"populations": None}, "seed": 3, "objective": {"reencode": {"weight": 0.1}},
    }  # fmt: skip
    for bad in ("training.epochs", "=3", "training..epochs=3", "model.hidden_units=[1,"):
        with pytest.raises(ConfigError, match="--set"):
            parse_settings([bad])


def test_set_is_validated_like_the_config_file(tiny_config, caplog, capsys):
    args = ["sections", "--config", str(tiny_config), "--set", "data.window_snps=30", "--names"]
    assert main(args) == 0
    assert len(capsys.readouterr().out.split()) == 4  # 120 SNPs in windows of 30
    bad = ["train", "--config", str(tiny_config), "--set", "training.epocs=3",
           "--set", "model.latent_dim=-2"]  # fmt: skip
    assert main(bad) == 2
    assert (
        "command line: unknown key 'training.epocs'. Did you mean 'training.epochs'?" in caplog.text
    )


def test_config_problems_all_reported_before_tensorflow_loads(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("training: {epochs: many}\nobjective: {kl_weight: heavy}\n")
    code = textwrap.dedent(f"""
        import sys
        from vae_genomics.cli import main
        rc = main(["train", "--config", {str(config)!r}])
        print(rc, "tensorflow" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert done.stdout.split() == ["2", "False"], done.stderr[-2000:]
    assert "2 problems" in done.stderr
    assert "'training.epochs'" in done.stderr and "'objective.kl_weight'" in done.stderr


def test_tensorflow_start_up_notices_are_filtered_and_the_rest_kept(tmp_path):
    fake = (
        tmp_path / "noisy_module.py"
    )  # stands in for an import that writes to the process's stderr
    fake.write_text(
        "import os\n"
        "os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called are '\n"
        "            b'written to STDERR\\n')\n"
        "os.write(2, b'I0000 port.cc:153] oneDNN custom operations are on.\\n')\n"
        "os.write(2, b'a real warning\\n')\n"
    )
    code = (
        "from vae_genomics.common.logs import import_tensorflow_quietly\n"
        "import_tensorflow_quietly(module='noisy_module')"
    )
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "a real warning\n"


def test_rate_and_eta():
    assert rate_and_eta(10, 50, 20.0, "epoch") == "2 s/epoch, ETA 1 min 20 s"
    assert rate_and_eta(4, 4, 1.0, "epoch") == "4 epochs/s"
    assert rate_and_eta(0, 4, 1.0, "epoch") == ""


def test_every_help_example_parses():
    parser = build_parser()
    for command, lines in EXAMPLES.items():
        for line in lines:
            words = shlex.split(line.split("#")[0].split("|")[0])
            assert words[0] == "vae-genomics" and words[1] == command
            args = parser.parse_args(words[1:])
            assert args.command == command
            for word in words:  # sections and files named exist in the bundled example
                if word.startswith("22_"):
                    for name in word.split("/")[0].split(","):  # --sections A,B
                        assert name in _bundled_sections(), word
                if word.startswith(("configs/", "data/")):
                    assert (ROOT / word).exists(), word


def _bundled_sections() -> set[str]:
    return {"22_392-487449", "22_487463-942704", "22_942787-1397441", "22_1397488-1837369",
            "22_1837499-2276173", "22_2276471-2725605", "22_2726560-2998790"}  # fmt: skip


def test_make_help_prints_the_usage_lines_only():
    make = subprocess.run(["make", "-s", "-C", str(ROOT), "help"], capture_output=True, text=True)
    if make.returncode == 127:
        pytest.skip("make is not installed")
    lines = make.stdout.splitlines()
    assert lines and all(line.startswith("make ") for line in lines)


@pytest.mark.parametrize("threads", [1, 3])
def test_threads_bound_tensorflow_and_the_evaluation_libraries(threads):
    code = textwrap.dedent(f"""
        import numpy
        from vae_genomics.commands.options import config_overrides, start_tensorflow
        from vae_genomics.cli.parser import build_parser
        from vae_genomics.config import load_config
        args = build_parser().parse_args(["train", "--threads", "{threads}"])
        config = load_config(None, overrides=config_overrides(args))
        start_tensorflow(args, config.runtime.threads)
        import sklearn.neighbors, tensorflow as tf, threadpoolctl  # sklearn after: its OpenMP too
        pools = sorted({{p["num_threads"] for p in threadpoolctl.threadpool_info()}})
        print(config.runtime.threads, tf.config.threading.get_intra_op_parallelism_threads(),
              tf.config.threading.get_inter_op_parallelism_threads(), *pools)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [str(threads), str(threads), "1", str(threads)]
    cores = len(os.sched_getaffinity(0))
    assert (f"runtime.threads {threads} is more than the {cores} core(s)" in done.stderr) == (
        threads > cores
    )


def test_a_thread_count_beyond_any_machine_is_refused_before_anything_starts(caplog):
    """--threads 100000 once started 100,000 threads per library: 19.7 GB and no answer to
    SIGTERM. It is refused when the configuration is read."""
    assert main(["train", "--threads", "100000"]) == 2
    assert (
        "invalid value 100000 for key 'runtime.threads': Input should be less than or equal "
        in (caplog.text)
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["cache", "x.vcf.gz", "--out", "x.vcz", "--chunk-variants", "0"],
        ["sweep", "--jobs", "-2"],
        ["sample", "--runs", "runs", "--n", "4", "--neighbours", "0"],
        ["sample", "--runs", "runs", "--n", "4", "--components", "-1"],
    ],
)
def test_counts_below_one_are_refused_by_the_parser(argv, capsys):
    """A chunk of no variants failed as 'cache failed unexpectedly: ZeroDivisionError'."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert "expected a whole number of at least 1, got" in capsys.readouterr().err
