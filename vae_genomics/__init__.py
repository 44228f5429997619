"""vae-genomics: per-section variational autoencoders for phased haplotype data.

``vae_genomics.load_run(path)`` opens a finished run (:mod:`vae_genomics.api`). Importing the
package is light (no TensorFlow); it makes ``keras.models.load_model("…/model.keras")`` work by
registering the model class as soon as Keras is imported (or at once if it already is).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import sys
from typing import Any

# Keras 3 is multi-backend; this package's training loop is written for TensorFlow.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Keep TensorFlow's C++ start-up chatter out of the user's log unless they ask for it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

__all__ = ["__version__", "load_run"]

_MODEL_MODULE = "vae_genomics.models.vae"


class _RegisterWithKeras(importlib.abc.MetaPathFinder):
    """Imports the model module right after ``keras`` itself is imported.

    ``keras.models.load_model`` finds a custom class only once it is registered, which happens when
    its module is imported; importing it here up front would pull in TensorFlow (seconds) for every
    use of the package, e.g. ``vae-genomics --help``. Once Keras is loaded the model module costs
    about 0.05 s more.
    """

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "keras":
            return None
        sys.meta_path.remove(self)  # once, and not for the lookup just below
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        execute = loader.exec_module

        def exec_module(module: Any) -> None:
            execute(module)
            importlib.import_module(_MODEL_MODULE)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if "keras" in sys.modules:
    importlib.import_module(_MODEL_MODULE)
elif not any(isinstance(f, _RegisterWithKeras) for f in sys.meta_path):
    sys.meta_path.insert(0, _RegisterWithKeras())


def __getattr__(name: str) -> Any:
    """``vae_genomics.load_run`` without importing TensorFlow before it is called."""
    if name == "load_run":
        from vae_genomics.api import load_run

        return load_run
    raise AttributeError(f"module 'vae_genomics' has no attribute {name!r}")
