"""kill -9 during `generate --all --format all`: what is left behind, and what the next run leaves.

Usage: python bench/kill9.py [--only-group]
Each kill happens at a moment defined by an event in the output directory (never by a duration):
the staging directory appears; latexmk's work directory for the 1st, 4th or 8th PDF appears; the
first document is staged; the first document is published (mid-renames). Each moment is tried
killing the whole process group (latexmk too) and killing only the Python process (latexmk is
orphaned and finishes alone). Then a later `generate softmax-jacobian` runs in the same directory.
Reported per kill: temporaries right after the kill, after the next run, anything new in /tmp,
and whether every visible file is complete.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from derive.files import TEMP_PREFIX  # noqa: E402

SAFETY_NET_SECONDS = 900


def _stages(out: Path) -> list:
    return [p for p in out.glob(f"{TEMP_PREFIX}*") if p.is_dir()] if out.exists() else []


def _nth_latexmk(n: int):
    """True once the n-th PDF's latexmk work directory has appeared (each is removed after its PDF)."""
    seen: set = set()

    def ready(out: Path) -> bool:
        seen.update(p.name for p in out.glob(f"{TEMP_PREFIX}*/latex-*"))
        return len(seen) >= n
    return ready


# moment -> a fresh predicate on the output directory for each run
MOMENTS = {
    "staging directory created": lambda: lambda out: bool(_stages(out)),
    "1st latexmk work dir": lambda: _nth_latexmk(1),
    "4th latexmk work dir": lambda: _nth_latexmk(4),
    "8th latexmk work dir": lambda: _nth_latexmk(8),
    "first document staged": lambda: lambda out: bool(list(out.glob(f"{TEMP_PREFIX}*/{TEMP_PREFIX}*"))),
    "first document published": lambda: lambda out: any(out.glob("*.json")),
}


def _temporaries(out: Path) -> int:
    return len(list(out.rglob(f"{TEMP_PREFIX}*"))) + len(list(out.rglob("latex-*")))


def _complete(path: Path) -> bool:
    data = path.read_bytes()
    if path.suffix == ".json":
        json.loads(data)
        return True
    if path.suffix == ".pdf":
        return data.rstrip().endswith(b"%%EOF")
    if path.name.endswith(".fragment.tex") or path.suffix == ".md":
        return len(data) > 0
    return data.rstrip().endswith(b"\\end{document}")


def _orphans_done(out: Path) -> None:
    """Wait until no process works inside `out` (an orphaned latexmk finishing), by polling /proc."""
    deadline = time.monotonic() + SAFETY_NET_SECONDS
    while time.monotonic() < deadline:
        busy = False
        for proc in Path("/proc").iterdir():
            try:
                busy |= proc.name.isdigit() and str(out) in os.readlink(proc / "cwd")
            except OSError:
                continue
        if not busy:
            return
        time.sleep(0.05)


def one_kill(moment: str, group: bool) -> dict:
    before_tmp = {p for p in Path(tempfile.gettempdir()).glob("softmax-derive-*") if p.is_dir()}
    with tempfile.TemporaryDirectory(prefix="kill9-") as tmp:
        out = Path(tmp) / "out"
        proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "generate", "--all", "--format", "all",
                                 "-o", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        deadline, killed, ready = time.monotonic() + SAFETY_NET_SECONDS, False, MOMENTS[moment]()
        while proc.poll() is None and time.monotonic() < deadline:
            if ready(out):
                os.killpg(proc.pid, signal.SIGKILL) if group else os.kill(proc.pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.002)
        proc.wait()
        _orphans_done(out)
        left = _temporaries(out)
        visible = [p for p in out.iterdir() if not p.name.startswith(".")] if out.exists() else []
        complete = all(_complete(p) for p in visible)
        later = subprocess.run([sys.executable, str(ROOT / "cli.py"), "generate", "softmax-jacobian", "-o", str(out)],
                               cwd=ROOT, capture_output=True, timeout=SAFETY_NET_SECONDS)
        after = _temporaries(out)
    new_tmp = {p for p in Path(tempfile.gettempdir()).glob("softmax-derive-*") if p.is_dir()} - before_tmp
    return {"moment": moment, "killed": "group" if group else "python only", "happened": killed,
            "left after kill": left, "visible files": len(visible), "all complete": complete,
            "next run exit": later.returncode, "left after next run": after, "new in /tmp": len(new_tmp)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only-group", action="store_true")
    parser.add_argument("--moments", nargs="*", default=list(MOMENTS), help="Which moments (default: all).")
    args = parser.parse_args()
    print("| moment | killed | left after kill | visible files (all complete) | next run: exit, left | new in /tmp |")
    print("| --- | --- | --- | --- | --- | --- |")
    for moment in args.moments:
        for group in (True,) if args.only_group else (True, False):
            r = one_kill(moment, group)
            status = r["left after kill"] if r["happened"] else "run ended before the moment"
            print(f"| {moment} | {r['killed']} | {status} | {r['visible files']} ({r['all complete']}) | "
                  f"{r['next run exit']}, {r['left after next run']} | {r['new in /tmp']} |", flush=True)


if __name__ == "__main__":
    main()
