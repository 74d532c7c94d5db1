"""Thread pools whose threads keep the process's thread count.

``torch.set_num_threads`` (what ``--threads`` and a folder's jobs set:
:func:`lumacodec.file_jobs.use_threads`) reaches OpenMP only in the thread that calls it: OpenMP's
thread count is per thread, and a new thread starts with every core.  Torch's own parallel
loops read the process's count, but the BLAS and oneDNN kernels under a matrix product or a
convolution read OpenMP's, so a thread of a pool would run them on every core: two jobs of
one thread then hold four spinning OpenMP threads on two cores, and a matrix product takes
17× as long (measured).  Every thread lumacodec starts runs :func:`keep_threads` first.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import torch


def keep_threads(threads: int) -> None:
    """Run torch, and OpenMP under it, on ``threads`` threads in the calling thread."""
    torch.set_num_threads(threads)


def pool(workers: int) -> ThreadPoolExecutor:
    """A pool of ``workers`` threads, each running torch on as many threads as this one."""
    return ThreadPoolExecutor(workers, initializer=keep_threads,
                              initargs=(torch.get_num_threads(),))
