"""The Qt Agg canvas of :class:`~._plot.PlotWidget`: idle draws one per event-loop turn."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.colors import to_hex
from qtpy.QtCore import QTimer
from qtpy.QtGui import QColor, QImage, QPainter

from ..jobs._job_info import SEPARATE_TURN_MS

__all__ = ["_ApartCanvas", "run_apart"]

#: Canvases with an idle draw pending, drawn one per event-loop turn (:class:`_ApartCanvas`),
#: and steps queued with them (:func:`run_apart`).
_IDLE_DRAWS: list = []


def _draw_next_idle() -> None:
    """Draw the first pending canvas (or run the first queued step, see
    :func:`run_apart`); the next one a real event-loop turn later (a zero timer was not
    enough: Qt delivered two chained draws within one stall).

    The queue is shared by every plot of the session and only restarted when it was
    empty: so a failing step is reported, not raised, and the next turn is set whatever
    happened (else every dock plot and the canvas legend would stop drawing for good)."""
    try:
        while _IDLE_DRAWS:
            item = _IDLE_DRAWS.pop(0)
            try:
                if not isinstance(item, _ApartCanvas):
                    item()
                    break
                pending = item._draw_pending
                item._draw_idle()
            except RuntimeError:  # its Qt widget is gone
                continue
            except Exception as exc:  # noqa: BLE001 (reported: the queue must go on)
                _report(exc)
                break
            if pending:
                break
    finally:
        if _IDLE_DRAWS:
            QTimer.singleShot(SEPARATE_TURN_MS, _draw_next_idle)


def _report(exc: Exception) -> None:
    """Tell the user a queued plot step failed (napari's notification, and the log)."""
    import logging  # noqa: PLC0415

    from napari.utils.notifications import show_error  # noqa: PLC0415

    logging.getLogger(__name__).error("a queued plot update failed", exc_info=exc)
    show_error(f"a plot update failed: {type(exc).__name__}: {exc}")


def run_apart(step) -> None:
    """Run ``step()`` in an event-loop turn of its own, queued with the plots' idle draws
    (e.g. the canvas legend's new text overlays: never in the turn of a plot draw)."""
    _IDLE_DRAWS.append(step)
    if len(_IDLE_DRAWS) == 1:
        QTimer.singleShot(SEPARATE_TURN_MS, _draw_next_idle)


class _ApartCanvas(FigureCanvasQTAgg):
    """A Qt Agg canvas whose idle draws wait for each other's event-loop turn.

    matplotlib's ``draw_idle`` posts a zero-time timer per canvas, and Qt runs all of them
    in one turn: a job end that updates three plots (Trace: peaks, g(r), deviations) paid
    three full draws (~0.1-0.2 s each, constrained layout) as one 0.5 s stall. Queued, the
    longest stall is one draw. The first draw waits a real turn too: a zero timer is a
    posted event, run in the same stall as the code that asked for the draw (a plot's new
    artists, 30-50 ms at a Trace job end). Nor does a repaint draw a canvas whose draw is
    queued (matplotlib's ``paintEvent`` would): it shows the last picture until its turn.
    """

    def draw_idle(self):
        if getattr(self, "_draw_pending", False) or getattr(self, "_is_drawing", False):
            return
        self._draw_pending = True
        run_apart(self)  # a real turn: not in the stall that asked for it

    def draw(self):
        """Render now; show it a real turn later. matplotlib's ``draw`` asks Qt to repaint
        the canvas at once, and under software OpenGL that repaint recomposes the whole
        window (~0.1 s): with the draw (50-80 ms) it made one stall of a Trace job end."""
        self._hold_update = True  # matplotlib's draw ends with self.update()
        try:
            super().draw()
        finally:
            self._hold_update = False
        QTimer.singleShot(SEPARATE_TURN_MS, self._show_drawn)

    def update(self, *args):
        if not getattr(self, "_hold_update", False):
            super().update(*args)

    def _show_drawn(self) -> None:
        try:
            self.update()
        except RuntimeError:  # its Qt widget is gone
            pass

    def paintEvent(self, event):
        """The last picture (none yet: the face colour) while a draw waits for its turn;
        else matplotlib's paint.

        Qt paints a resized canvas in the window's repaint, and matplotlib's paint draws
        a pending figure there: the job end's plots, resized when the deviation and
        g(r) plots appear, were drawn there three in one stall (0.1-0.2 s each)."""
        if not getattr(self, "_draw_pending", False):
            super().paintEvent(event)
            return
        renderer = getattr(self, "renderer", None)  # none before the first draw
        painter = QPainter(self)
        try:
            painter.fillRect(event.rect(), QColor(to_hex(self.figure.get_facecolor())))
            if renderer is not None:
                buf = np.ascontiguousarray(renderer.buffer_rgba())
                height, width = buf.shape[:2]
                data = buf.tobytes()  # alive until the painter is done
                image = QImage(data, width, height, 4 * width, QImage.Format.Format_RGBA8888)
                image.setDevicePixelRatio(self.device_pixel_ratio)
                painter.drawImage(0, 0, image)
        finally:
            painter.end()
