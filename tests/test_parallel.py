"""commands.parallel: results in order from forked workers, a worker's DeriveError relayed with its exit code."""
from __future__ import annotations

import os

import pytest

from derive.commands import parallel
from derive.errors import DeriveError, VerificationError


def test_results_come_back_in_order_from_more_than_one_process(monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_JOBS", 2)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    with parallel.in_order(lambda index: (index * index, os.getpid()), 6) as results:
        values = list(results)
    assert [square for square, _pid in values] == [0, 1, 4, 9, 16, 25]
    assert os.getpid() not in {pid for _square, pid in values}  # the work ran in the workers


def test_one_worker_runs_in_this_process(monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_JOBS", 1)
    with parallel.in_order(lambda index: os.getpid(), 3) as results:
        assert set(results) == {os.getpid()}


def test_a_workers_derive_error_keeps_its_message_and_exit_code(monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_JOBS", 2)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)

    def work(index):
        if index == 1:
            raise VerificationError("step 3 fails numerically")
        return index
    with pytest.raises(DeriveError) as caught:
        with parallel.in_order(work, 3) as results:
            list(results)
    assert str(caught.value) == "step 3 fails numerically" and caught.value.exit_code == 4


def test_weighted_jobs_start_heaviest_first_and_come_back_in_index_order(monkeypatch):
    """The heaviest job is submitted first (a long job started last runs alone on one core), and the
    caller still reads the results in index order."""
    from concurrent.futures import ProcessPoolExecutor
    from derive.commands import parallel
    submitted = []
    real_submit = ProcessPoolExecutor.submit

    def recorded(self, fn, index):
        submitted.append(index)
        return real_submit(self, fn, index)
    monkeypatch.setattr(ProcessPoolExecutor, "submit", recorded)
    monkeypatch.setattr(parallel, "worker_count", lambda jobs: 2)
    with parallel.in_order(lambda index: index * index, 4, weight=lambda index: [1, 3, 1, 2][index]) as results:
        assert list(results) == [0, 1, 4, 9]
    assert submitted == [1, 3, 0, 2]
