"""Every sample made in a worker thread, with progress, so napari's window never freezes.

napari calls a sample function in the GUI thread and needs layer data back. Computing
the samples there stalled the window 0.5-0.8 s each (idle machine; the SiO2
reconstruction 15-40 s the first time). So each entry of ``File ▸ Open Sample`` here:

1. returns at once one small placeholder image (``<first layer> (computing…)``, a
   1 × … × 1 array with the axes of that layer);
2. runs the synchronous sample function (:mod:`napari_atomtomo._sample_data`,
   :mod:`napari_atomtomo._sample_silica`) in a :class:`~._runner.JobRunner` job: a
   worker thread with a bar in napari's activity dock;
3. puts the layers into the viewer one per event-loop turn (the runner's result path):
   the placeholder is renamed and filled in place with the first layer, so napari
   neither removes it nor makes that layer anew.

Without a viewer (scripts), or while another atomtomo job holds the single-flight slot
(numba kernels run one at a time), the sample is computed synchronously, as before.
Tests wait for :func:`running_samples` to be empty.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import _sample_data, _sample_silica
from ._runner import JobRunner

__all__ = ["make_blob_tilt_series", "make_synthetic_atoms_volume", "make_agau_phantom",
           "make_silica_tilt_series", "make_silica_reconstruction", "placeholder_name",
           "running_samples", "running_workers", "PLACEHOLDER"]

#: Suffix of a placeholder layer's name while its sample is computed.
COMPUTING = " (computing…)"
#: Name of the SiO2 reconstruction's placeholder (its first layer is ``est``).
PLACEHOLDER = "est" + COMPUTING
_RUNNERS: list[JobRunner] = []


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
#: Ag-Au series) or a volume (3D). The
#: placeholder has the same, so it can be filled in place and the dims do not change.
SERIES = (("angle", "z", "y", "x"), ("degree", "angstrom", "angstrom", "angstrom"))
SINOGRAM = (("angle", "x"), ("angstrom", "angstrom"))
VOLUME = (("z", "y", "x"), ("angstrom",) * 3)


def _in_worker(make: Callable[[], list], first_layer: str, label: str,
               axes=SERIES) -> list[tuple]:
    """Run ``make`` in a worker (see the module doc); return the placeholder for napari."""
    import napari  # noqa: PLC0415

    viewer = napari.current_viewer()
    if viewer is None or JobRunner.any_busy():
        return make()
    name = placeholder_name(first_layer)
    runner = JobRunner(viewer)

    def on_result(layers):
        # the placeholder becomes the first layer (filled in place by the runner),
        # unless a layer of that name is there already: then that one is replaced
        if name in viewer.layers:
            if first_layer in viewer.layers:
                viewer.layers.remove(name)
            else:
                viewer.layers[name].name = first_layer
        return layers

    def done(*_):
        if name in viewer.layers:  # failed or cancelled: nothing to fill it with
            viewer.layers.remove(name)
        if runner in _RUNNERS:
            _RUNNERS.remove(runner)
        runner.deleteLater()

    for signal in (runner.finished, runner.errored, runner.cancelled):
        signal.connect(done)
    _RUNNERS.append(runner)
    runner.run(make, label=label, on_result=on_result)
    meta = {"atomtomo": {"kind": "placeholder", "note": f"{label}; replaced when ready"}}
    labels, units = axes
    return [(np.zeros((1,) * len(labels), np.float32), {
        "name": name, "metadata": meta, "axis_labels": labels, "units": units,
        "contrast_limits": (0.0, 1.0)}, "image")]


def make_blob_tilt_series() -> list[tuple]:
    """:func:`napari_atomtomo._sample_data.make_blob_tilt_series`, in a worker."""
    return _in_worker(_sample_data.make_blob_tilt_series, "blobs tilt series",
                      "sample: blob tilt series")


def make_synthetic_atoms_volume() -> list[tuple]:
    """:func:`napari_atomtomo._sample_data.make_synthetic_atoms_volume`, in a worker."""
    return _in_worker(_sample_data.make_synthetic_atoms_volume, "atoms volume",
                      "sample: Si/O atoms volume", VOLUME)


def make_agau_phantom() -> list[tuple]:
    """:func:`napari_atomtomo._sample_data.make_agau_phantom`, in a worker."""
    return _in_worker(_sample_data.make_agau_phantom, "haadf", "sample: Ag–Au phantom",
                      SINOGRAM)


def make_silica_tilt_series() -> list[tuple]:
    """:func:`napari_atomtomo._sample_data.make_silica_tilt_series`, in a worker."""
    return _in_worker(_sample_data.make_silica_tilt_series, "haadf",
                      "sample: SiO2 tilt series")


def make_silica_reconstruction() -> list[tuple]:
    """:func:`napari_atomtomo._sample_silica.make_silica_reconstruction`, in a worker (15-40 s
    the first time: simulate, align, EST, trace; then read from its cache folder)."""
    cached = (_sample_silica.silica_reconstruction_folder() / "summary.json").is_file()
    label = ("sample: SiO2 reconstruction (reading the cache)" if cached else
             "sample: SiO2 reconstruction: simulate, align, EST, trace (first time, 15-40 s)")
    return _in_worker(_sample_silica.make_silica_reconstruction, "est", label, VOLUME)
