"""The garbage collector in a command's process: what lives until exit is not walked over and over.

Importing SymPy and the checker makes some 60,000 containers the collector tracks, all of them alive
until the process ends. The collector walks them again at every full collection while they are made
(a tenth of a `check`'s CPU time) and again at exit, when the process is about to give its memory back
anyway (a sixth). None of that frees anything. Only the command line calls these: a program or a
notebook calling check_answer keeps Python's collector as it is.
"""
from __future__ import annotations

import atexit
import contextlib
import gc
import sys


@contextlib.contextmanager
def imports_frozen():
    """Import modules inside this with the collector paused, then, if that imported anything, freeze
    every object there is into the permanent generation, which later collections skip. Modules are
    never garbage; the few cycles that may be garbage at this moment stay in memory until exit
    instead of being freed. A process that had them imported already (a test session invoking many
    commands) freezes nothing more."""
    enabled, imported = gc.isenabled(), len(sys.modules)
    gc.disable()
    try:
        yield
    finally:
        if len(sys.modules) > imported:
            gc.freeze()
        if enabled:
            gc.enable()


def no_collection_at_exit() -> None:
    """Freeze everything when the interpreter starts to finalise: its last collections then walk
    nothing. Atexit functions registered later still run first, and stdout and stderr are still
    flushed; only objects kept alive by reference cycles are not finalised, and no command leaves
    output to such an object (files are written in `with` blocks and renamed into place)."""
    atexit.unregister(gc.freeze)  # once per process, however many commands a test invokes
    atexit.register(gc.freeze)
