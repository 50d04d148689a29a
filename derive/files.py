"""Writing output: paths checked before any work, atomic writes, and temporaries no run leaves behind.

Every temporary file or directory is named `.softmax-derive-tmp.PID.RANDOM[.NAME]` inside the
directory it is for. A run cleans up its own on every exit path it controls; one killed with
kill -9 cannot, so the next run that touches the directory removes every such entry whose process
is gone. Failures are one-line UsageErrors (exit 2), never tracebacks.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from .errors import UsageError

TEMP_PREFIX = ".softmax-derive-tmp."


def cache_folder(*parts: str) -> Path | None:
    """~/.cache/softmax-derive[/parts] (XDG_CACHE_HOME respected), created private (0700), where the
    grammar, the check targets and the TeX format are kept; None when there is no usable one (no
    home directory, read-only): every cache is then rebuilt when needed instead."""
    try:
        folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "softmax-derive", *parts)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except (OSError, RuntimeError):
        return None
    return folder


def write_cache(path: Path, data: bytes) -> None:
    """Keep `data` in the cache file `path`: readers see the old file or the whole new one, and a failed
    write (a full disk) leaves no file and no error, since whatever is cached is rebuilt when missing."""
    temporary = None
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as handle:
            temporary = handle.name
            handle.write(data)
        os.replace(temporary, path)
    except OSError:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _cannot(what: str, path: Path, error: OSError) -> UsageError:
    return UsageError(f"cannot {what} {path}: {error.strerror or error}")


def _owner_is_gone(entry: Path) -> bool:
    """True when the PID in a temporary's name is no longer a running process (kill -9'd or crashed)."""
    pid_text = entry.name[len(TEMP_PREFIX):].split(".", 1)[0]
    if not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists but belongs to someone else: not ours to remove
        return False
    return False


def clean_stale(directory: Path) -> None:
    """Remove temporaries left in `directory` by runs that were killed before they could."""
    try:
        entries = [e for e in Path(directory).iterdir() if e.name.startswith(TEMP_PREFIX)]
    except OSError:
        return
    for entry in entries:
        if _owner_is_gone(entry):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def check_output_dir(directory: Path) -> Path:
    """`directory`, created if needed and proven writable by making and removing a file in it."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"cannot write into {directory}: it is a file, not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}.", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise _cannot("write into", directory, error) from None
    clean_stale(directory)
    return directory


def check_output_file(path: Path) -> Path:
    """`path` can be written: not a directory, and its directory is writable (see check_output_dir)."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a directory")
    check_output_dir(path.parent)
    return path


def _write_temp(directory: Path, name: str, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}.", suffix=f".{name}", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600; a document should get the permissions any new file would get.
        os.chmod(tmp, 0o666 & ~_umask())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_atomic(path: Path, content: str | bytes) -> Path:
    """Write to a temporary file in the same directory, then rename over `path` (atomic on POSIX)."""
    path = Path(path)
    check_output_file(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        tmp = _write_temp(path.parent, path.name, data)
    except OSError as error:
        raise _cannot("write", path, error) from None
    try:
        os.replace(tmp, path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise _cannot("write", path, error) from None
    return path


@contextlib.contextmanager
def staging(directory: Path) -> Iterator[Path]:
    """A private directory inside `directory` (same file system, so moving out is a rename),
    removed on every exit path; see the module docstring for kill -9."""
    directory = check_output_dir(directory)
    try:
        stage = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}.", dir=directory))
    except OSError as error:
        raise _cannot("write into", directory, error) from None
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def publish(documents: Iterable[tuple[str, str | bytes]], directory: Path, stage: Path) -> list[Path]:
    """Write every document into `stage` (where a full disk or an error leaves nothing visible),
    then rename each into `directory`. Renames need no new space, so once the first is made the
    rest follow; only a kill during those few renames can leave some files new, each complete."""
    staged = []
    for name, content in documents:
        data = content.encode("utf-8") if isinstance(content, str) else content
        try:
            staged.append((_write_temp(stage, name, data), Path(directory) / name))
        except OSError as error:
            raise _cannot("write", Path(directory) / name, error) from None
    written = []
    for tmp, path in staged:
        try:
            os.replace(tmp, path)
        except OSError as error:
            raise _cannot("write", path, error) from None
        written.append(path)
    return written
