import mpmath
import pytest


@pytest.fixture(autouse=True)
def _precision():
    with mpmath.workdps(50):
        yield


@pytest.fixture(autouse=True, scope="session")
def _derive_in_this_process():
    # pytest -n 2 already keeps both cores busy; `generate --all` and `verify` forking two more
    # workers per test would oversubscribe them and lose the derivation cache the tests share.
    # tests/test_parallel.py sets the worker count it tests explicitly.
    from derive.commands import parallel
    parallel.PARALLEL_JOBS = 1
    yield
