"""Run the child process that calls submitted code: isolated interpreter, limits, temp cwd, bare environment.

Why these limits: submitted code may loop, allocate or write without bound, or read secrets from the
environment. The child runs `python -I` (no user site, no PYTHON* variables), with CPU seconds, address
space and file size capped by `resource`, in a fresh temporary directory holding only a copy of the
file, with an environment of PATH and thread counts only. This is a seat belt, not a jail: graders
running untrusted code need their own sandbox (container, VM) too.
"""
from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..errors import DeriveError

CPU_SECONDS = 20
MEMORY_BYTES = 6 * 1024 ** 3  # address space: PyTorch alone maps a few GB of virtual memory
FILE_BYTES = 1024 ** 2
OPEN_FILES = 512
WALL_SECONDS = 120  # a backstop for a child blocked without using CPU (sleep, read); CPU_SECONDS bounds work
CHILD = Path(__file__).with_name("child.py")
ENVIRONMENT = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "LC_ALL": "C.UTF-8"}


class NotRunnable(DeriveError):
    """The code could not be imported or called at all."""

    exit_code = 2


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def call(source: Path, request: dict) -> dict:
    """Copy `source` into a fresh directory, run the child there on `request`, return its JSON answer."""
    with tempfile.TemporaryDirectory(prefix="check-code-") as directory:
        copy = Path(directory) / "submission.py"
        shutil.copyfile(source, copy)
        payload = json.dumps({**request, "path": str(copy)})
        try:
            done = subprocess.run([sys.executable, "-I", str(CHILD)], input=payload, capture_output=True, text=True,
                                  cwd=directory, env={**ENVIRONMENT, "HOME": directory}, preexec_fn=_limits,
                                  timeout=WALL_SECONDS)
        except subprocess.TimeoutExpired:
            raise NotRunnable(f"the code did not finish within {WALL_SECONDS} s") from None
    if not done.stdout.strip():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise NotRunnable(f"the code's process ended (exit {done.returncode}) without an answer: {last[:300]}")
    try:
        answer = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise NotRunnable("the code's process wrote an answer that is not JSON") from None
    if "error" in answer:
        raise NotRunnable(answer["error"])
    return answer
