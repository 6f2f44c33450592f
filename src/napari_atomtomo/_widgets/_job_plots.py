"""Figures of job results in a dock's :class:`~._plot.PlotWidget`: the residual curves of
the "SIRT / HEBT" widget and the shifts of the "Align" widget (the α × n heat maps are
drawn by ``_sweep_view``)."""

from __future__ import annotations

import numpy as np

from ..jobs.simulate_align import AlignJobResult
from ._plot import FOREGROUND, LINE, MARK, legend_above

__all__ = ["RESIDUAL_LABEL", "draw_residuals", "plot_shifts"]

#: y label of the residual curves.
RESIDUAL_LABEL = "‖Ax − b‖ / ‖b‖"


def draw_residuals(plot, residuals: dict) -> None:
    """Final relative residuals against iteration, one curve per label, log scale.

    Reuses the live curves of the job (:meth:`~._plot.PlotWidget.start_curves`) when
    their labels match, so the end of a job costs a blit, not a full figure draw.
    """
    if list(plot.curves) != list(residuals):
        n = max((len(v) for v in residuals.values()), default=1)
        plot.start_curves(list(residuals), x_max=n, ylabel=RESIDUAL_LABEL)
    plot.update_curves(residuals)
    plot.finish_curves()


def plot_shifts(plot, result: AlignJobResult, angles=None, truth=None) -> str:
    """Draw dy, dx vs angle (or image index) in a PlotWidget; return a one-line summary.

    ``truth`` (the ``shifts_px`` of a simulation) is drawn dotted, with the y shifts made
    relative to the reference image as the alignment measures them, and the rms error
    of the measured shifts goes into the summary.
    """
    s = result.shifts
    x = np.arange(len(s)) if angles is None else np.asarray(angles)
    plot.reset()
    ax = plot.axes
    ax.plot(x, s[:, 0], "o-", color=LINE, ms=3, lw=1, label="dy (tilt axis)")
    ax.plot(x, s[:, 1], "s-", color=MARK, ms=3, lw=1, label="dx")
    text = (f"{len(s)} images; rms shift dy {np.sqrt(np.mean(s[:, 0] ** 2)):.2f} px, "
            f"dx {np.sqrt(np.mean(s[:, 1] ** 2)):.2f} px")
    if truth is not None and result.reference_index is not None and len(truth) == len(s):
        t = np.asarray(truth, dtype=np.float64).copy()
        t[:, 0] -= t[result.reference_index, 0]
        ax.plot(x, t[:, 0], ":", color=LINE, lw=1.5, label="true dy")
        ax.plot(x, t[:, 1], ":", color=MARK, lw=1.5, label="true dx")
        err = np.sqrt(np.mean((s - t) ** 2, axis=0))
        text += f"; rms error vs the simulation's truth dy {err[0]:.3f} px, dx {err[1]:.3f} px"
    ax.set_xlabel("tilt angle (°)" if angles is not None else "image index")
    ax.set_ylabel("shift (px)")
    ax.legend(fontsize=7, facecolor="#262930", labelcolor=FOREGROUND, edgecolor="#606060")
    legend_above(ax)  # inside the axes it sat on the dy/dx curves
    plot.draw()
    return text
