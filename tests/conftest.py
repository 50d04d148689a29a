import sys
from pathlib import Path

import mpmath
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True)
def _precision():
    with mpmath.workdps(50):
        yield
