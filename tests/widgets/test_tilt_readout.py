"""The canvas tilt read-out (``_widgets/_tilt_readout``) follows the mouse without walking
the layers or rewriting its text on every move, and stays right as layers come and go."""

from __future__ import annotations

import numpy as np
import pytest

from napari_atomtomo._layers import image_layer_data, layer_angles_deg
from napari_atomtomo._widgets._tilt_readout import install_tilt_readout


def _series(name, n=7, ny=1, nx=12, first=-60.0):
    """An image-layer tuple of a tilt series: ``ny == 1`` gives a sinogram."""
    angles = np.linspace(first, -first, n) + np.linspace(0.0, 1.0, n) ** 2  # unevenly spaced
    data, kwargs, _ = image_layer_data(np.zeros((n, ny, nx), np.float32), 2.0, name,
                                       "test", kind="tilt_series", angles_deg=angles)
    return data, kwargs


class _Writes:
    """Stands in for the overlay: forwards reads, records every write."""

    def __init__(self, overlay):
        object.__setattr__(self, "_overlay", overlay)
        object.__setattr__(self, "writes", [])

    def __getattr__(self, name):
        return getattr(self._overlay, name)

    def __setattr__(self, name, value):
        self.writes.append((name, value))
        setattr(self._overlay, name, value)


@pytest.fixture
def viewer(make_napari_viewer):
    return make_napari_viewer()


def test_mouse_moves_over_one_row_neither_walk_the_layers_nor_rewrite_the_text(viewer):
    data, kwargs = _series("sino")
    layer = viewer.add_image(data, **kwargs)
    readout = install_tilt_readout(viewer)
    assert tuple(viewer.dims.order) == (1, 0, 2)  # the z-x view: rows on the canvas
    angles = layer_angles_deg(layer)
    t, sc = layer.translate, layer.scale
    overlay = readout.overlay
    readout.overlay = spy = _Writes(overlay)

    def move(row, column):
        viewer.cursor.position = (t[0] + row * sc[0], 0.0, t[2] + column * sc[2])

    move(3, 0)
    assert overlay.visible and overlay.text == f"sino: tilt θ = {angles[3]:+.2f}° (row 4 of 7)"
    scans, writes = readout.n_scans, len(spy.writes)
    for column in range(1, 12):  # along the same row
        move(3, column)
    assert readout.n_scans == scans  # the layers were not walked again
    assert len(spy.writes) == writes  # nor the text (or visibility) written again
    assert overlay.text == f"sino: tilt θ = {angles[3]:+.2f}° (row 4 of 7)"

    move(5, 4)  # the next row: one new text
    assert overlay.text == f"sino: tilt θ = {angles[5]:+.2f}° (row 6 of 7)"
    assert spy.writes[writes:] == [("text", overlay.text)]
    assert readout.n_scans == scans


def test_cursor_moves_without_a_sinogram_are_ignored(viewer):
    data, kwargs = _series("series", ny=5, nx=5)
    viewer.add_image(data, **kwargs)
    readout = install_tilt_readout(viewer)
    assert readout.overlay.visible
    text = readout.overlay.text
    readout.overlay = spy = _Writes(readout.overlay)
    scans = readout.n_scans
    for x in range(10):
        viewer.cursor.position = (0.0, 0.0, 1.0, float(x))
    assert readout.n_scans == scans and spy.writes == []
    assert readout.overlay.text == text


def _named(viewer, layer, name=None):
    """The read-out's text for the series ``layer`` at the slider's angle."""
    angles = layer_angles_deg(layer)
    k = int(np.clip(round((viewer.dims.point[0] - layer.translate[0]) / layer.scale[0]),
                    0, angles.size - 1))
    return f"{name or layer.name}: tilt {angles[k]:+.2f}° (image {k + 1} of {angles.size})"


def test_read_out_follows_layers_added_removed_hidden_and_the_slider(viewer):
    readout = install_tilt_readout(viewer)
    overlay = readout.overlay
    assert not overlay.visible  # nothing to name
    data_a, kwargs_a = _series("a", ny=5, nx=5)
    a = viewer.add_image(data_a, **kwargs_a)
    assert overlay.visible and overlay.text == _named(viewer, a)
    data_b, kwargs_b = _series("b", n=9, ny=5, nx=5, first=-70.0)
    b = viewer.add_image(data_b, **kwargs_b)
    angles_b = layer_angles_deg(b)
    viewer.dims.set_current_step(0, 8)
    assert overlay.text == f"b: tilt {angles_b[8]:+.2f}° (image 9 of 9)"  # the top one
    viewer.layers.move(viewer.layers.index(b), 0)  # b now under a
    assert overlay.text == _named(viewer, a)
    viewer.dims.set_current_step(0, 2)
    assert overlay.text == _named(viewer, a)
    a.visible = False
    assert overlay.text == _named(viewer, b)
    viewer.layers.remove(b)
    assert not overlay.visible  # a is hidden, b gone
    a.visible = True
    assert overlay.visible and overlay.text == _named(viewer, a)
    a.name = "renamed"
    assert overlay.text == _named(viewer, a, "renamed")
    viewer.layers.remove(a)
    assert not overlay.visible


def test_read_out_follows_a_sinogram_moved_rescaled_or_reshaped(viewer):
    """napari emits ``translate``, ``scale`` and ``data`` (never ``extent``) when a layer
    is moved, rescaled or reshaped: the read-out's row follows each."""
    data, kwargs = _series("sino")
    layer = viewer.add_image(data, **kwargs)
    readout = install_tilt_readout(viewer)
    angles = layer_angles_deg(layer)
    t0, sc0 = np.array(layer.translate, float), np.array(layer.scale, float)
    viewer.cursor.position = (t0[0] + 3 * sc0[0], 0.0, t0[2] + 2 * sc0[2])
    overlay = readout.overlay
    assert overlay.text == f"sino: tilt θ = {angles[3]:+.2f}° (row 4 of 7)"

    layer.translate = (t0[0] + 2 * sc0[0], t0[1], t0[2])  # two rows down: row 2 under it
    assert overlay.visible and overlay.text == f"sino: tilt θ = {angles[1]:+.2f}° (row 2 of 7)"

    layer.translate = tuple(t0)
    assert overlay.text == f"sino: tilt θ = {angles[3]:+.2f}° (row 4 of 7)"
    layer.scale = (sc0[0] * 2, sc0[1], sc0[2])  # rows twice as tall: row 3 under it
    assert overlay.visible and overlay.text == f"sino: tilt θ = {angles[2]:+.2f}° (row 3 of 7)"

    layer.scale = tuple(sc0)
    viewer.cursor.position = (t0[0] + 5 * sc0[0], 0.0, t0[2] + 2 * sc0[2])
    assert overlay.text == f"sino: tilt θ = {angles[5]:+.2f}° (row 6 of 7)"
    layer.data = np.asarray(layer.data)[:5]  # five rows: none under the cursor (row 6)
    assert not overlay.visible
