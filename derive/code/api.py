"""check-code's entry point: read a file, check statically, run in the sandbox only when asked and needed."""
from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from .entry import MAX_SOURCE_CHARS
from .static import check_static
from .verdict import CodeVerdict


def split_location(location: str) -> tuple:
    """FILE.py:NAME (a function, a class, or CLASS.METHOD) -> (FILE.py, NAME); FILE.py -> (FILE.py, None)."""
    path, sep, name = location.rpartition(":")
    if sep and path and all(part.isidentifier() for part in name.split(".")):
        return path, name
    return location, None


def read_source(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="strict") as stream:
            text = stream.read(MAX_SOURCE_CHARS + 1)
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {path}: {error}") from None
    return text


def check_file(path: str, *, target: str, name: str | None = None, run: bool = False,
               signature: dict | None = None, seed: int | None = None) -> CodeVerdict:
    """Static first; with run=True, code the reader could not follow is imported and called in a sandbox,
    at fixed cases and at cases drawn from `seed` (default: a fresh one, recorded in the verdict)."""
    source = read_source(path)
    verdict = check_static(source, target=target, name=name, signature=signature)
    if verdict.verdict in ("correct", "incorrect", "unstable") or not run:
        return verdict
    from .runner import check_by_running
    return check_by_running(Path(path), target=target, name=name, signature=signature or {},
                            static_message=verdict.message, seed=seed)
