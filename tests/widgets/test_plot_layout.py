"""The cached constrained layout (``_widgets/_plot.CachedConstrainedLayout``) is computed
again when anything it places changes: a text's size, weight or visibility, minor tick
labels, tick-label visibility, a figure legend."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MultipleLocator

from napari_atomtomo._widgets._plot import CachedConstrainedLayout


@pytest.fixture
def fig():
    figure = Figure(figsize=(4, 3), layout=CachedConstrainedLayout())
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.plot(np.arange(10), np.arange(10) ** 2, label="curve")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    figure.canvas.draw()
    return figure


def _layouts_after(fig, change) -> int:
    engine = fig.get_layout_engine()
    before = engine.n_layouts
    fig.canvas.draw()
    assert engine.n_layouts == before  # nothing changed: the cached layout
    change(fig)
    fig.canvas.draw()
    return engine.n_layouts - before


def test_a_font_size_weight_or_visibility_change_is_laid_out(fig):
    ax = fig.axes[0]
    assert _layouts_after(fig, lambda f: ax.xaxis.label.set_fontsize(22)) == 1
    assert _layouts_after(fig, lambda f: ax.yaxis.label.set_fontweight("bold")) == 1
    assert _layouts_after(fig, lambda f: ax.yaxis.label.set_visible(False)) == 1
    ax.set_title("t")
    fig.canvas.draw()
    assert _layouts_after(fig, lambda f: ax.title.set_fontsize(20)) == 1


def test_a_figure_legend_is_laid_out(fig):
    assert _layouts_after(fig, lambda f: f.legend(loc="outside upper center")) == 1


def test_minor_tick_labels_and_tick_label_visibility_are_laid_out(fig):
    ax = fig.axes[0]
    assert _layouts_after(fig, lambda f: ax.tick_params(labelleft=False)) == 1
    assert _layouts_after(fig, lambda f: ax.tick_params(labelsize=15)) == 1
    ax.tick_params(labelleft=True)
    ax.yaxis.set_minor_locator(MultipleLocator(5.0))  # minor ticks, no labels yet
    fig.canvas.draw()
    assert _layouts_after(fig, lambda f: ax.yaxis.set_minor_formatter(
        FuncFormatter(lambda v, _: f"{v:.0f} (a long minor label)"))) == 1
