"""Slow sample data made in a worker thread, with progress, instead of freezing napari.

"SiO2 particle reconstructed by EST" runs a 15-40 s pipeline the first time (later opens
read its cached files in a fraction of a second). napari calls a sample function in the
GUI thread and needs layers back, so the first time this returns a placeholder layer at
once (``SiO2 reconstruction (computing…)``), runs the pipeline in a thread worker with a
progress bar in napari's activity dock, then replaces the placeholder with the layers.
Without a viewer (scripts, ``napari.Viewer``-less tests) it runs synchronously.
"""

from __future__ import annotations

import numpy as np

from .. import _sample_silica

__all__ = ["make_silica_reconstruction", "PLACEHOLDER", "running_workers"]

#: Name of the placeholder layer shown while the sample is computed.
PLACEHOLDER = "SiO2 reconstruction (computing…)"
_WORKERS: list = []


def running_workers() -> list:
    """The sample workers still running (tests wait on their ``finished``)."""
    return list(_WORKERS)


def _made_layers():
    from napari.utils import progress  # noqa: PLC0415

    with progress(total=0, desc="SiO2 sample: simulate, align, EST, trace (first time)"):
        return _sample_silica.make_silica_reconstruction()


def make_silica_reconstruction() -> list[tuple]:
    """The silica reconstruction sample; computed in a worker when not cached yet."""
    import napari  # noqa: PLC0415
    from napari.qt.threading import create_worker  # noqa: PLC0415
    from napari.utils.notifications import show_error, show_info  # noqa: PLC0415

    from ._base import add_or_replace_layers  # noqa: PLC0415

    folder = _sample_silica.silica_reconstruction_folder()
    viewer = napari.current_viewer()
    if (folder / "summary.json").is_file() or viewer is None:
        return _sample_silica.make_silica_reconstruction()

    worker = create_worker(_made_layers)

    def drop_placeholder():
        if PLACEHOLDER in viewer.layers:
            viewer.layers.remove(PLACEHOLDER)

    def on_returned(layers):
        drop_placeholder()
        add_or_replace_layers(viewer, layers)
        show_info(f"SiO2 sample ready (cached in {folder})")

    def on_errored(exc):
        drop_placeholder()
        show_error(f"the SiO2 sample could not be made: {exc}")

    def on_finished():
        if worker in _WORKERS:
            _WORKERS.remove(worker)

    worker.returned.connect(on_returned)
    worker.errored.connect(on_errored)
    worker.finished.connect(on_finished)
    _WORKERS.append(worker)
    worker.start()
    show_info("making the SiO2 sample in the background (15-40 s the first time); "
              "the window stays usable")
    return [(np.zeros((0, 3)), {"name": PLACEHOLDER, "ndim": 3, "metadata": {
        "atomtomo": {"kind": "placeholder", "note": "replaced when the sample is ready"}}},
        "points")]
