"""A matplotlib figure for dock widgets, with an optional draggable threshold line.

One small base for every plot in the plugin (error-metric curves, the sorted peak
intensities of Fig. 3, the V(t) curve of the ESF threshold, SSIM/MSE heat maps).
The threshold line emits ``threshold_changed`` while it is dragged and
``threshold_released`` when the mouse is let go; consumers debounce heavy updates.

Curves that follow a running job (:meth:`PlotWidget.start_curves`,
:meth:`~PlotWidget.update_curves`, :meth:`~PlotWidget.finish_curves`) keep their line
artists and are blitted over a cached background: a full figure draw (text layout,
ticks) costs 70-250 ms of the GUI thread on a loaded machine, a blit about a millisecond;
the axes are redrawn only when a curve leaves them (a new decade, a longer run). While a
job runs, :meth:`~PlotWidget.hold_size` keeps the canvas height, so a status line that
wraps above it moves the canvas instead of resizing (and fully redrawing) it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from qtpy.QtCore import Signal
from qtpy.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from .._colors import curve_color
from ..plots import DOCK, style_axes
from ._plot_canvas import _ApartCanvas
from ._plot_threshold import ThresholdLineMixin

#: Colours that read well on napari's dark theme (:data:`napari_atomtomo.plots.DOCK`).
FACE, FOREGROUND, LINE, MARK = DOCK.face, DOCK.foreground, DOCK.line, DOCK.mark
#: Colours of successive curves.
CURVE_COLOURS = (LINE, MARK, "#60d060", "#d060d0", "#e0c040")
#: Values below this are drawn at this value on a log axis.
LOG_FLOOR = 1e-12


def legend_above(ax, max_columns: int = 4) -> None:
    """Move ``ax``'s legend above the axes, in a row (wrapping after ``max_columns``):
    in a narrow dock a legend inside the axes sits on the data."""
    legend = ax.get_legend()
    if legend is None:
        return
    n = len(legend.legend_handles)
    legend.set_loc("lower left")
    legend.set_bbox_to_anchor((0.0, 1.01))
    legend.set_ncols(max(1, min(n, max_columns)))
    legend.set_frame_on(False)


def _text_key(text) -> tuple:
    """What of a text moves a layout: its string, size, weight and visibility (its place
    too for the free texts, :func:`_texts`; an axis label or title is placed by the draw)."""
    return (text.get_text(), text.get_fontsize(), text.get_fontweight(), text.get_visible())


def _texts(artist) -> tuple:
    return tuple((_text_key(t), t.get_position()) for t in artist.texts)


def _axis_texts(axis) -> tuple:
    """The tick labels ``axis`` will draw (major and minor), from its locators and
    formatters (no rendering), and its tick parameters (label visibility and size)."""
    parts: list = []
    for locator, formatter in ((axis.get_major_locator(), axis.get_major_formatter()),
                               (axis.get_minor_locator(), axis.get_minor_formatter())):
        locs = [float(v) for v in locator()]
        parts += [tuple(locs), tuple(formatter.format_ticks(locs))]
    for which in ("major", "minor"):
        params = axis.get_tick_params(which=which)
        parts.append(tuple(sorted((k, repr(v)) for k, v in params.items())))
    return tuple(parts)


def _legend_key(legend) -> tuple | None:
    if legend is None:
        return None
    return (tuple(_text_key(t) for t in legend.get_texts()), getattr(legend, "_ncols", None),
            getattr(legend, "_loc", None), legend.get_bbox_to_anchor().bounds,
            legend.get_visible())


def layout_signature(fig) -> tuple:
    """What constrained layout depends on: the canvas size, the figure's texts and
    legends, and per axes its texts (labels, titles, texts and legend entries: string,
    font size and weight, visibility), its tick labels (major and minor, with the tick
    parameters: label visibility and size), its legend's placement and where the axes are
    (as the last layout left them). Equal signatures, equal layouts.

    Not included (none changes in these dock plots between layouts; a change of one of
    them keeps the last layout until something listed changes): the font family, style
    and stretch, text rotation and alignment, tick label rotation and padding (set with
    ``Text`` or ``Tick`` methods rather than ``tick_params``), a label's or title's
    padding, artists other than texts and legends outside the axes (annotations with
    ``annotation_clip=False``, an image's extent), and colorbar or inset axes' own
    layout settings beyond their position and texts."""
    parts: list = [tuple(fig.bbox.size), fig.dpi, _texts(fig),
                   tuple(_legend_key(lg) for lg in fig.legends)]
    for ax in fig.axes:
        titles = (ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None))
        parts.append((
            # where the axes are: a new axes (even one at a reused id) is laid out
            id(ax), tuple(ax.get_position(original=True).bounds), ax.get_visible(),
            spec.get_geometry() if (spec := ax.get_subplotspec()) is not None else None,
            _text_key(ax.xaxis.label), _text_key(ax.yaxis.label),
            tuple(None if t is None else _text_key(t) for t in titles),
            ax.get_xscale(), ax.get_yscale(), _texts(ax),
            _axis_texts(ax.xaxis), _axis_texts(ax.yaxis), _legend_key(ax.get_legend())))
    return tuple(parts)


class CachedConstrainedLayout(ConstrainedLayoutEngine):
    """Constrained layout, computed again only when :func:`layout_signature` changes.

    A constrained layout measures every text of the figure twice: 60 % of a full draw of
    these dock plots (0.1-0.25 s each at a Trace job end). A redraw that moves no text (a
    re-coloured scatter, a dragged threshold line, a ringed point, new curve data within
    the same axes limits) keeps the axes where the last layout put them.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._key: tuple | None = None
        #: Layouts computed so far (draws that reused one do not count).
        self.n_layouts = 0

    def execute(self, fig):
        if layout_signature(fig) == self._key:
            return
        super().execute(fig)
        self._key = layout_signature(fig)  # with the axes where this layout put them
        self.n_layouts += 1


class PlotWidget(ThresholdLineMixin, QWidget):
    """A matplotlib canvas sized for a dock.

    Parameters
    ----------
    height : float
        Figure height in inches (the width follows the dock).
    n_axes : int
        Number of side-by-side axes (``self.axes`` is a list when > 1).
    """

    threshold_changed = Signal(float)
    threshold_released = Signal(float)

    def __init__(self, parent=None, *, height: float = 2.4, n_axes: int = 1):
        super().__init__(parent)
        self.figure = Figure(figsize=(4.0, height), facecolor=FACE,
                             layout=CachedConstrainedLayout())
        self.canvas = _ApartCanvas(self.figure)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._min_height = int(height * 60)
        self.canvas.setMinimumHeight(self._min_height)
        axes = [self.figure.add_subplot(1, n_axes, i + 1) for i in range(n_axes)]
        for ax in axes:
            style_axes(ax)
        self.axes = axes[0] if n_axes == 1 else axes
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self._line = None
        self._line_axes = None
        self._orientation = "vertical"
        self._dragging = False
        #: ``event -> bool`` tried first on a press; ``True`` means it took the click
        #: (e.g. a click on a peak selects that atom instead of moving the line).
        self.pick_handler = None
        self._background = None  # cached canvas pixels under the line while dragging
        self.canvas.mpl_connect("button_press_event", self._on_press)
        self.canvas.mpl_connect("motion_notify_event", self._on_motion)
        self.canvas.mpl_connect("button_release_event", self._on_release)
        #: Full figure draws so far (blits do not count).
        self.n_full_draws = 0
        self._curves: dict = {}  # live curves (updated by update_curves)
        self._curve_lines: dict = {}  # the curves' artists, live or finished
        self._curve_key: tuple | None = None
        self._x_starts: dict = {}
        self._curve_axes = None
        self._curve_log = True
        self._curve_background = None
        self.canvas.mpl_connect("draw_event", self._on_draw_event)

    # ------------------------------------------------------------------ live curves
    @property
    def curves(self) -> dict:
        """The live line artists by label (empty when no curves are live)."""
        return dict(self._curves)

    def hold_size(self, hold: bool) -> None:
        """Keep the canvas at its current height (``True``) or let it follow the dock."""
        if hold:
            self.canvas.setFixedHeight(max(self.canvas.height(), self._min_height))
        else:
            self.canvas.setMinimumHeight(self._min_height)
            self.canvas.setMaximumHeight(16_777_215)  # QWIDGETSIZE_MAX

    def prepare_curves(self, labels: Sequence[str], **spec) -> None:
        """Draw the empty axes of an upcoming job now, while nothing runs.

        Same arguments as :meth:`start_curves`. When the job then starts with the same
        arguments, its start costs a blit instead of a full figure draw (50-250 ms on
        this kind of machine). Does nothing while curves are live or when the axes
        already have this layout (finished curves then stay on screen).
        """
        if self._curves or self._same_layout(self._layout_key(labels, **spec)):
            return
        self.start_curves(labels, **spec)
        self._curves = {}  # drawn and ready, but not live

    def start_curves(self, labels: Sequence[str], *, x_max: float, xlabel: str = "iteration",
                     ylabel: str = "", log_y: bool = True,
                     y_range: tuple[float, float] = (1e-3, 1.5),
                     x_starts: Mapping[str, float] | None = None,
                     marks: Sequence[float] = ()) -> None:
        """Empty, animated curves for a job: one per label.

        ``x_max`` is the expected last x (e.g. the number of iterations); ``y_range`` the
        expected values (the axes grow by decades on a log scale when a curve leaves it);
        a curve's values are drawn at ``x_starts[label] + 1, + 2, ...`` (default from 1);
        ``marks`` are x positions of dotted vertical lines (e.g. where a round begins).
        When the axes already have this layout (see :meth:`prepare_curves`, or the
        previous job), the old curves are emptied and the cached background is shown:
        no full figure draw. Otherwise the axes are made anew and drawn once, deferred.
        """
        key = self._layout_key(labels, x_max=x_max, xlabel=xlabel, ylabel=ylabel,
                               log_y=log_y, y_range=y_range, x_starts=x_starts, marks=marks)
        if self._same_layout(key):
            for line in self._curve_lines.values():
                line.set_data([], [])
                line.set_animated(True)
            self._curves = dict(self._curve_lines)
            if self._curve_background is not None:
                self.canvas.restore_region(self._curve_background)
                self.canvas.update()
            else:
                self.canvas.draw_idle()
            return
        fig = self.figure
        fig.clear()
        ax = fig.add_subplot(1, 1, 1)
        style_axes(ax)
        if log_y:
            ax.set_yscale("log")
        ax.set_xlim(0, max(float(x_max), 1.0) + 1)
        ax.set_ylim(*y_range)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        for x in marks:
            ax.axvline(x, color=FOREGROUND, lw=0.6, ls=":")
        self._curve_lines = {
            label: ax.plot([], [], color=curve_color(label, CURVE_COLOURS[i % len(CURVE_COLOURS)]),
                           lw=1.2, label=label, animated=True)[0]
            for i, label in enumerate(labels)
        }
        if len(self._curve_lines) > 1:
            ax.legend(fontsize=7, facecolor=FACE, labelcolor=FOREGROUND, edgecolor="#606060")
            legend_above(ax)
        self._curves = dict(self._curve_lines)
        self._x_starts = {k: float(v) for k, v in (x_starts or {}).items()}
        self.axes, self._curve_axes, self._curve_log = ax, ax, log_y
        self._curve_key = key
        self._line = self._line_axes = None
        self._curve_background = None
        self.canvas.draw_idle()

    @staticmethod
    def _layout_key(labels, *, x_max, xlabel="iteration", ylabel="", log_y=True,
                    y_range=(1e-3, 1.5), x_starts=None, marks=()) -> tuple:
        return (tuple(labels), float(x_max), xlabel, ylabel, bool(log_y),
                tuple(float(v) for v in y_range),
                tuple(sorted((k, float(v)) for k, v in (x_starts or {}).items())),
                tuple(float(x) for x in marks))

    def _same_layout(self, key: tuple) -> bool:
        ax = self._curve_axes
        return key == self._curve_key and ax is not None and ax in self.figure.axes

    def update_curves(self, curves: Mapping[str, Sequence[float]]) -> bool:
        """Show the values of each curve; ``True`` if blitted.

        Labels that were not given to :meth:`start_curves` are ignored. When a curve
        leaves the axes they grow (x doubles; y by whole decades on a log scale) and one
        full draw is scheduled instead (``False``).
        """
        if not self._curves:
            return False
        ax = self._curve_axes
        x_hi, (y_lo, y_hi) = ax.get_xlim()[1], ax.get_ylim()
        grow = False
        for label, values in curves.items():
            line = self._curves.get(label)
            if line is None:
                continue
            y = np.asarray(values, dtype=float)
            if self._curve_log:
                y = np.maximum(y, LOG_FLOOR)
            start = self._x_starts.get(label, 0.0)
            line.set_data(start + np.arange(1, y.size + 1), y)
            finite = y[np.isfinite(y)]
            if start + y.size + 1 > x_hi:
                x_hi, grow = 2 * (start + y.size) + 1, True
            if finite.size and finite.min() < y_lo:
                y_lo = 10.0 ** math.floor(math.log10(finite.min())) if self._curve_log else (
                    finite.min() - 0.1 * (y_hi - finite.min()))
                grow = True
            if finite.size and finite.max() > y_hi:
                y_hi = 10.0 ** math.ceil(math.log10(finite.max())) if self._curve_log else (
                    finite.max() + 0.1 * (finite.max() - y_lo))
                grow = True
        if grow or self._curve_background is None:
            ax.set_xlim(0, x_hi)
            ax.set_ylim(y_lo, y_hi)
            self._curve_background = None
            self.canvas.draw_idle()  # _on_draw_event draws the curves on the new axes
            return False
        self.canvas.restore_region(self._curve_background)
        for line in self._curves.values():
            ax.draw_artist(line)
        # A deferred repaint of the agg buffer (``blit`` repaints at once, and every
        # repaint recomposes the window under software OpenGL): Qt merges it with the
        # other changes of this event-loop pass.
        self.canvas.update()
        return True

    def finish_curves(self) -> None:
        """Make the curves ordinary artists again (no redraw: the screen shows them).

        The cached background stays valid until the next full draw, so the next job
        with the same layout starts with a blit.
        """
        for line in self._curves.values():
            line.set_animated(False)
        self._curves = {}

    def _on_draw_event(self, _event) -> None:
        self.n_full_draws += 1
        lines = list(self._curve_lines.values())
        ax = self._curve_axes
        if lines and ax is not None and ax in self.figure.axes and all(
                line.get_animated() for line in lines):
            self._curve_background = self.canvas.copy_from_bbox(ax.bbox)
            for line in lines:
                ax.draw_artist(line)
        else:  # the finished curves are part of this picture: no clean background
            self._curve_background = None

    # ------------------------------------------------------------------ helpers
    def reset(self, n_axes: int | None = None) -> None:
        """Clear all axes (keeps styling); the threshold line is dropped."""
        axes = self.axes if isinstance(self.axes, list) else [self.axes]
        for ax in axes:
            ax.clear()
            style_axes(ax)
        self._line = None
        self._line_axes = None
        self._curves = {}
        self._curve_lines = {}
        self._curve_key = None
        self._curve_background = None

    def draw(self) -> None:
        self.canvas.draw_idle()
