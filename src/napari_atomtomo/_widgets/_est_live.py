"""What the EST widget shows while a job runs: the error history, the error curves of
both rounds, and the central-slice thumbnail.

Everything here must be cheap for the GUI thread (issue 7: no event-loop stall over
50 ms during a job). The curves go to a :class:`~._plot.PlotWidget` whose axes are drawn
before the job (:meth:`~._plot.PlotWidget.prepare_curves`) and then only blitted; the
central xy | xz | yz slices are shown in the dock as a small picture (a napari layer
would cost 0.1-0.2 s to make and as much to remove).
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtGui import QImage, QPixmap
from qtpy.QtWidgets import QLabel, QSizePolicy

__all__ = ["SliceThumbnail", "central_slices", "curve_layout", "error_curves", "ROUND_1",
           "ROUND_2"]

ROUND_1, ROUND_2 = "round 1 (loose)", "round 2 (tight)"





def central_slices(volume: np.ndarray, gap: int = 1) -> np.ndarray:
    """The central xy, xz and yz slices of a ``(z, y, x)`` volume side by side (2D),
    separated by ``gap`` columns at the slices' maximum (bright lines); zero padding."""
    nz, ny, nx = volume.shape
    panels = (volume[nz // 2], volume[:, ny // 2, :], volume[:, :, nx // 2])
    out = np.zeros((max(ny, nz), 2 * nx + ny + 2 * gap), dtype=np.float32)
    out[:, nx: nx + gap] = out[:, 2 * nx + gap: 2 * (nx + gap)] = max(p.max() for p in panels)
    col = 0
    for panel in panels:
        out[: panel.shape[0], col: col + panel.shape[1]] = panel
        col += panel.shape[1] + gap
    return out


def curve_layout(n_iter: int, n_iter_tight: int) -> tuple[list[str], dict]:
    """Labels and :meth:`~._plot.PlotWidget.start_curves` arguments of the error plot:
    relative error (log) against iteration, round 2 after round 1, a dotted line between."""
    labels = [label for label, n in ((ROUND_1, n_iter), (ROUND_2, n_iter_tight)) if n]
    both = bool(n_iter and n_iter_tight)
    return labels, dict(x_max=n_iter + n_iter_tight, ylabel="relative error",
                        x_starts={ROUND_2: n_iter}, marks=(n_iter + 0.5,) if both else ())


def error_curves(errors, n_iter: int) -> dict[str, np.ndarray]:
    """The error history split by round (``n_iter`` iterations in round 1)."""
    e = np.asarray(errors, dtype=float)
    curves = {ROUND_1: e[:n_iter]} if n_iter else {}
    if e.size > n_iter:
        curves[ROUND_2] = e[n_iter:]
    return curves


class SliceThumbnail(QLabel):
    """A small grey-scale picture of a 2D array (the central-slice montage) in the dock.

    Updating it converts about 30 000 pixels to bytes: well under a millisecond, where a
    napari layer costs 0.1-0.2 s to make and as much to remove.
    """

    def __init__(self, parent=None, *, height: int = 96):
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFixedHeight(height)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setToolTip("central xy | xz | yz slices of the current volume")
        self.image: np.ndarray | None = None  # the 8-bit picture shown (for tests)
        self._volume: np.ndarray | None = None

    def show_volume(self, volume: np.ndarray) -> None:
        """Show :func:`central_slices` of ``volume``, unless it is the volume shown."""
        if volume is not self._volume:
            self._volume = volume
            self.show_array(central_slices(volume))

    def show_array(self, array: np.ndarray) -> None:
        """Show ``array`` scaled to its own min..max, fitted into the label."""
        a = np.asarray(array, dtype=np.float32)
        lo, hi = float(a.min()), float(a.max())
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        img = np.ascontiguousarray(((a - lo) * scale).astype(np.uint8))
        self.image = img
        qimage = QImage(img.data, img.shape[1], img.shape[0], img.strides[0],
                        QImage.Format.Format_Grayscale8)
        pixmap = QPixmap.fromImage(qimage)  # copies the pixels
        width = max(self.width(), 1)
        self.setPixmap(pixmap.scaled(width, self.height(), Qt.AspectRatioMode.KeepAspectRatio,
                                     Qt.TransformationMode.FastTransformation))

    def clear_picture(self) -> None:
        self.image = self._volume = None
        self.clear()
