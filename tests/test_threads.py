"""Thread pools that keep the process's thread count, down to OpenMP's per-thread one."""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable

import pytest
import torch

from lumacodec.threads import keep_threads, pool


def openmp_max_threads() -> Callable[[], int]:
    """OpenMP's ``omp_get_max_threads`` of the runtime torch loaded (per calling thread)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("finds the OpenMP runtime through /proc/self/maps")
    with open("/proc/self/maps") as maps:
        found = {line.split()[-1] for line in maps if "libgomp" in line or "libiomp" in line}
    if not found:
        pytest.skip("torch runs without an OpenMP runtime here")
    return ctypes.CDLL(sorted(found)[0]).omp_get_max_threads


@pytest.fixture
def one_thread() -> None:
    saved = torch.get_num_threads()
    keep_threads(1)
    yield
    keep_threads(saved)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="OpenMP's default is one thread here")
def test_a_pools_threads_run_openmp_on_the_processs_count(one_thread: None) -> None:
    omp = openmp_max_threads()
    assert omp() == 1
    with pool(2) as threads:
        assert {threads.submit(omp).result() for _ in range(4)} == {1}
