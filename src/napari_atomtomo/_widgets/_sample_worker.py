"""Every sample made in a worker thread, with progress, so napari's window never freezes.

napari calls a sample function in the GUI thread and needs layer data back. Computing
the samples there stalled the window 0.5-0.8 s each (idle machine; the SiO2
reconstruction 15-40 s the first time). So each entry of ``File ▸ Open Sample`` here:

1. returns at once one small placeholder image (``<first layer> (computing…)``, a
   1 × … × 1 array with the axes of that layer);
2. a turn after napari has added and painted the placeholder (:func:`_start_later`),
   imports and runs the synchronous sample function (:mod:`napari_atomtomo._sample_data`,
   :mod:`napari_atomtomo._sample_silica`) in a :class:`~._runner.JobRunner` job: a
   worker thread, with a bar (and a Cancel button) in napari's activity dock when it
   takes longer than the runner's ``QUICK_JOB_ACTIVITY_AFTER_S``; the bar is made and moved in the GUI
   thread (the placeholder's name says it is computing); the
   images' contrast limits are computed there too;
3. puts the layers into the viewer one per event-loop turn (the runner's result path):
   the placeholder gets the first layer's attributes while it is one voxel, then its
   array, so napari neither removes it nor makes that layer anew; last, a 2D data set
   (the Ag-Au phantom) is shown in its z-x view (:func:`._tilt_readout.show_2d_planes`),
   with or without a dock open.

Without a viewer (scripts) the sample is computed synchronously. While another atomtomo
job holds the single-flight slot (numba kernels run one at a time), at the click or
after it, the sample waits for the slot with its placeholder shown (:func:`_start_later`);
computed in the GUI thread instead, the SiO2 reconstruction froze the window 15-40 s.
Tests wait for :func:`running_samples` to be empty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qtpy.QtCore import QTimer

from .._layers import with_contrast_limits
from ..jobs._job_info import SEPARATE_TURN_MS
from ._runner import QUICK_JOB_ACTIVITY_AFTER_S, JobRunner
from ._tilt_readout import show_2d_planes

__all__ = ["make_blob_tilt_series", "make_synthetic_atoms_volume", "make_agau_phantom",
           "make_silica_tilt_series", "make_silica_reconstruction", "placeholder_name",
           "running_samples", "running_workers", "PLACEHOLDER"]

#: Suffix of a placeholder layer's name while its sample is computed.
COMPUTING = " (computing…)"
#: Name of the SiO2 reconstruction's placeholder (its first layer is ``est``).
PLACEHOLDER = "est" + COMPUTING
_RUNNERS: list[JobRunner] = []
#: The synchronous sample functions, imported in the worker (see :func:`_compute`).
_DATA, _SILICA = "napari_atomtomo._sample_data", "napari_atomtomo._sample_silica"


def placeholder_name(first_layer: str) -> str:
    """The name a sample's placeholder has until its first layer ``first_layer`` arrives."""
    return first_layer + COMPUTING


def running_samples() -> list[JobRunner]:
    """Sample jobs not yet done: computing, or their layers still being added."""
    return list(_RUNNERS)


def running_workers() -> list:
    """The napari workers of the samples still computing (kept for older callers)."""
    return [r._worker for r in _RUNNERS if r._worker is not None]


#: Axis labels and units of the first layer: a tilt series (4D), a sinogram (the 2D
#: Ag-Au series, one y row) or a volume (3D). The
#: placeholder has the same, so it can be filled in place and the dims do not change.
SERIES = (("angle", "z", "y", "x"), ("degree", "angstrom", "angstrom", "angstrom"))
SINOGRAM = (("angle", "y", "x"), ("angstrom",) * 3)  # (angle, 1, x): see _layers
VOLUME = (("z", "y", "x"), ("angstrom",) * 3)


class SampleCancelled(Exception):
    """Raised in a sample's progress callback to stop it once Cancel was clicked."""


@dataclass(frozen=True)
class SampleStep:
    """A pipeline sample's progress: ``percent`` done overall, ``message`` for its status."""

    percent: int
    message: str


#: Share (percent, from-to) of the SiO2 pipeline's steps in its progress bar (EST is most
#: of the 15-40 s; its ``done``/``total`` count iterations).
PIPELINE_SPANS = {"simulate": (0, 15), "align": (15, 20), "est": (20, 95), "trace": (95, 100)}


def _pipeline_step(step: str, done: int, total: int, message: str) -> SampleStep:
    lo, hi = PIPELINE_SPANS.get(step, (0, 100))
    percent = int(lo + (hi - lo) * done / max(total, 1))
    return SampleStep(percent, f"{step} {done}/{total} {message}".strip())


def _compute(target: str, cancelled=None, report=None) -> list:
    """Import and call ``"module:function"`` (in the worker: the first import of the
    sample's module, numba and the simulators, stays out of the GUI thread too), and
    add the images' contrast limits, so napari need not compute them when adding.
    With ``cancelled`` (``() -> bool``) the function gets a progress ``callback`` that
    stops it (:class:`SampleCancelled`) at its next step once ``cancelled()`` is true,
    and hands each step to ``report`` (a :class:`SampleStep`) otherwise."""
    import importlib  # noqa: PLC0415

    module, func = target.split(":")
    kwargs = {}
    if cancelled is not None:
        def callback(step, done, total, message=""):
            if cancelled():
                raise SampleCancelled(target)
            if report is not None:
                report(_pipeline_step(step, done, total, message))

        kwargs["callback"] = callback
    return with_contrast_limits(getattr(importlib.import_module(module), func)(**kwargs))


#: Attributes of the first layer set on the placeholder before its data, while it is
#: still one voxel (each setter may re-slice; on the real array that costs a repaint).
_FILL_KEYS = ("scale", "translate", "axis_labels", "units", "colormap", "blending",
              "opacity", "contrast_limits", "visible")


def _fill(layer, item) -> None:
    """Make the placeholder ``layer`` the image ``item``: cheap attributes first, then the
    array (one re-slice), then its provenance and name."""
    data, kwargs, _ = item
    for key in _FILL_KEYS:
        if key in kwargs:
            setattr(layer, key, kwargs[key])
    layer.data = data
    if "contrast_limits" in kwargs:  # setting data may have reset them
        layer.contrast_limits = kwargs["contrast_limits"]
    # last: the docks look at a layer again when its name or metadata change, and must
    # then see its real array (the EST dock's line assignment uses its width)
    layer.metadata = kwargs.get("metadata", {})
    layer.name = kwargs["name"]


def _in_worker(target: str, first_layer: str, label: str, axes=SERIES,
               cancellable: bool = False, steps: bool = False) -> list[tuple]:
    """Compute ``target`` (``"module:function"``) in a worker (see the module doc); return
    the placeholder for napari. ``cancellable``: ``target`` takes a progress ``callback``,
    so Cancel (on its bar in the activity dock) stops it at its next step; otherwise
    Cancel only drops its result. ``steps``: its bar counts 0-100 % from those callbacks
    (handed to the runner as the worker's yields), else it is a busy bar."""
    import napari  # noqa: PLC0415

    viewer = napari.current_viewer()
    if viewer is None:  # a script: nothing to freeze
        return _compute(target)
    name = placeholder_name(first_layer)
    runner = JobRunner(viewer, warm=False)

    def on_result(layers):
        # the placeholder becomes the first layer, filled in place one turn after the
        # others start (no new napari layer), unless a layer of that name is there
        # already: then that one is replaced as usual
        # last: a 2D data set shows its z-x planes, as when a dock is open
        planes = [lambda: show_2d_planes(viewer)]
        first, rest = layers[0], list(layers[1:])
        placeholder = viewer.layers[name] if name in viewer.layers else None
        if placeholder is None or first_layer in viewer.layers or first[2] != "image" \
                or np.ndim(first[0]) != placeholder.ndim:
            if placeholder is not None:
                viewer.layers.remove(placeholder)
            return [*layers, *planes]
        return [lambda: _fill(placeholder, first), *rest, *planes]

    def done(*_):
        if name in viewer.layers:  # failed or cancelled: nothing to fill it with
            viewer.layers.remove(name)
        _drop(runner)

    for signal in (runner.finished, runner.errored, runner.cancelled):
        signal.connect(done)
    _RUNNERS.append(runner)
    cancelled = (lambda: runner._cancel_requested) if cancellable else None

    def report(state: SampleStep) -> None:  # in the worker thread: as if it yielded
        worker = runner._worker
        if worker is not None:
            worker.yielded.emit(state)

    _start_later(viewer, runner, lambda: runner.run(
        _compute, target, cancelled, report if steps else None, label=label,
        total=100 if steps else None, on_result=on_result,
        progress_of=lambda state, _n: state.percent, describe=lambda state: state.message,
        activity_after_s=QUICK_JOB_ACTIVITY_AFTER_S))
    meta = {"atomtomo": {"kind": "placeholder", "note": f"{label}; replaced when ready"}}
    labels, units = axes
    return [(np.zeros((1,) * len(labels), np.float32), {
        "name": name, "metadata": meta, "axis_labels": labels, "units": units,
        "contrast_limits": (0.0, 1.0)}, "image")]


def _start_later(viewer, runner: JobRunner, start) -> None:
    """Call ``start`` (which starts ``runner``'s worker) one turn after napari has added
    the placeholder and repainted (a timer runs after the posted repaint).

    Started inside the sample function, the worker ran while napari added the placeholder
    and painted it: its first imports (numba's CPU target, scipy) and numba's cache load
    hold the GIL for up to 0.3 s at a time, and napari's add and paint, which release the
    GIL at every Qt and OpenGL call, waited for it each time (the click stalls of 0.4-1.4 s
    against napari alone's 0.2-0.8 s). If another atomtomo job took the single-flight slot
    meanwhile, the sample waits with its placeholder until the runner hub says the slot is
    free (computed here instead, the SiO2 reconstruction froze the window 15-40 s); if the
    viewer was closed meanwhile, it is dropped."""
    from ._activity import runner_hub  # noqa: PLC0415

    hub = runner_hub()

    def freed(busy: bool) -> None:
        if not busy:
            hub.busy_changed.disconnect(freed)
            QTimer.singleShot(SEPARATE_TURN_MS, go)  # a turn after the job's own end

    def go() -> None:
        if _viewer_closed(viewer):
            _drop(runner)
        elif JobRunner.any_busy():  # another waiting sample may have started first
            hub.busy_changed.connect(freed)
        else:
            start()

    QTimer.singleShot(SEPARATE_TURN_MS, go)


def _viewer_closed(viewer) -> bool:
    """True once napari's window of ``viewer`` was closed (its Qt window is deleted)."""
    return not hasattr(getattr(viewer, "window", None), "_qt_window")


def _drop(runner: JobRunner) -> None:
    """Forget the sample of ``runner`` (done, or never started: its viewer was closed)."""
    if runner in _RUNNERS:
        _RUNNERS.remove(runner)
    runner.deleteLater()


def make_blob_tilt_series() -> list[tuple]:
    """:func:`napari_atomtomo._sample_data.make_blob_tilt_series`, in a worker."""
    return _in_worker(f"{_DATA}:make_blob_tilt_series", "blobs tilt series",
                      "sample: blob tilt series")


def make_synthetic_atoms_volume() -> list[tuple]:
    """:func:`napari_atomtomo._sample_data.make_synthetic_atoms_volume`, in a worker."""
    return _in_worker(f"{_DATA}:make_synthetic_atoms_volume", "atoms volume",
                      "sample: Si/O atoms volume", VOLUME)


def make_agau_phantom() -> list[tuple]:
    """:func:`napari_atomtomo._sample_data.make_agau_phantom`, in a worker."""
    return _in_worker(f"{_DATA}:make_agau_phantom", "haadf", "sample: Ag–Au phantom",
                      SINOGRAM)


def make_silica_tilt_series() -> list[tuple]:
    """:func:`napari_atomtomo._sample_data.make_silica_tilt_series`, in a worker."""
    return _in_worker(f"{_DATA}:make_silica_tilt_series", "haadf",
                      "sample: SiO2 tilt series")


def make_silica_reconstruction() -> list[tuple]:
    """:func:`napari_atomtomo._sample_silica.make_silica_reconstruction`, in a worker (15-40 s
    the first time: simulate, align, EST, trace; then read from its cache folder)."""
    from .. import _sample_silica  # noqa: PLC0415 (light: no numba)

    cached = (_sample_silica.silica_reconstruction_folder() / "summary.json").is_file()
    label = ("sample: SiO2 reconstruction (reading the cache)" if cached else
             "sample: SiO2 reconstruction: simulate, align, EST, trace (first time, 15-40 s)")
    return _in_worker(f"{_SILICA}:make_silica_reconstruction", "est", label, VOLUME,
                      cancellable=True, steps=not cached)
