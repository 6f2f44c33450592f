"""The runner's progress bar (see :class:`LazyProgressBar`)."""

from __future__ import annotations

from qtpy.QtWidgets import QProgressBar

__all__ = ["LazyProgressBar"]


class LazyProgressBar(QProgressBar):
    """A progress bar that schedules its repaint instead of repainting at once.

    ``QProgressBar.setValue`` repaints synchronously when its text changes; in napari's
    OpenGL-composited main window that is a whole-window recomposition (20–45 ms under
    software OpenGL) inside the yield handler, on top of the next regular repaint.
    ``setRange`` (busy bar to counting bar and back, at a job's start and end) likewise.
    """

    def setRange(self, minimum: int, maximum: int) -> None:  # noqa: N802 (Qt name)
        self.setUpdatesEnabled(False)
        try:
            super().setRange(minimum, maximum)
        finally:
            self.setUpdatesEnabled(True)

    def setValue(self, value: int) -> None:  # noqa: N802 (Qt name)
        self.setUpdatesEnabled(False)
        try:
            super().setValue(value)
        finally:
            self.setUpdatesEnabled(True)  # schedules one ordinary, coalesced update()
