"""The α × n sweep's heat maps in the SIRT / HEBT dock: readable and clickable.

Each score is a heat map with its value written in every cell (≥ 9 pt text, colour
chosen against the cell), the best cell ringed, and the colour bar beside it. A click on
a cell runs HEBT with that cell's α and n (with the sweep's response ratios, so the
result is the one that was scored) and shows its maps as ``map_<El>``; the clicked cell
is framed on every heat map.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.patches import Rectangle
from qtpy.QtWidgets import QLabel

from ..core.hebt import HebtParams
from ..jobs.reconstruction import iter_reconstruction
from ..jobs.sweep import SweepResult
from ._plot import FOREGROUND, MARK, style_axes

__all__ = ["draw_sweep_cells", "cell_at", "SweepClicks", "FONT_PT", "ROW_HEIGHT_PX"]

#: Smallest text size on the heat maps (ticks, cell values), points.
FONT_PT = 9
#: Canvas height per row of heat maps, pixels.
ROW_HEIGHT_PX = 170


def draw_sweep_cells(plot, result: SweepResult, picked: tuple[int, int] | None = None) -> None:
    """Heat maps of ``result`` in ``plot`` with cell values; frame cell ``picked``
    (row = index of n, column = index of α) when given."""
    fig = plot.figure
    fig.clear()
    names = list(result.metrics)
    n_cols = 1  # one heat map a row: the dock's width for the cells and their values
    n_rows = math.ceil(len(names) / n_cols)
    plot.setFixedHeight(ROW_HEIGHT_PX * n_rows + 10)
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    a, n = result.alphas, result.n_values
    for ax, name in zip(axes, names):
        style_axes(ax)
        ax.tick_params(labelsize=FONT_PT)
        values = result.metrics[name]
        higher = name.startswith("SSIM")  # SSIM: higher is better; the others lower
        finite = values[np.isfinite(values)]
        limits = (None, None)
        if finite.size > 4:  # leave out the worst fifth (e.g. α = 1), which flattens the rest
            limits = ((np.percentile(finite, 20), finite.max()) if higher
                      else (finite.min(), np.percentile(finite, 80)))
        im = ax.imshow(values, origin="lower", aspect="auto", interpolation="nearest",
                       cmap="viridis" if higher else "viridis_r", vmin=limits[0], vmax=limits[1])
        step = max(1, math.ceil(a.size / 6))  # at most ~6 α labels: they stay readable
        ax.set_xticks(range(0, a.size, step), [f"{v:g}" for v in a[::step]], fontsize=FONT_PT)
        ax.set_yticks(range(n.size), [str(v) for v in n], fontsize=FONT_PT)
        ax.set_xlabel("α", fontsize=FONT_PT)
        ax.set_ylabel("n", fontsize=FONT_PT)
        # small scores (MSE ~ 0.005) are written x 10^k so that they fit their cells
        top = float(np.nanmax(np.abs(finite))) if finite.size else 1.0
        k = int(math.floor(math.log10(top))) if top > 0 else 0
        factor = 10.0 ** -k if k <= -2 else 1.0
        title = name if factor == 1.0 else f"{name} (×10{_superscript(k)})"
        ax.set_title(title, fontsize=FONT_PT + 1, color=FOREGROUND)
        if a.size * n.size <= 60:  # values in the cells while they fit
            norm = im.norm
            for r in range(n.size):
                for c in range(a.size):
                    v = values[r, c]
                    if not np.isfinite(v):
                        continue
                    # viridis is light at the top, viridis_r at the bottom
                    dark = norm(v) > 0.6 if higher else norm(v) < 0.4
                    ax.text(c, r, f"{v * factor:.2g}", ha="center", va="center", fontsize=FONT_PT - 1
                            if a.size > 6 else FONT_PT, color="#101010" if dark else "#f0f0f0")
        if np.isfinite(values).any():
            best = np.nanargmax(values) if higher else np.nanargmin(values)
            r, c = np.unravel_index(best, values.shape)
            ax.plot(c, r, marker="o", mfc="none", mec=MARK, ms=14, mew=2)
        if picked is not None:
            ax.add_patch(Rectangle((picked[1] - 0.5, picked[0] - 0.5), 1, 1, fill=False,
                                   ec="#ffffff", lw=2.5))
        bar = fig.colorbar(im, ax=ax)
        bar.ax.tick_params(colors=FOREGROUND, labelsize=FONT_PT)
        bar.outline.set_edgecolor(FOREGROUND)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    plot.axes = list(axes[: len(names)])
    plot.canvas.draw_idle()


def _superscript(k: int) -> str:
    return str(k).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def cell_at(result: SweepResult, xdata: float, ydata: float) -> tuple[int, int] | None:
    """The ``(row, column)`` of the heat-map cell at data coordinates, or ``None``."""
    c, r = int(round(xdata)), int(round(ydata))
    if 0 <= r < result.n_values.size and 0 <= c < result.alphas.size:
        return r, c
    return None


class SweepClicks:
    """Runs the result of a clicked heat-map cell in the SIRT / HEBT dock ``dock``."""

    def __init__(self, dock):
        self.dock = dock
        self.picked: tuple[int, int] | None = None
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setVisible(False)
        layout = dock.layout()
        layout.insertWidget(layout.indexOf(dock.plot) + 1, self.note)
        dock.plot.canvas.mpl_connect("button_press_event", self._on_press)

    def draw(self, result: SweepResult) -> None:
        self.picked = None
        draw_sweep_cells(self.dock.plot, result)
        self.note.setText("click a cell to show its maps")
        self.note.setVisible(True)

    def hide(self) -> None:
        self.note.setVisible(False)

    def _on_press(self, event) -> None:
        dock, result = self.dock, self.dock.last_sweep
        if (result is None or event.inaxes not in list(dock.plot.axes or [])
                or event.xdata is None or dock.runner.busy):
            return
        cell = cell_at(result, event.xdata, event.ydata)
        if cell is not None:
            self.show_cell(*cell)

    def show_cell(self, row: int, col: int) -> None:
        """Run HEBT with cell (row, col)'s α and n and show its maps."""
        dock, result = self.dock, self.dock.last_sweep
        alpha, n_iter = float(result.alphas[col]), int(result.n_values[row])
        g = dock.gather()
        p = HebtParams(alpha=round(alpha, 4), n_iter=n_iter, relaxation=g["params"].relaxation,
                       yield_every=max(1, n_iter // 25))
        g.update(params=p, ratios_used=result.ratios, r2=result.r2)
        self.picked = (row, col)
        draw_sweep_cells(dock.plot, result, self.picked)
        self.note.setText(f"cell α = {alpha:g}, n = {n_iter}: HEBT with the sweep's ratios "
                          "→ map_<El>")

        def on_result(res):
            return [dock._map_layer(name, vol, g, "hebt") for name, vol in res.maps.items()]

        dock.runner.run(iter_reconstruction, "hebt", g["stacks"], g["angles"], p,
                        haadf=g["haadf"], ratios=dict(result.ratios),
                        label=f"HEBT α{alpha:g} n{n_iter}", total=n_iter, on_result=on_result)
