import mpmath
import pytest


@pytest.fixture(autouse=True)
def _precision():
    with mpmath.workdps(50):
        yield
