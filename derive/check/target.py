"""What an answer is compared with: a registry derivation's result, read generically.

Why generic: new derivations added to the engine registry become `--target`s without changes
here; everything is read from the Derivation (result, result_lhs, definitions, assumptions).
"""
from __future__ import annotations

import functools
import hashlib
import os
import pickle
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import sympy as sp

from ..errors import UsageError
from ..files import cache_folder, write_cache
from ..model import Semantics
from ..algebra.indices import free_indices, rename_sum_indices
from ..settings import TARGETS_SUM_TO_ONE

DERIVED = frozenset({"sigma"})  # arrays computed from z at every point (never drawn at random)


@dataclass(frozen=True)
class CheckTarget:
    """One derivation as a checking target."""

    name: str
    title: str
    lhs: sp.Basic  # e.g. Derivative(sigma[i], z[j])
    result: sp.Basic  # e.g. sigma[i] (delta_ij - sigma_j), in sigma, z, y
    free: tuple  # free index symbols, sorted by name: (i, j)
    definitions: tuple  # ((L, -Sum_k y_k log sigma_k),)
    simplex: bool  # targets y lie on the simplex (sum to one)
    arrays: tuple  # names of the input arrays the result reads, besides sigma (z, y, g, x, ...)
    # model.Semantics: extra arrays, scalars, derived arrays, sizes, Ks (not part of equality or hash)
    semantics: Semantics | None = field(default=None, compare=False, hash=False)
    part: str | None = None  # which of several results (linear-softmax-cross-entropy:b), None: the main one

    def substitute(self, expr: sp.Basic) -> sp.Basic:
        """Replace defined symbols (L) by their definitions, so the evaluator can compute them."""
        present = [(symbol, value) for symbol, value in self.definitions if expr.has(symbol)]
        if not present:  # most expressions compared (results, mistake candidates) hold no L
            return expr
        return expr.xreplace({symbol: _fresh_dummies(value) for symbol, value in present})


# Results of a multi-result derivation that are checkable gradients, addressed as NAME:PART.
# Other named results (shift invariance, the null vector, ...) are properties, not answers.
PARTS = {"linear-softmax-cross-entropy": ("W", "b", "x"), "batched-linear-softmax-cross-entropy": ("W", "b"),
         "attention-backward": ("S", "V", "P", "Q", "K")}


@functools.lru_cache(maxsize=None)
def get(name: str) -> CheckTarget:
    """The target for a registry name, or NAME:PART for one result of a derivation with several
    (linear-softmax-cross-entropy:b); UsageError for unknown names, listing the known ones.
    Read from the stored targets (see stored) when it needs no semantics (functions cannot be
    stored): softmax-jacobian, log-softmax-jacobian and cross-entropy-gradient then cost no build."""
    entry = stored().get(name)
    if entry is not None and not entry[1]:
        return entry[0]
    return built(name)


def built(name: str) -> CheckTarget:
    """The target read from a fresh build of its derivation (see get)."""
    from .. import engine  # only when a target is built: a stored one needs neither the registry nor SymPy's build
    base, _, part = name.partition(":")
    if base not in engine.names():
        raise UsageError(f"unknown target {name!r}; known: {', '.join(names())}")
    derivation = engine.build(base, None)
    lhs, result = derivation.result_lhs, derivation.result
    if part:
        known = PARTS.get(base, ())
        if part not in known:
            raise UsageError(f"{base} has no result {part!r}" + (f"; known: {', '.join(known)}" if known else
                                                                  "; it has one result: use the plain name"))
        lhs, result = derivation.results[part]
    elif base in PARTS:
        part = PARTS[base][0]
    free = tuple(sorted(free_indices(lhs) | free_indices(result), key=str))
    assumptions = {a.id for a in derivation.assumptions}
    used = {b.name for b in _bases(result)} | {b.name for b in _bases(lhs)}
    for _symbol, definition in derivation.definitions:
        used |= {b.name for b in _bases(definition)}
    arrays = tuple(sorted((used - DERIVED) | {"z"}))
    return CheckTarget(name=name, title=derivation.title, lhs=lhs, result=result,
                  free=free, definitions=tuple(derivation.definitions), simplex=TARGETS_SUM_TO_ONE in assumptions,
                  arrays=arrays, semantics=derivation.semantics, part=part or None)


@functools.lru_cache(maxsize=1)
def stored() -> Mapping:
    """Every target by --target name, as (the target without its semantics, whether it has any), built
    once and kept in the user's cache directory: building them all costs about a second of CPU. Each
    target is pickled on its own and read when first asked for (SymPy rebuilds every expression it
    reads: all of them cost 15 ms, one about 1 ms), so a check reads its own target and the others only
    when naming a mistake needs them. The file is named by a hash of this package's files (path, size,
    modification time) and SymPy's version, so any change to the engine makes a new one; a missing,
    stale or unreadable file is rebuilt and rewritten. {} when there is no usable cache directory."""
    cache = _cache_file()
    if cache is None:
        return {}
    try:
        with open(cache, "rb") as handle:
            entries = pickle.load(handle)  # our own file, in the user's own 0700 directory (as lark's cache)
        if isinstance(entries, dict) and all(isinstance(data, bytes) and isinstance(has_semantics, bool)
                                             for data, has_semantics in entries.values()):
            return _StoredTargets(entries)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
        pass  # missing or damaged: rebuild below
    entries = {}
    for name in names():
        target = built(name)
        entries[name] = (pickle.dumps(replace(target, semantics=None), protocol=pickle.HIGHEST_PROTOCOL),
                         target.semantics is not None)
    write_cache(cache, pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL))
    return _StoredTargets(entries)


class _StoredTargets(Mapping):
    """name -> (target, has semantics), each target unpickled on first access; one that cannot be read
    back (a damaged entry) is built instead, never guessed."""

    def __init__(self, entries: dict):
        self._entries = entries
        self._read: dict = {}

    def __getitem__(self, name: str) -> tuple:
        if name not in self._read:
            data, has_semantics = self._entries[name]  # KeyError for an unknown name, as a dict would
            self._read[name] = (_unpickled(data) or replace(built(name), semantics=None), has_semantics)
        return self._read[name]

    def __iter__(self):
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def _unpickled(data: bytes) -> CheckTarget | None:
    try:
        target = pickle.loads(data)
    except (EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError, IndexError):
        return None
    return target if isinstance(target, CheckTarget) else None


def questions() -> dict:
    """Every target's (lhs, result) by --target name: what naming a mistake compares an answer with
    (the other derivations' results, their left sides), from the stored targets when there are any."""
    targets = {name: target for name, (target, _semantics) in stored().items()} or {name: get(name) for name in names()}
    return {name: (target.lhs, target.result) for name, target in targets.items()}


def derivation_names() -> tuple:
    """The registry's names alone, without NAME:PART (see names); reads no target."""
    return tuple(name for name in (stored() or names()) if ":" not in name)


def _cache_file() -> Path | None:
    """~/.cache/softmax-derive/targets-<hash>.pickle (XDG_CACHE_HOME respected); None: no usable directory."""
    folder = cache_folder()
    if folder is None:
        return None
    digest = hashlib.sha256(f"{sys.version}\n{sp.__version__}\n".encode())
    digest.update(_sources_stamp(Path(__file__).resolve().parent.parent).encode())
    return folder / f"targets-{digest.hexdigest()[:16]}.pickle"


def _sources_stamp(package: Path) -> str:
    """Every .py file under `package`: its path, size and modification time, one line each, in order.
    Not the bytes: any edit or reinstall changes the stamp, and a stat per file costs well under a
    millisecond where reading and hashing every source cost 5 ms at every start."""
    lines = []
    for folder, subfolders, files in os.walk(package):
        subfolders.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                status = os.stat(path)
                lines.append(f"{os.path.relpath(path, package)}\0{status.st_size}\0{status.st_mtime_ns}")
    return "\n".join(lines)


def names() -> tuple:
    """Every --target spelling: the registry names, then NAME:PART for each result of a multi-result one."""
    from .. import engine
    return tuple(engine.names()) + tuple(f"{base}:{part}" for base, parts in PARTS.items() for part in parts)


def _fresh_dummies(expr: sp.Basic) -> sp.Basic:
    """Rename summation dummies to unique ones: substituted under a sum over k, or differentiated
    with respect to sigma_k, the definition's own k must not capture the student's k."""
    def fresh(summation: sp.Sum) -> dict:
        if len(summation.limits) != 1:
            return {}
        (var, _lo, _hi), = summation.limits
        return {var: sp.Dummy(str(var), integer=True, positive=True)}
    return rename_sum_indices(expr, fresh)


def _bases(expr: sp.Basic) -> set:
    return {ix.base for ix in expr.atoms(sp.Indexed)} | set(expr.atoms(sp.MatrixSymbol))

