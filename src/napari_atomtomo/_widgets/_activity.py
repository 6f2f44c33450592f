"""The one adapter between the job runner and napari: everything the runner needs from
napari (its thread worker, progress bars, notifications, the activity spinner) goes
through here, so a napari change touches this module only.

* :func:`make_worker`: napari's generator worker for a job (not started);
* ``progress``, ``show_info``, ``show_error``: napari's progress bar and notifications;
* :class:`CancelableProgress`: napari's bar with its Cancel button, which calls back at
  once (napari's own ``cancelable_progress`` only stops a loop over it);
* :func:`runner_hub`: one Qt object whose ``busy_changed(bool)`` tells every dock widget
  when the plugin-wide single-flight slot is taken or freed;
* :func:`pause_activity_spinner`: pause the animated status-bar GIF while a job runs;
* :func:`warm_activity_dock`: make (and close) one napari progress bar when the first
  widget opens, so that a job's click does not pay for napari's first one.
"""

from __future__ import annotations

from napari.qt.threading import thread_worker
from napari.utils import cancelable_progress, progress
from napari.utils.notifications import show_error, show_info
from qtpy.QtCore import QObject, Signal
from qtpy.QtGui import QMovie
from qtpy.QtWidgets import QApplication, QLabel

__all__ = ["make_worker", "progress", "CancelableProgress", "show_info", "show_error", "runner_hub",
           "pause_activity_spinner", "warm_activity_dock"]

_WARM = False


def make_worker(gen_func, *args, **kwargs):
    """napari's worker running ``gen_func(*args, **kwargs)``, not started. The generator
    must not raise (see :func:`napari_atomtomo.jobs._job_info.with_gui_threads`): errors
    come back as its result, so napari shows no notification of its own."""
    return thread_worker(gen_func, start_thread=False)(*args, **kwargs)


class CancelableProgress(cancelable_progress):
    """A napari ``progress`` whose activity-dock row has a Cancel button.

    napari shows the button for a ``cancelable_progress`` but its ``cancel`` only sets
    ``is_canceled``, which a loop *over the bar* checks; a job runs in a worker and never
    loops over it, so here the button calls ``cancel_callback`` (in the GUI thread)."""

    def cancel(self) -> None:
        if self.is_canceled:
            return
        super().cancel()
        if self.cancel_callback is not None:
            self.cancel_callback()


class _RunnerHub(QObject):
    """Tells every widget when the plugin-wide single-flight slot is taken or freed."""

    busy_changed = Signal(bool)


_HUB: _RunnerHub | None = None


def runner_hub() -> _RunnerHub:
    """The plugin-wide hub whose ``busy_changed(bool)`` signal widgets listen to."""
    global _HUB
    if _HUB is None:
        _HUB = _RunnerHub()
    return _HUB


def pause_activity_spinner() -> None:
    """Pause napari's animated "in progress" GIF in the status bar (it stays visible).

    napari (0.9) starts it for every ``progress`` bar; under software OpenGL (Xvfb,
    remote desktops) each frame recomposes the whole window, which keeps the event loop
    busy 40-55 ms at a time for the whole job. Found through Qt's object tree (the label
    with a running movie inside napari's ``ActivityToggleItem``), not napari's private
    attributes; if napari changes, the spinner just keeps running.
    """
    for top in QApplication.topLevelWidgets():
        for label in top.findChildren(QLabel):
            movie = label.movie()
            if (movie is not None and movie.state() == QMovie.MovieState.Running
                    and type(label.parent()).__name__ == "ActivityToggleItem"):
                movie.setPaused(True)


def warm_activity_dock() -> None:
    """Open and close one napari ``progress`` bar, once per session.

    napari (0.9) builds its activity-dock machinery on the first ``progress`` it shows:
    about 90-130 ms of the GUI thread (a processEvents with a whole-window repaint and a
    canvas resize under software OpenGL), later bars take about 3 ms. Doing it when a
    widget opens keeps it out of the first job's click.
    """
    global _WARM
    if _WARM:
        return
    _WARM = True
    bar = progress(total=1, desc="atomtomo ready")
    bar.close()
