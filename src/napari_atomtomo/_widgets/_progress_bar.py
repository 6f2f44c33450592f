"""The runner's progress bar (:class:`LazyProgressBar`) and error line (:class:`ErrorLabel`)."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QLabel, QProgressBar

__all__ = ["ErrorLabel", "LazyProgressBar"]


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


class ErrorLabel(QLabel):
    """A failed job's whole sentence, wrapped and selectable; hidden until a job fails
    (the runner's status line keeps its two lines for progress, so it cannot hold it)."""

    def __init__(self, parent=None):
        super().__init__("", parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setStyleSheet("color: #f07070")
        self.setVisible(False)

    def show_error(self, exc: BaseException) -> None:
        self.setText(str(exc) or type(exc).__name__)
        self.setVisible(True)
