"""Who hears that a step has been checked: the progress of one long verification (a listener per context).

A derivation at its largest sizes takes seconds to verify (attention at K = 8, a linear layer at
K = 512), and `generate NAME` on a terminal shows how far it is. The listener is set for a block of
code, not passed through build_verified, whose results are cached by their sizes alone.
"""
from __future__ import annotations

import contextlib
import contextvars
from typing import Callable, Iterable, Iterator

Listener = Callable[[int, int], None]  # (steps checked so far, steps in the derivation)

_LISTENER: contextvars.ContextVar[Listener | None] = contextvars.ContextVar("verification_listener", default=None)


@contextlib.contextmanager
def steps_reported(listener: Listener) -> Iterator[None]:
    """Inside this block, every derivation verified calls listener(done, total) after each step."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)


def reported(checked: Iterable, total: int) -> Iterator:
    """The checked steps as they come, the listener told after each (nothing when there is none)."""
    listener = _LISTENER.get()
    for done, step in enumerate(checked, start=1):
        if listener is not None:
            listener(done, total)
        yield step
