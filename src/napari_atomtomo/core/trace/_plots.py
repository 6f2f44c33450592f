"""The Fig. 3-style plot of a tracing: peak intensity against peak rank."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_peak_intensities"]


def plot_peak_intensities(result, ax=None, title: str | None = None):
    """Sorted peak intensities of a :class:`TraceResult`, coloured by element (paper 000, Fig. 3).

    The element thresholds are drawn as dashed lines and the noise floor as a dotted one.
    Draws on ``ax`` if given, else on a new ``matplotlib.figure.Figure`` (no pyplot, no
    GUI backend); returns the figure.
    """
    from matplotlib.figure import Figure

    from ..._colors import element_color

    fig = ax.figure if ax is not None else Figure(figsize=(6, 3.2), layout="constrained")
    ax = ax if ax is not None else fig.add_subplot()
    inten = np.asarray(result.sorted_intensities)
    els = result.atoms.elements
    rank = np.arange(1, inten.size + 1)
    for el in result.params.elements:
        sel = els == el
        if sel.any():
            ax.scatter(rank[sel], inten[sel], s=6, color=element_color(el), edgecolors="k",
                       linewidths=0.2, label=f"{el} ({int(sel.sum())})")
    for i, t in enumerate(result.split_thresholds):
        if np.isfinite(t):
            ax.axhline(t, color="0.2", ls="--", lw=0.8,
                       label="threshold" if i == 0 else None)
    ax.axhline(result.noise_floor, color="0.5", ls=":", lw=0.8, label="noise floor")
    ax.set_xlabel("peak (atom) number, brightest first")
    ax.set_ylabel("peak intensity")
    ax.set_xlim(0, max(inten.size, 1) + 1)
    ax.legend(fontsize=7, loc="upper right", markerscale=1.5)
    if title:
        ax.set_title(title, fontsize=9)
    return fig
