"""What the EST widget shows while a job runs: the error history, the central-slice
preview montage, and the error-vs-iteration plot.

The plot must be cheap to update during a job. A full matplotlib redraw of a small dock
figure costs 15-30 ms on an idle machine and well over 100 ms on a loaded one (text
layout), far above the 50 ms event-loop budget. So while a job runs, the axes (ticks,
labels, legend) are drawn once and the two curves are blitted on top of that background
(matplotlib's animation technique); the axes are redrawn only when the error leaves the
y range (a new decade) or the dock is resized.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._plot import FACE, FOREGROUND, LINE, MARK, PlotWidget

__all__ = ["ErrorPlot", "EstProgress", "central_slices", "with_error_history"]


@dataclasses.dataclass(frozen=True)
class EstProgress:
    """A core state plus the error of every iteration so far (yields get coalesced)."""

    round: int
    iteration: int
    error: float
    preview: np.ndarray | None
    errors: np.ndarray


def with_error_history(start, *args, **kwargs):
    """Run ``start(*args, **kwargs)`` (``iter_est``/``iter_fourier_gridding``) and yield
    :class:`EstProgress` with the whole error history; returns the core's result."""
    gen = start(*args, **kwargs)
    errors: list[float] = []
    while True:
        try:
            state = next(gen)
        except StopIteration as stop:
            return stop.value
        errors.append(state.error)
        yield EstProgress(state.round, state.iteration, state.error, state.preview,
                          np.asarray(errors))


def central_slices(volume: np.ndarray, gap: int = 1) -> np.ndarray:
    """The central xy, xz and yz slices of a ``(z, y, x)`` volume side by side (2D),
    separated by ``gap`` columns at the slices' maximum (bright lines); zero padding."""
    nz, ny, nx = volume.shape
    panels = (volume[nz // 2], volume[:, ny // 2, :], volume[:, :, nx // 2])
    out = np.zeros((max(ny, nz), 2 * nx + ny + 2 * gap), dtype=np.float32)
    out[:, nx: nx + gap] = out[:, 2 * nx + gap: 2 * (nx + gap)] = max(p.max() for p in panels)
    col = 0
    for panel in panels:
        out[: panel.shape[0], col: col + panel.shape[1]] = panel
        col += panel.shape[1] + gap
    return out


class ErrorPlot(PlotWidget):
    """Relative error (log y) vs iteration; round 1 blue, round 2 orange."""

    def __init__(self, parent=None):
        super().__init__(parent, height=2.2)
        # A fixed height: labels above that change height (status, reason) then only move
        # the canvas instead of resizing it, which would force a full redraw.
        self.setFixedHeight(170)
        self._lines = ()
        self._background = None
        self._n_iter = 0
        self._errors = np.zeros(0)
        self.canvas.mpl_connect("draw_event", self._on_draw)

    def start(self, n_iter: int, n_iter_tight: int) -> None:
        """Empty axes for a job of ``n_iter`` + ``n_iter_tight`` iterations."""
        self.reset()
        ax = self.axes
        self._n_iter = int(n_iter)
        self._errors = np.zeros(0)
        ax.set_yscale("log")
        ax.set_xlim(0, max(n_iter + n_iter_tight, 1) + 1)
        ax.set_ylim(1e-3, 1.5)
        ax.set_xlabel("iteration")
        ax.set_ylabel("relative error")
        if n_iter_tight and n_iter:
            ax.axvline(n_iter + 0.5, color=FOREGROUND, lw=0.6, ls=":")
        self._lines = (
            ax.plot([], [], color=LINE, lw=1.2, label="round 1 (loose)", animated=True)[0],
            ax.plot([], [], color=MARK, lw=1.2, label="round 2 (tight)", animated=True)[0],
        )
        ax.legend(fontsize=7, facecolor=FACE, labelcolor=FOREGROUND, edgecolor="#606060",
                  loc="upper right")
        self.canvas.draw()  # once, with the layout; the curves are blitted from here on

    def update_errors(self, errors) -> None:
        """Show ``errors`` (one per iteration so far)."""
        self._errors = np.maximum(np.asarray(errors, dtype=float), 1e-12)
        if not self._lines:
            return
        e = self._errors
        low, high = self.axes.get_ylim()
        if e.size and (e.min() < low or e.max() > high):
            self.axes.set_ylim(10.0 ** np.floor(np.log10(e.min())), max(high, 1.5 * e.max()))
            self.canvas.draw_idle()  # new decade: redraw the axes; _on_draw adds the curves
            return
        self._set_line_data()
        if self._background is None:
            return
        self.canvas.restore_region(self._background)
        self._draw_lines()
        # update(), not blit(): blit forces an immediate window repaint (15-88 ms under
        # software GL); update() lets Qt merge it with the other pending changes.
        self.canvas.update()

    def finish(self, errors=None) -> None:
        """Final errors (default: the last shown), drawn normally so the figure stays."""
        if not self._lines:
            return
        self.update_errors(self._errors if errors is None else errors)
        self._set_line_data()
        for line in self._lines:
            line.set_animated(False)
        self.axes.relim()
        low = 10.0 ** np.floor(np.log10(self._errors.min())) if self._errors.size else 1e-2
        self.axes.set_ylim(min(low, self.axes.get_ylim()[0]), self.axes.get_ylim()[1])
        self._lines = ()
        self._background = None
        self.canvas.draw_idle()

    # ------------------------------------------------------------------ internals
    def _set_line_data(self) -> None:
        e, n = self._errors, self._n_iter
        its = np.arange(1, e.size + 1)
        self._lines[0].set_data(its[:n], e[:n])
        self._lines[1].set_data(its[n:], e[n:])

    def _draw_lines(self) -> None:
        for line in self._lines:
            self.axes.draw_artist(line)

    def _on_draw(self, _event) -> None:
        if not self._lines:
            return
        self._background = self.canvas.copy_from_bbox(self.axes.bbox)
        self._set_line_data()
        self._draw_lines()
