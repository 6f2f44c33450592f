"""Every sample computes in a worker thread; the GUI thread only adds its layers (issue 14)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from napari_atomtomo import _sample_data
from napari_atomtomo._layers import layer_info
from napari_atomtomo._widgets import _sample_worker
from napari_atomtomo._widgets._runner import JobRunner
from napari_atomtomo._widgets._sample_worker import placeholder_name, running_samples

PLUGIN = "napari-atomtomo"
SAMPLES = [("blob_tilt_series", "make_blob_tilt_series", "blobs tilt series"),
           ("synthetic_atoms_volume", "make_synthetic_atoms_volume", "atoms volume"),
           ("agau_phantom", "make_agau_phantom", "haadf"),
           ("silica_tilt_series", "make_silica_tilt_series", "haadf")]


@pytest.mark.slow
@pytest.mark.parametrize(("key", "func", "first"), SAMPLES)
def test_a_sample_computes_in_a_worker_and_fills_its_placeholder(
        make_napari_viewer, qtbot, monkeypatch, key, func, first):
    viewer = make_napari_viewer()
    real = getattr(_sample_data, func)
    threads, release = [], threading.Event()

    def recorded():
        threads.append(threading.current_thread())
        assert release.wait(60), "the test never released the sample"
        return real()

    monkeypatch.setattr(_sample_data, func, recorded)
    viewer.open_sample(PLUGIN, key)
    # open_sample has returned while the sample is still held in its worker
    (placeholder,) = viewer.layers
    assert placeholder.name == placeholder_name(first)
    assert layer_info(placeholder)["kind"] == "placeholder"
    assert running_samples()
    release.set()
    qtbot.waitUntil(lambda: not running_samples(), timeout=120_000)
    assert threads and threads[0] is not threading.main_thread()
    expected = [t[1]["name"] for t in real()]
    assert [lyr.name for lyr in viewer.layers] == expected
    assert viewer.layers[first] is placeholder  # filled in place, not re-made
    np.testing.assert_array_equal(placeholder.data, real()[0][0])
    assert layer_info(placeholder)["kind"] != "placeholder"


@pytest.mark.slow
def test_a_failing_sample_removes_its_placeholder_and_says_why(make_napari_viewer, qtbot,
                                                               monkeypatch):
    viewer = make_napari_viewer()

    def broken():
        raise ValueError("no blobs today")

    monkeypatch.setattr(_sample_data, "make_blob_tilt_series", broken)
    viewer.open_sample(PLUGIN, "blob_tilt_series")
    (runner,) = running_samples()
    errors = []  # the runner is deleted once done: keep what its error line said
    runner.errored.connect(lambda _exc: errors.append(runner.error.text()))
    qtbot.waitUntil(lambda: not running_samples(), timeout=60_000)
    assert len(viewer.layers) == 0
    assert len(errors) == 1 and "no blobs today" in errors[0]


@pytest.mark.slow
def test_the_worker_starts_after_napari_has_added_the_placeholder(make_napari_viewer, qtbot,
                                                                  monkeypatch):
    """Started inside the sample function, the worker's imports and numba cache load held
    the GIL while napari added and painted the placeholder (the click stall)."""
    viewer = make_napari_viewer()
    real, seen = _sample_data.make_synthetic_atoms_volume, []

    def recorded():
        seen.append(placeholder_name("atoms volume") in viewer.layers)
        return real()

    monkeypatch.setattr(_sample_data, "make_synthetic_atoms_volume", recorded)
    viewer.open_sample(PLUGIN, "synthetic_atoms_volume")
    (runner,) = running_samples()
    assert not runner.busy and not seen  # nothing runs yet: napari adds the placeholder
    qtbot.waitUntil(lambda: not running_samples(), timeout=120_000)
    assert seen == [True]
    assert [lyr.name for lyr in viewer.layers] == ["atoms volume", "atoms_true"]


def _record_sample(monkeypatch, func: str) -> list:
    """Replace ``_sample_data.<func>`` by itself recording the thread it ran in."""
    real, threads = getattr(_sample_data, func), []

    def recorded():
        threads.append(threading.current_thread())
        return real()

    monkeypatch.setattr(_sample_data, func, recorded)
    return threads


def _record_start_attempts(monkeypatch) -> list:
    """Count the sample's start attempts (each one first asks if its viewer was closed)."""
    attempts, real = [], _sample_worker._viewer_closed

    def recorded(viewer):
        attempts.append(viewer)
        return real(viewer)

    monkeypatch.setattr(_sample_worker, "_viewer_closed", recorded)
    return attempts


@pytest.mark.slow
@pytest.mark.parametrize("job_first", [True, False], ids=["job at the click", "job after it"])
def test_a_sample_waits_for_a_dock_s_job_holding_the_slot_then_runs_in_a_worker(
        make_napari_viewer, qtbot, monkeypatch, job_first):
    """A dock's job holding the single-flight slot at the click, or taking it before the
    sample's worker starts: the sample waits with its placeholder, then runs in a worker.
    Computed in the GUI thread instead, the SiO2 reconstruction froze the window 15-40 s
    (no Cancel) and was added differently from the worker path."""
    viewer = make_napari_viewer()
    threads = _record_sample(monkeypatch, "make_synthetic_atoms_volume")
    attempts = _record_start_attempts(monkeypatch)
    blocker, release = JobRunner(viewer), threading.Event()
    qtbot.addWidget(blocker)
    if job_first:
        blocker.run(release.wait, 60, label="a dock's job")
    viewer.open_sample(PLUGIN, "synthetic_atoms_volume")
    (runner,) = running_samples()
    (placeholder,) = viewer.layers  # shown at once, nothing computed
    if not job_first:
        blocker.run(release.wait, 60, label="a dock's job")  # before the sample's start
    qtbot.waitUntil(lambda: bool(attempts))  # the sample's turn came: it waits
    assert not runner.busy and not threads
    assert list(viewer.layers) == [placeholder] and running_samples() == [runner]
    release.set()  # the slot frees: the sample starts in its worker
    qtbot.waitUntil(lambda: not running_samples() and not blocker.busy, timeout=120_000)
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    assert [lyr.name for lyr in viewer.layers] == ["atoms volume", "atoms_true"]
    assert viewer.layers["atoms volume"] is placeholder  # filled in place, as usual


@pytest.mark.slow
def test_a_sample_waiting_for_the_slot_is_dropped_when_its_viewer_closes(
        make_napari_viewer, qtbot, monkeypatch):
    viewer = make_napari_viewer()
    threads = _record_sample(monkeypatch, "make_synthetic_atoms_volume")
    viewer.open_sample(PLUGIN, "synthetic_atoms_volume")
    monkeypatch.setattr(JobRunner, "_active", object())  # a dock's job took the slot
    viewer.close()
    qtbot.waitUntil(lambda: not running_samples())
    assert not threads  # never computed, here or in a worker


@pytest.mark.slow
def test_an_existing_layer_of_the_first_name_is_replaced_not_duplicated(make_napari_viewer, qtbot,
                                                                       open_sample):
    viewer = make_napari_viewer()
    open_sample(viewer, "agau_phantom")
    open_sample(viewer, "silica_tilt_series")  # its first layer is also "haadf"
    names = [lyr.name for lyr in viewer.layers]
    assert names.count("haadf") == 1 and not any("computing" in n for n in names)
    assert viewer.layers["haadf"].data.shape[0] == 55  # the silica series replaced Ag-Au's
    assert _sample_worker.running_workers() == []


@pytest.mark.slow
def test_the_agau_phantom_opens_in_its_z_x_view_without_a_dock(make_napari_viewer, qtbot,
                                                                 open_sample):
    """A 2D data set ``(z, 1, x)`` showed one-pixel lines (its y-x planes) until a dock
    installed the read-out; the sample now switches to the z-x view itself."""
    viewer = make_napari_viewer()
    open_sample(viewer, "agau_phantom")
    assert "atomtomo_tilt" not in viewer.canvas.overlays  # no dock: no read-out
    dims = viewer.dims
    assert tuple(dims.order) == (1, 0, 2)
    assert [dims.axis_labels[i] for i in dims.displayed] == ["z", "x"]
    viewer.layers["phantom_Au"].visible = True  # opens hidden; napari slices shown layers
    for name in ("phantom_Au", "haadf"):
        layer = viewer.layers[name]
        # the slice on screen: a 2D image as tall as its z (or angle) axis, not 1 px
        assert layer._slice.image.view.shape == (layer.data.shape[0], layer.data.shape[2])
        assert min(layer._slice.image.view.shape) > 1


def test_the_sample_menu_module_loads_no_file_reader():
    """napari imports the sample functions' module in the GUI thread on the first
    File > Open Sample of a session: through ``_layers`` it loaded every reader of
    ``napari_atomtomo.io`` (mrcfile, the vendor formats: 30-50 ms of that click)."""
    import subprocess
    import sys

    code = ("import sys, napari_atomtomo._widgets._sample_worker; "
            "print(sorted(m for m in sys.modules if m in ('mrcfile', 'napari_atomtomo.io.mrc', "
            "'napari_atomtomo.io.dataset', 'napari_atomtomo.io.vendor', "
            "'napari_atomtomo.io.bcf', 'napari_atomtomo.io.text')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"
    from napari_atomtomo import io  # its names load on first use, every one of them

    assert all(getattr(io, name) is not None for name in io.__all__)
