"""What the screenshot scripts share: run a widget's job, let Qt settle, save the window.

The scripts run as ``xvfb-run -a .venv/bin/python docs/guide/shoot_<name>.py``, so this
folder is on ``sys.path`` and they import it as ``_shoot``.
"""

from __future__ import annotations

import time
from pathlib import Path

from qtpy.QtWidgets import QApplication


def settle(n: int = 30, pause_s: float = 0.02) -> None:
    """Process Qt events ``n`` times (layers drawn, docks laid out)."""
    for _ in range(n):
        QApplication.processEvents()
        time.sleep(pause_s)


def wait_until(condition, timeout_s: float = 120.0, what: str = "the job") -> None:
    """Process Qt events until ``condition()`` holds; ``TimeoutError`` after ``timeout_s``."""
    t0 = time.perf_counter()
    while not condition():
        QApplication.processEvents()
        time.sleep(0.02)
        if time.perf_counter() - t0 > timeout_s:
            raise TimeoutError(f"{what} did not finish in {timeout_s:g} s")


def run_widget_job(widget, timeout_s: float = 120.0) -> None:
    """Click the widget's Run button and wait until its job has finished."""
    done = []
    widget.runner.finished.connect(done.append)
    widget.run_button.click()
    wait_until(lambda: bool(done), timeout_s, f"the {type(widget).__name__} job")


def save_window(viewer, out: Path) -> Path:
    """Grab the whole napari window (canvas and docks) as a PNG at ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    viewer.window._qt_window.grab().save(str(out))
    return out
