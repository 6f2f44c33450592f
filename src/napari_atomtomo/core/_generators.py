"""The one contract of every ``iter_*`` generator, and the helpers that drive it.

An ``iter_*`` function validates its input when called and returns a generator that
yields small state objects while it works and *returns* its result (the
``StopIteration`` value). :func:`run_to_end` is its synchronous twin (what every
``reconstruct_*`` and the command line use); :func:`map_states` re-labels the yields of
one generator inside another without losing the result.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

__all__ = ["run_to_end", "map_states"]

R = TypeVar("R")


def run_to_end(gen: Generator[Any, Any, R], progress: Callable[[Any], object] | None = None
               ) -> R:
    """Consume ``gen`` and return its result; ``progress(state)`` is called after each yield.

    If ``progress`` raises (e.g. to cancel), the generator is closed and the exception
    propagates.
    """
    try:
        while True:
            try:
                state = next(gen)
            except StopIteration as stop:
                return stop.value
            if progress is not None:
                progress(state)
    finally:
        gen.close()


def map_states(gen: Generator[Any, Any, R], fn: Callable[[Any], Any]
               ) -> Generator[Any, None, R]:
    """Yield ``fn(state)`` for every state of ``gen``; return ``gen``'s result.

    Use as ``result = yield from map_states(gen, fn)``.
    """
    while True:
        try:
            state = next(gen)
        except StopIteration as stop:
            return stop.value
        yield fn(state)
