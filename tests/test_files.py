"""Output files: paths refused before any work, atomic all-at-once publishing, and no temporary
left behind, even by a run killed with kill -9 (the next run removes what it left)."""
from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from derive import files
from derive.cli_app import main
from derive.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
SAFETY_NET_SECONDS = 300  # only catches a hang; the tests wait for events, never for durations


def _temporaries(directory: Path) -> list:
    return sorted(p.name for p in directory.rglob(f"{files.TEMP_PREFIX}*"))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_write_atomic_leaves_only_the_file(tmp_path):
    path = files.write_atomic(tmp_path / "a" / "out.txt", "hello")
    assert path.read_text() == "hello" and _temporaries(tmp_path) == []


def test_stale_temporaries_of_dead_runs_are_removed_and_live_ones_kept(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    (tmp_path / f"{files.TEMP_PREFIX}{dead}.abc.out.json").write_text("half")
    (tmp_path / f"{files.TEMP_PREFIX}{dead}.def").mkdir()
    (tmp_path / f"{files.TEMP_PREFIX}{dead}.def" / "latex-x").mkdir()
    (tmp_path / f"{files.TEMP_PREFIX}{alive}.ghi.out.json").write_text("in progress")
    (tmp_path / ".other.tmp").write_text("not ours")
    files.check_output_dir(tmp_path)
    assert _temporaries(tmp_path) == [f"{files.TEMP_PREFIX}{alive}.ghi.out.json"]
    assert (tmp_path / ".other.tmp").exists()


@pytest.mark.parametrize("make, words", [
    (lambda d: (d / "file").write_text("x") and d / "file", "is a file"),
    (lambda d: (d / "file").write_text("x") and d / "file" / "sub", "Not a directory"),
    (lambda d: Path("/proc/nope"), "cannot write into /proc/nope"),
], ids=["existing-file", "under-a-file", "proc"])
def test_generate_refuses_an_output_path_before_any_work(tmp_path, monkeypatch, make, words):
    from derive import verify

    def never(*_args, **_kwargs):
        raise AssertionError("derived before the output path was checked")
    monkeypatch.setattr(verify, "build_verified", never)
    result = CliRunner().invoke(main, ["generate", "softmax-jacobian", "-o", str(make(tmp_path))])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert words in result.stderr


def test_a_full_disk_leaves_the_output_directory_as_it_was(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "softmax-jacobian.md").write_text("old")
    real, calls = files._write_temp, []

    def fills_up(directory, name, data):
        calls.append(name)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(directory, name, data)
    monkeypatch.setattr(files, "_write_temp", fills_up)
    result = CliRunner().invoke(main, ["generate", "softmax-jacobian", "log-softmax-jacobian", "-o", str(out)])
    assert result.exit_code == 2 and "No space left on device" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["softmax-jacobian.md"]
    assert (out / "softmax-jacobian.md").read_text() == "old"


def test_publish_writes_everything_or_nothing_visible(tmp_path):
    with pytest.raises(UsageError):
        with files.staging(tmp_path) as stage:
            files.publish([("a.txt", "a")], tmp_path, stage)
            raise UsageError("a later derivation failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"] and _temporaries(tmp_path) == []


def _spawn_generate(out: Path, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "generate", *args, "-o", str(out)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _kill_when(proc: subprocess.Popen, ready) -> bool:
    """kill -9 the run (its whole process group: latexmk too) as soon as `ready()`; False if it finished first."""
    deadline = time.monotonic() + SAFETY_NET_SECONDS
    while proc.poll() is None and time.monotonic() < deadline:
        if ready():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.005)
    proc.wait()
    return False


# The run stops itself (SIGSTOP) at the moment, and is killed there: no race with a fast run, whose
# documents are staged and renamed within microseconds of each other.
_STOP_AT = """
import os, signal, sys
sys.path.insert(0, {root!r})
sys.argv = ["cli.py", *{args!r}]
from derive import files
real, after = files._write_temp, {after!r}
def stopping(directory, name, data):
    if not after:
        os.kill(os.getpid(), signal.SIGSTOP)  # the staging directory exists, nothing is in it yet
    path = real(directory, name, data)
    if after:
        os.kill(os.getpid(), signal.SIGSTOP)  # the first document is staged, none renamed
    return path
files._write_temp = stopping
from derive.cli_app import main
main()
"""


@pytest.mark.parametrize("moment", ["staging-created", "first-document-staged"])
def test_kill_9_leaves_nothing_the_next_run_does_not_remove(tmp_path, moment):
    out = tmp_path / "out"
    args = ["generate", "softmax-jacobian", "cross-entropy-gradient", "-o", str(out)]
    code = _STOP_AT.format(root=str(ROOT), args=args, after=moment == "first-document-staged")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    _pid, status = os.waitpid(proc.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), "the run ended before the moment came"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    staged = [p for p in out.glob(f"{files.TEMP_PREFIX}*") if p.is_dir()]
    assert staged and bool(any(staged[0].iterdir())) == (moment == "first-document-staged")
    assert _temporaries(out)  # what kill -9 leaves ...
    finished = _spawn_generate(out, "softmax-jacobian")
    assert finished.wait(SAFETY_NET_SECONDS) == 0
    assert _temporaries(out) == []  # ... the next run removes


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="needs TeX")
def test_kill_9_during_latexmk_leaves_its_work_directory_where_the_next_run_removes_it(tmp_path):
    out = tmp_path / "out"
    ready = lambda: any(out.glob(f"{files.TEMP_PREFIX}*/latex-*/*.tex")) if out.exists() else False
    proc = _spawn_generate(out, "softmax-jacobian", "--format", "pdf")
    assert _kill_when(proc, ready)
    assert any("latex-" in name for name in (p.name for p in out.rglob("latex-*")))
    assert _spawn_generate(out, "softmax-jacobian").wait(SAFETY_NET_SECONDS) == 0
    assert _temporaries(out) == [] and not list(out.rglob("latex-*"))
