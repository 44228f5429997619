"""Configuration: defaults, layering, and errors that name the key and the file."""

from pathlib import Path

import pytest
import yaml

from vae_genomics.common.errors import ConfigError
from vae_genomics.config import Config, load_config

ROOT = Path(__file__).resolve().parents[1]


def _write(path: Path, content: dict | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


def test_default_yaml_documents_exactly_the_built_in_defaults():
    documented = load_config(ROOT / "configs" / "default.yaml")
    assert documented == Config()
    # and every option is present in the file (it documents all of them)
    raw = yaml.safe_load((ROOT / "configs" / "default.yaml").read_text())

    def same_keys(documented: dict, defaults: dict, where: str) -> None:
        assert documented.keys() == defaults.keys(), where
        for key, value in defaults.items():
            if isinstance(value, dict):
                same_keys(documented[key], value, f"{where}.{key}")

    same_keys(raw, Config().to_dict(), "config")


def test_example_config_is_valid():
    config = load_config(ROOT / "configs" / "example.yaml")
    assert config.data.vcf == Path("data/example/example.vcf.gz")


def test_user_file_overrides_defaults_key_by_key(tmp_path):
    path = _write(tmp_path / "c.yaml", {"model": {"latent_dim": 5}, "training": {"epochs": 3}})
    config = load_config(path)
    assert config.model.latent_dim == 5
    assert config.model.hidden_units == "auto"  # untouched sibling keeps its default
    assert config.training.epochs == 3
    assert config.training.batch_size == Config().training.batch_size


def test_unknown_key_names_key_and_file(tmp_path):
    path = _write(tmp_path / "c.yaml", {"model": {"latnt_dim": 5}})
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message
    assert "unknown key 'model.latnt_dim'" in message
    assert "Did you mean 'model.latent_dim'" in message


def test_unknown_top_level_key(tmp_path):
    path = _write(tmp_path / "c.yaml", {"trainng": {"epochs": 3}})
    with pytest.raises(ConfigError, match=r"unknown key 'trainng'.*Did you mean 'training'"):
        load_config(path)


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ({"training": {"epochs": "many"}}, "training.epochs"),
        ({"model": {"latent_dim": "big"}}, "model.latent_dim"),
        ({"model": {"latent_dim": 0}}, "model.latent_dim"),
        ({"model": {"hidden_units": [64, -1]}}, "model.hidden_units"),
        ({"data": {"min_maf": 0.7}}, "data.min_maf"),
        ({"training": {"validation_fraction": 1.5}}, "training.validation_fraction"),
        ({"model": {"activation": "softmax"}}, "model.activation"),
    ],
)
def test_wrong_types_name_key_and_file(tmp_path, content, key):
    path = _write(tmp_path / "c.yaml", content)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    assert f"key '{key}'" in str(err.value)


def test_capacity_with_a_beta_schedule_is_an_error(tmp_path):
    path = _write(
        tmp_path / "c.yaml",
        {"objective": {"capacity": {"enabled": True}, "schedule": {"kind": "cyclical"}}},
    )
    with pytest.raises(ConfigError, match=r"key 'objective'.*schedule \('cyclical'\)"):
        load_config(path)


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ({"objective": {"schedule": {"kind": "exponential"}}}, "objective.schedule.kind"),
        ({"objective": {"reencode": {"loss": "l1"}}}, "objective.reencode.loss"),
        ({"objective": {"sigma": -1.0}}, "objective.sigma"),
        ({"objective": {"free_bits": -0.1}}, "objective.free_bits"),
    ],
)
def test_objective_options_are_validated(tmp_path, content, key):
    with pytest.raises(ConfigError, match=f"key '{key}'"):
        load_config(_write(tmp_path / "c.yaml", content))


@pytest.mark.parametrize(
    ("content", "key", "bound"),
    [
        ({"seed": -1}, "seed", "greater than or equal to 0"),
        ({"seed": 2**32}, "seed", "less than 4294967296"),
        ({"data": {"impute_seed": -2}}, "data.impute_seed", "greater than or equal to 0"),
        ({"runtime": {"threads": 513}}, "runtime.threads", "less than or equal to 512"),
    ],
)
def test_seeds_and_threads_out_of_range_are_refused_when_read(tmp_path, content, key, bound):
    """A negative seed failed after TensorFlow's start as 'train failed unexpectedly'."""
    with pytest.raises(ConfigError, match=f"key '{key}': Input should be {bound}"):
        load_config(_write(tmp_path / "c.yaml", content))


def test_section_mapping_given_as_scalar_is_an_error(tmp_path):
    path = _write(tmp_path / "c.yaml", {"model": 3})
    with pytest.raises(ConfigError, match="key 'model' must be a mapping"):
        load_config(path)


def test_section_file_overrides_user_config(tmp_path):
    sections = tmp_path / "sections"
    path = _write(
        tmp_path / "c.yaml", {"sections_dir": str(sections), "objective": {"kl_weight": 2.0}}
    )
    _write(sections / "22_1-100.yaml", {"objective": {"kl_weight": 0.3}})
    assert load_config(path).objective.kl_weight == 2.0
    assert load_config(path, section="22_1-100").objective.kl_weight == 0.3
    assert load_config(path, section="22_101-200").objective.kl_weight == 2.0


def test_error_in_section_file_names_that_file(tmp_path):
    sections = tmp_path / "sections"
    path = _write(tmp_path / "c.yaml", {"sections_dir": str(sections)})
    bad = _write(sections / "s1.yaml", {"objective": {"kl_weight": -1}})
    with pytest.raises(ConfigError) as err:
        load_config(path, section="s1")
    assert str(bad) in str(err.value) and "objective.kl_weight" in str(err.value)


def test_command_line_overrides_win(tmp_path):
    path = _write(tmp_path / "c.yaml", {"training": {"epochs": 3}})
    assert load_config(path, overrides={"training": {"epochs": 9}}).training.epochs == 9


def test_yaml_is_read_safely(tmp_path):
    path = _write(tmp_path / "c.yaml", "seed: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_missing_and_non_mapping_files(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(_write(tmp_path / "list.yaml", "- 1\n- 2\n"))


def test_every_bad_key_and_value_is_reported_at_once(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "trainng: {epochs: 3}\nmodel: {latent_dimm: 4}\n"
        "training: {epochs: many, batch_size: -1}\nobjective: {kl_weight: heavy}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert "unknown key 'trainng'" in text and "unknown key 'model.latent_dimm'" in text
    assert "2 problems" in text  # unknown keys first: values are checked once the keys are known
    path.write_text("training: {epochs: many, batch_size: -1}\nobjective: {kl_weight: heavy}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert "3 problems" in text
    for key in ("training.epochs", "training.batch_size", "objective.kl_weight"):
        assert f"key '{key}'" in text and str(path) in text
