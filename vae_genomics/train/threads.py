"""CPU threads of a process: TensorFlow's thread pools and the BLAS/OpenMP pools of the evaluation.

``runtime.threads`` (``--threads``, the workflow's ``threads``) bounds both, so a job asking a
scheduler for N cores uses N: TensorFlow's intra-op pool gets N threads and its inter-op pool one
(ops run one after another, each on up to N threads), and numpy's BLAS and any OpenMP library
(scikit-learn's nearest neighbours and PCA go through them) are limited to N with
`threadpoolctl <https://github.com/joblib/threadpoolctl>`_. scikit-learn's own ``n_jobs`` is left at
its default of one process. 0 keeps every library's default (all cores).
"""

from __future__ import annotations

import logging
import os

__all__ = ["THREAD_ENV", "limit_threads"]

log = logging.getLogger(__name__)
#: Environment variables read by BLAS/OpenMP libraries when they load (set for child processes).
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_threads(threads: int) -> None:
    """Bound this process's compute threads to ``threads`` (0: leave the defaults).

    Call it before TensorFlow runs its first op: its pools cannot be resized afterwards (then a
    warning is logged and the BLAS limits still apply).

    Args:
        threads: CPU threads, >= 0.
    """
    if threads <= 0:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if cores and threads > cores:
        log.warning(
            "runtime.threads %d is more than the %d core(s) this process may run on: the threads "
            "will take turns on them (a scheduler's job should ask for as many cores as threads)",
            threads, cores,
        )  # fmt: skip
    for name in THREAD_ENV:
        os.environ[name] = str(threads)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)  # stays in force: no context manager
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError as exc:  # TensorFlow already ran an op in this process
        log.warning("TensorFlow's threads stay as they were (%s); BLAS limited to %d", exc, threads)
        return
    log.info("threads: TensorFlow intra-op %d, inter-op 1; BLAS/OpenMP %d", threads, threads)
