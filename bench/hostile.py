"""Issue 13's hostile cases as whole processes: exit code, seconds, peak memory, the one line shown.

Usage: python bench/hostile.py [--root DIR ...] [--only SUBSTRING]
Each --root is a checkout to run (default: this one); give an older checkout first for a
before/after table. Every case runs under `/usr/bin/time -v` with a 6 GB address-space cap and a
150 s timeout, so a runaway case is stopped instead of taking the machine. Prints Markdown.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
TIMEOUT = 150
MEMORY_KB = 6 * 1024 * 1024
RIGHT = r"\sigma_i - y_i"


def _files(work: Path) -> dict:
    """The input files the cases read, made once."""
    def write(name, text, encoding="utf-8"):
        (work / name).write_text(text, encoding=encoding)
        return str(work / name)
    good = "".join(f"ok{n},{RIGHT}\n" for n in range(8))
    made = {
        "good": write("good.csv", "id,answer\n" + good),
        "slow": write("slow.csv", "id,answer\n" + good + "slow,0.999999^{0.999999}\n"),
        "keyerror": write("keyerror.csv", "id,answer\n" + good + "bug,\\frac{\\partial \\sigma_i}{\\partial u}\n"),
        "field": write("field.csv", "id,answer\n" + good + "long," + "x" * 131_073 + "\n"),
        "deep": write("deep.jsonl", json.dumps({"id": "a", "answer": RIGHT}) + "\n" + "[" * 100_000 + "]" * 100_000 + "\n"),
        "bigid": write("bigid.jsonl", '{"id": ' + "7" * 5000 + ', "answer": "\\\\sigma_i - y_i"}\n'),
        "inject": write("inject.csv", "id,answer\n\"=cmd|' /C calc'!A0\"," + RIGHT + "\n"),
        "bom": write("bom.csv", "id,answer\na," + RIGHT + "\n", encoding="utf-8-sig"),
        "quote": write("quote.csv", "id,answer\na," + RIGHT + "\nb,\"\\sigma_i\n"),
        "toml": write("deep.toml", "a = " + "[" * 100_000 + "]" * 100_000 + "\n"),
        "file": write("a-file", "x"),
    }
    with open(work / "huge.csv", "w", encoding="utf-8") as handle:
        handle.write("id,answer\n")
        handle.writelines(f"{n},x\n" for n in range(5_000_000))
    made["huge"] = str(work / "huge.csv")
    return made


def _cases(f: dict, work: Path) -> list:
    ce = ["check", "--target", "cross-entropy-gradient", "--"]
    grade = ["grade", "--target", "cross-entropy-gradient", "--workers", "2"]
    gen = ["generate", "softmax-jacobian"]
    return [
        ("check 0.999999^{0.999999}", ce + ["0.999999^{0.999999}"]),
        ("check ((0.5^{1000})^{1000})^{1000}", ce + ["((0.5^{1000})^{1000})^{1000}"]),
        ("check 0.000001^{999} (4,300-digit limit)", ce + ["0.000001^{999}"]),
        ("check ∂σ_i/∂u (unknown name)", ce + [r"\frac{\partial \sigma_i}{\partial u}"]),
        ("check ∂L/∂z_9 (index beyond K)", ce + [r"\frac{\partial L}{\partial z_9}"]),
        ("check nested derivative (Hessian)", ce + [r"\frac{\partial}{\partial z_j}\frac{\partial L}{\partial z_i}"]),
        ("check Ye^b (SymPy refuses)", ce + ["Ye^b"]),
        ("grade, one 0.999999^{0.999999} row", grade + [f["slow"]]),
        ("grade, one KeyError row", grade + [f["keyerror"]]),
        ("grade, CSV field of 131,073 chars", grade + [f["field"]]),
        ("grade, JSONL line nested 100,000 deep", grade + [f["deep"]]),
        ("grade, JSONL id of 5,000 digits", grade + [f["bigid"]]),
        ("grade, 5 M rows", grade + [f["huge"]]),
        ("grade, id =cmd\\|' /C calc'!A0", grade + [f["inject"]]),
        ("grade, CSV with a BOM", grade + [f["bom"]]),
        ("grade, unterminated quote", grade + [f["quote"]]),
        ("grade --report /proc/r.csv", grade + ["--report", "/proc/r.csv", f["good"]]),
        ("generate -o /proc/nope", gen + ["-o", "/proc/nope"]),
        ("generate -o <existing file>", gen + ["-o", f["file"]]),
        ("generate -o <file>/sub", gen + ["-o", f["file"] + "/sub"]),
        ("generate --all -o <full disk>", ["generate", "--all", "-o", "{full}"]),
        ("generate -o <read-only fs>", gen + ["-o", "{readonly}"]),
        ("--notation TOML nested 100,000 deep", gen + ["-o", "-", "--notation", f["toml"]]),
        ("--notation /dev/zero", gen + ["-o", "-", "--notation", "/dev/zero"]),
        *[(f"--symbol {s} --format pdf", gen + ["--format", "pdf", "-o", str(work / "pdf"), "--symbol", s])
          for s in (r"probs=\mathbf", r"probs=\hat", r"probs=\operatorname", r"loss=\mathcal", "probs={}")],
    ]


def _mounts(work: Path) -> dict:
    """A 40 KB file system (a full disk) and a read-only one; needs root (mount), else skipped."""
    paths = {"full": work / "full", "readonly": work / "readonly"}
    for key, options in (("full", "size=40k"), ("readonly", "ro,size=40k")):
        paths[key].mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(paths[key])], check=False,
                       capture_output=True)
    return paths


def _run(root: Path, argv: list, mounts: dict) -> tuple:
    argv = [a.replace("{full}", str(mounts["full"])).replace("{readonly}", str(mounts["readonly"])) for a in argv]
    for key in ("full",):
        for entry in Path(mounts[key]).glob("*"):
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink()
    shell = (f"ulimit -v {MEMORY_KB}; exec /usr/bin/time -v timeout {TIMEOUT} "
             f"{sys.executable} {root / 'cli.py'} " + " ".join(_quote(a) for a in argv))
    proc = subprocess.run(["bash", "-c", shell], cwd=root, capture_output=True, text=True)
    err = proc.stderr
    seconds = _stat(err, r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)")
    peak = _stat(err, r"Maximum resident set size \(kbytes\): (\d+)")
    own = [line for line in err.split("\tCommand being timed")[0].strip().splitlines()
           if not line.startswith(("Command exited with", "Command terminated by"))]
    if "Traceback" in err:
        line = "traceback: " + (own[-1] if own else "")
    elif proc.returncode == 124:
        line = f"killed by the {TIMEOUT} s timeout"
    else:
        line = own[-1] if own else (proc.stdout.strip().splitlines() or [""])[-1]
    left = ""
    if "full" in " ".join(argv) or str(mounts["full"]) in " ".join(argv):
        left = f" [{len(list(Path(mounts['full']).iterdir()))} entries left]"
    return proc.returncode, _seconds(seconds), f"{int(peak) // 1024} MB" if peak else "?", line[:150] + left


def _report_cell(argv: list) -> str:
    """For the injection case: the id cell as the report holds it (then removed for the next root)."""
    report = Path(argv[-1]).with_suffix(".report.csv")
    if "inject" not in argv[-1] or not report.exists():
        return ""
    cell = report.read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    report.unlink()
    return f" (report cell: {cell})"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _stat(text: str, pattern: str) -> str | None:
    match = re.search(pattern, text)
    return match.group(1) if match else None


def _seconds(clock: str | None) -> str:
    if not clock:
        return "?"
    parts = [float(p) for p in clock.split(":")]
    return f"{parts[-1] + 60 * (parts[-2] if len(parts) > 1 else 0):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", action="append", type=Path)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    roots = [r.resolve() for r in args.root or [HERE]]
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        work = Path(tmp)
        files, mounts = _files(work), _mounts(work)
        try:
            header = "| case | " + " | ".join(f"{r.name}: exit, s, peak, message" for r in roots) + " |"
            print(header)
            print("|" + " --- |" * (1 + len(roots)))
            for label, argv in _cases(files, work):
                if args.only not in label:
                    continue
                cells = [" · ".join(map(str, _run(root, argv, mounts))) + _report_cell(argv) for root in roots]
                print(f"| {label} | " + " | ".join(c.replace("|", "\\|") for c in cells) + " |", flush=True)
        finally:
            for path in mounts.values():
                subprocess.run(["umount", str(path)], check=False, capture_output=True)


if __name__ == "__main__":
    main()
