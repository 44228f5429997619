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
