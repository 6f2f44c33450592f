"""The draggable threshold line of :class:`~._plot.PlotWidget` (a mixin).

Expects ``self.figure``, ``self.canvas``, ``self.axes``, the attributes ``_line``,
``_line_axes``, ``_orientation``, ``_dragging``, ``_background``, ``pick_handler`` set by
``PlotWidget.__init__``, and its signals ``threshold_changed``/``threshold_released``.
"""

from __future__ import annotations

from ..plots import DOCK

__all__ = ["ThresholdLineMixin"]

MARK = DOCK.mark


class ThresholdLineMixin:
    """Draw, move and drag one threshold line (blitted while dragging)."""

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
        if event.button == 1 and self.pick_handler is not None and self.pick_handler(event):
            return
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
