"""vae-genomics: per-section variational autoencoders for phased haplotype data."""

import os

# Keras 3 is multi-backend; this package's training loop is written for TensorFlow.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Keep TensorFlow's C++ start-up chatter out of the user's log unless they ask for it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
