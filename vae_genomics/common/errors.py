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


class WrittenMeanwhileError(RunError):
    """An output appeared or changed while the command ran; it was left as it is."""


class TrainingDivergedError(RunError):
    """The objective became NaN or infinite during training."""


def bounded(text: str, limit: int = 2000) -> str:
    """``text`` cut to ``limit`` characters (an error message never floods the terminal)."""
    return (
        text if len(text) <= limit else f"{text[:limit]}... [{len(text) - limit} more characters]"
    )


def os_error_message(exc: OSError) -> str:
    """One line for an operating-system error: the file, the cause and what to do."""
    import errno

    where = f"{exc.filename}: " if exc.filename is not None else ""
    cause = exc.strerror or str(exc)
    advice = {
        errno.ENOSPC: "free some space on that device (or write elsewhere) and run it again",
        errno.EDQUOT: "free some space within your quota and run it again",
        errno.EACCES: "check the permissions of that path, or choose another one",
        errno.EPERM: "check the permissions of that path, or choose another one",
        errno.EROFS: "the file system is read-only; choose another path",
        errno.EISDIR: "a directory was given where a file is expected; give a file path",
        errno.ENOTDIR: "a file was given where a directory is expected; give a directory path",
        errno.ENOENT: "check that the path exists",
    }.get(exc.errno or 0, "check the path and run it again (with -v for the traceback)")
    return bounded(f"{where}{cause}; {advice}.", 600)
