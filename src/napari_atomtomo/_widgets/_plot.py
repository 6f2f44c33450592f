"""A matplotlib figure for dock widgets, with an optional draggable threshold line.

One small base for every plot in the plugin (error-metric curves, the sorted peak
intensities of Fig. 3, the V(t) curve of the ESF threshold, SSIM/MSE heat maps).
The threshold line emits ``threshold_changed`` while it is dragged and
``threshold_released`` when the mouse is let go; consumers debounce heavy updates.
"""

from __future__ import annotations

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from qtpy.QtCore import Signal
from qtpy.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

#: Colours that read well on napari's dark theme.
FACE = "#262930"
FOREGROUND = "#d0d0d0"
LINE = "#00a0ff"
MARK = "#ff6040"


def style_axes(ax) -> None:
    """Dark-theme styling for one axes (labels, ticks, spines)."""
    ax.set_facecolor(FACE)
    ax.tick_params(colors=FOREGROUND, labelsize=8)
    for spine in ax.spines.values():
        spine.set_color(FOREGROUND)
    ax.xaxis.label.set_color(FOREGROUND)
    ax.yaxis.label.set_color(FOREGROUND)
    ax.title.set_color(FOREGROUND)


class PlotWidget(QWidget):
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
        self.figure = Figure(figsize=(4.0, height), facecolor=FACE, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.canvas.setMinimumHeight(int(height * 60))
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
        self._background = None  # cached canvas pixels under the line while dragging
        self.canvas.mpl_connect("button_press_event", self._on_press)
        self.canvas.mpl_connect("motion_notify_event", self._on_motion)
        self.canvas.mpl_connect("button_release_event", self._on_release)

    # ------------------------------------------------------------------ threshold line
    @property
    def threshold(self) -> float | None:
        if self._line is None:
            return None
        data = self._line.get_xdata() if self._orientation == "vertical" else self._line.get_ydata()
        return float(data[0])

    def set_threshold_line(self, value: float, *, ax=None, orientation: str = "vertical",
                           label: str | None = None) -> None:
        """Draw (or move) the draggable threshold line at ``value``."""
        ax = ax if ax is not None else (self.axes if not isinstance(self.axes, list) else self.axes[0])
        if self._line is not None and (self._line_axes is not ax or self._line not in ax.lines):
            self._line = None
        self._orientation = orientation
        if self._line is None:
            draw = ax.axvline if orientation == "vertical" else ax.axhline
            self._line = draw(value, color=MARK, lw=1.5, ls="--", label=label, picker=5)
            self._line_axes = ax
        elif orientation == "vertical":
            self._line.set_xdata([value, value])
        else:
            self._line.set_ydata([value, value])
        self.canvas.draw_idle()

    def clear_threshold_line(self) -> None:
        if self._line is not None:
            try:
                self._line.remove()
            except ValueError:
                pass
        self._line = None
        self.canvas.draw_idle()

    def _event_value(self, event) -> float | None:
        if event.inaxes is None or event.inaxes is not self._line_axes:
            return None
        return event.xdata if self._orientation == "vertical" else event.ydata

    def _on_press(self, event) -> None:
        if self._line is None or event.button != 1:
            return
        value = self._event_value(event)
        if value is None:
            return
        # Click anywhere in the axes moves the line there, then drag. While dragging,
        # only the line is redrawn over a cached background (blitting): a full figure
        # draw costs ~70 ms, the blit ~1 ms.
        self._dragging = True
        self._line.set_animated(True)
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._move(value)

    def _on_motion(self, event) -> None:
        if self._dragging:
            value = self._event_value(event)
            if value is not None:
                self._move(value)

    def _on_release(self, event) -> None:
        if self._dragging:
            self._dragging = False
            self._background = None
            if self._line is not None:
                self._line.set_animated(False)
            self.canvas.draw_idle()
            self.threshold_released.emit(self.threshold)

    def _move(self, value: float) -> None:
        if self._dragging and self._background is not None:
            data = [float(value), float(value)]
            (self._line.set_xdata if self._orientation == "vertical" else self._line.set_ydata)(data)
            self.canvas.restore_region(self._background)
            self._line_axes.draw_artist(self._line)
            self.canvas.blit(self.figure.bbox)
        else:
            self.set_threshold_line(float(value), ax=self._line_axes, orientation=self._orientation)
        self.threshold_changed.emit(float(value))

    # ------------------------------------------------------------------ helpers
    def reset(self, n_axes: int | None = None) -> None:
        """Clear all axes (keeps styling); the threshold line is dropped."""
        axes = self.axes if isinstance(self.axes, list) else [self.axes]
        for ax in axes:
            ax.clear()
            style_axes(ax)
        self._line = None
        self._line_axes = None

    def draw(self) -> None:
        self.canvas.draw_idle()
