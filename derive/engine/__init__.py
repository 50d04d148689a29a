"""The derivations, by name. Each module builds a Derivation for symbolic sizes or concrete ones.

A module takes K and, if it lists them in SIZES, also D (input dimension) and N (batch size):
`build_concrete(K, D=..., N=...)` receives exactly the sizes it lists; symbolic means all symbolic.
A module that is not yet fast at every size lists in FAST_SIZES the largest of each it derives and
verifies in seconds (bench/README.md); a larger one is refused with SizeLimitError (exit code 6).
"""
from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Callable

from ..catalog import MODULES, descriptions
from ..errors import SizeLimitError, UsageError
from ..model import Derivation

MAX_CONCRETE_K = 512
MAX_CONCRETE_D = 64
MAX_CONCRETE_N = 64
# A concrete K with D or N left out uses these (small: the explicit matrices grow as K * D * N).
DEFAULT_SIZES = {"D": 2, "N": 2}


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    description: str
    build_symbolic: Callable[[], Derivation]
    build_concrete: Callable[..., Derivation]
    # The size parameters this derivation takes: ("K",), ("K", "D") or ("K", "D", "N").
    sizes: tuple[str, ...] = ("K",)
    # The only concrete K it has (sigmoid-logistic-gradient: 2); None: every K >= 2.
    fixed_K: int | None = None
    # The largest concrete K it takes (written-out attention and masked softmax: 8); None: MAX_CONCRETE_K.
    max_K: int | None = None
    # The largest size of each kind it derives and verifies in seconds, as (("K", 16),); absent: any it takes.
    fast_sizes: tuple[tuple[str, int], ...] = ()

    def check_fast(self, sizes: Mapping[str, int | None]) -> None:
        """Raise SizeLimitError for a concrete size above what this derivation does in seconds."""
        for label, limit in self.fast_sizes:
            value = sizes.get(label)
            if value is not None and value > limit:
                raise SizeLimitError(f"{self.name} at {label} = {value} is not fast yet (it would take minutes); "
                                     f"{label} <= {limit} takes seconds")

    def is_fast(self, sizes: Mapping[str, int | None]) -> bool:
        return all(sizes.get(label) is None or sizes[label] <= limit for label, limit in self.fast_sizes)

    def supports_K(self, K: int | None) -> bool:
        if K is None:
            return True
        return (self.fixed_K is None or K == self.fixed_K) and (self.max_K is None or K <= self.max_K)

    @property
    def supported_K(self) -> str:
        """The concrete K it takes, in words for a message: 'only K = 2', 'K <= 8'."""
        return f"only K = {self.fixed_K}" if self.fixed_K is not None else f"K <= {self.max_K}"


def _entry(module: ModuleType) -> Entry:
    return Entry(module.NAME, module.TITLE, module.DESCRIPTION, module.build_symbolic, module.build_concrete,
                 getattr(module, "SIZES", ("K",)), getattr(module, "FIXED_K", None), getattr(module, "MAX_CONCRETE_K", None),
                 tuple(getattr(module, "FAST_SIZES", {}).items()))


class _Registry(Mapping):
    """name -> Entry, importing a derivation's module only when it is asked for: one derivation
    does not pay for importing the other ten. The module list and the names live in
    derive/catalog.py, which `list` reads without importing SymPy."""

    def __init__(self):
        self._modules = dict(zip((name for name, _ in descriptions()), MODULES))
        self._entries: dict[str, Entry] = {}

    def __getitem__(self, name: str) -> Entry:
        if name not in self._entries:
            module = self._modules[name]  # KeyError for an unknown name, as a dict would
            self._entries[name] = _entry(importlib.import_module(f"{__name__}.{module}"))
        return self._entries[name]

    def __iter__(self):
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)


REGISTRY = _Registry()


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def lookup(name: str) -> Entry:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown derivation {name!r}; known: {', '.join(REGISTRY)}") from None


def parse_K(value: str | int | None) -> int | None:
    """'symbolic' (or None) -> None; an integer 2..MAX_CONCRETE_K -> that integer; else UsageError."""
    if value is None or value == "symbolic":
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"K must be 'symbolic' or an integer >= 2, not {value!r}") from None
    if isinstance(value, str) and value.strip() != str(n):
        raise UsageError(f"K must be 'symbolic' or an integer >= 2, not {value!r}")
    if n < 2:
        raise UsageError(f"K must be at least 2, not {n}")
    if n > MAX_CONCRETE_K:
        raise UsageError(f"K must be at most {MAX_CONCRETE_K}, not {n}")
    return n


def parse_size(label: str, value: str | int | None, *, maximum: int) -> int | None:
    """D or N: 'symbolic' (or None) -> None; an integer 1..maximum -> that integer; else UsageError."""
    if value is None or value == "symbolic":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"{label} must be 'symbolic' or an integer >= 1, not {value!r}") from None
    if isinstance(value, str) and value.strip() != str(number):
        raise UsageError(f"{label} must be 'symbolic' or an integer >= 1, not {value!r}")
    if not 1 <= number <= maximum:
        raise UsageError(f"{label} must be between 1 and {maximum}, not {number}")
    return number


def parse_D(value: str | int | None) -> int | None:
    return parse_size("D", value, maximum=MAX_CONCRETE_D)


def parse_N(value: str | int | None) -> int | None:
    return parse_size("N", value, maximum=MAX_CONCRETE_N)


@functools.lru_cache(maxsize=64)
def build(name: str, K: int | None = None, D: int | None = None, N: int | None = None) -> Derivation:
    """The unverified derivation (cached: derivations are immutable).

    K None: every size symbolic (D and N must then be None too). A concrete K with D or N omitted
    uses DEFAULT_SIZES; giving D or N to a derivation that does not take it is a UsageError; a size
    above the derivation's FAST_SIZES is a SizeLimitError."""
    entry = lookup(name)
    given = {"D": D, "N": N}
    for label, value in given.items():
        if value is not None and label not in entry.sizes:
            raise UsageError(f"{name} takes sizes {', '.join(entry.sizes)}, not {label}")
    if K is None:
        if any(value is not None for value in given.values()):
            raise UsageError("give a concrete K together with D or N (symbolic K means all sizes symbolic)")
        return entry.build_symbolic()
    extra = {label: DEFAULT_SIZES[label] if given[label] is None else given[label]
             for label in entry.sizes if label != "K"}
    entry.check_fast({"K": K, **extra})
    return entry.build_concrete(K, **extra)
