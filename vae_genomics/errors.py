"""Exceptions a user can act on.

Every error raised for bad input names the file, record, section or key, says what was expected and
what to do. The command line prints these messages without a traceback and exits with status 2.
"""


class VaeGenomicsError(Exception):
    """Base class for errors caused by the user's input or environment."""


class ConfigError(VaeGenomicsError):
    """A configuration file or option is invalid."""


class DataError(VaeGenomicsError):
    """A VCF/BCF, population file or section definition cannot be used."""


class RunError(VaeGenomicsError):
    """A run directory is missing, incomplete, or would be overwritten."""


class TrainingDivergedError(RunError):
    """The objective became NaN or infinite during training."""
