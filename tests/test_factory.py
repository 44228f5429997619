"""The per-section architecture rules."""

import pytest

from vae_genomics.config import ModelConfig
from vae_genomics.models.factory import auto_hidden_units, auto_latent_dim, resolve_architecture


@pytest.mark.parametrize(
    ("n", "hidden", "latent"),
    [(20, [64, 32], 2), (100, [64, 32], 6), (1000, [256, 64], 16), (5000, [1024, 256], 16)],
)
def test_documented_auto_rules(n, hidden, latent):
    assert auto_hidden_units(n) == hidden
    assert auto_latent_dim(n) == latent


def test_explicit_values_override_auto():
    config = ModelConfig(latent_dim=5, hidden_units=[40])
    assert resolve_architecture(1000, config) == ([40], 5)
    assert resolve_architecture(1000, ModelConfig()) == ([256, 64], 16)


@pytest.mark.parametrize(("n", "hidden", "latent"), [(50, [32, 16], 3), (1000, [256, 64], 16)])
def test_the_parameter_count_is_the_built_models(n, hidden, latent):
    from vae_genomics.config import load_config
    from vae_genomics.models.factory import build_vae
    from vae_genomics.train.checks import vae_parameters

    config = load_config(None)
    model_config = config.model.model_copy(update={"hidden_units": hidden, "latent_dim": latent})
    model = build_vae(n, model_config, config.objective, config.training, 0)
    built = sum(int(w.numpy().size) for w in model.trainable_weights)
    assert vae_parameters(n, hidden, latent) == built


def test_a_model_beyond_the_machines_memory_is_refused_before_training(tiny_config, caplog):
    """model.hidden_units: [100000000] (a typo) failed deep in TensorFlow, or swapped the node;
    10^9 units here: 1.7 TB to train, beyond any machine the suite runs on."""
    from vae_genomics.cli import main
    from vae_genomics.train.checks import vae_parameters

    argv = ["train", "--config", str(tiny_config), "--set", "model.hidden_units=[1000000000]"]
    assert main(argv) == 2
    params = vae_parameters(50, [10**9], 3)
    assert f"make a VAE of {params:,} parameters, about 1.6 TB to train" in caplog.text
    assert "more than this machine's" in caplog.text
    assert "model.hidden_units: auto picks [64, 32] for this section" in caplog.text
    assert not (tiny_config.parent / "runs").exists()
