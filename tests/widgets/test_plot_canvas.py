"""The plots' shared idle-draw queue (``_widgets._plot_canvas``)."""

from __future__ import annotations

from matplotlib.figure import Figure
from napari.utils.notifications import NotificationSeverity, notification_manager

from napari_atomtomo._widgets._plot_canvas import _IDLE_DRAWS, _ApartCanvas, run_apart


def test_a_failing_queued_step_is_reported_and_the_queue_goes_on(qtbot):
    """A step that raised used to leave before the next turn was set: the canvas queued
    behind it, and every later draw of the session, never ran."""
    canvas = _ApartCanvas(Figure())
    qtbot.addWidget(canvas)
    canvas.resize(120, 80)
    drawn, seen = [], []
    canvas.mpl_connect("draw_event", drawn.append)
    notification_manager.notification_ready.connect(seen.append)
    try:
        def broken():
            raise ValueError("no legend today")

        run_apart(broken)
        canvas.draw_idle()  # queued behind the failing step
        qtbot.waitUntil(lambda: bool(drawn) and not _IDLE_DRAWS)
        canvas.draw_idle()  # and the queue still runs later draws
        qtbot.waitUntil(lambda: len(drawn) == 2 and not _IDLE_DRAWS)
    finally:
        notification_manager.notification_ready.disconnect(seen.append)
    errors = [n for n in seen if n.severity == NotificationSeverity.ERROR]
    assert len(errors) == 1 and "no legend today" in errors[0].message
