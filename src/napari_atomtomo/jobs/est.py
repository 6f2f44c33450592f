"""The job of the EST widget (no Qt): the core's EST or gridding states with the error
history and the newest volume, so coalesced yields lose nothing the GUI shows.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..core._generators import map_states

__all__ = ["EstProgress", "with_error_history"]


@dataclasses.dataclass(frozen=True)
class EstProgress:
    """A core state plus what the GUI needs when yields get coalesced: the error of every
    iteration so far, and the newest volume so far (``preview``; the core yields one only
    every ``yield_every`` iterations, and the GUI shows whichever state is newest when it
    looks) with ``snapshot`` counting the volumes.
    """

    round: int
    iteration: int
    error: float
    preview: np.ndarray | None
    errors: np.ndarray
    snapshot: int = 0


def with_error_history(start, *args, **kwargs):
    """Run ``start(*args, **kwargs)`` (``iter_est``/``iter_fourier_gridding``) and yield
    :class:`EstProgress` with the whole error history and the newest volume (set-up steps,
    :class:`~napari_atomtomo.core.est.EstSetupStep`, pass through as they are); returns
    the core's result.
    """
    errors: list[float] = []
    latest, snapshot = None, 0

    def progress(state) -> EstProgress:
        nonlocal latest, snapshot
        if not hasattr(state, "error"):  # a set-up step (setup_steps=True)
            return state
        errors.append(state.error)
        if state.preview is not None:
            latest, snapshot = state.preview, snapshot + 1
        return EstProgress(state.round, state.iteration, state.error, latest,
                           np.asarray(errors), snapshot)

    return (yield from map_states(start(*args, **kwargs), progress))
