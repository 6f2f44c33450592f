"""Fixtures shared by the widget tests."""

from __future__ import annotations

import pytest

from napari_atomtomo._widgets._runner import JobRunner


@pytest.fixture
def runner(make_napari_viewer, qtbot):
    """A bare :class:`JobRunner` on a fresh viewer (``runner._viewer``)."""
    viewer = make_napari_viewer()
    r = JobRunner(viewer)
    qtbot.addWidget(r)
    yield r
    if r.busy:  # never leave a worker behind for the next test
        r.cancel()
        qtbot.waitUntil(lambda: not r.busy, timeout=5000)
