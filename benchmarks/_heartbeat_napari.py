"""napari alone, with no atomtomo code in the GUI thread: the rows the heartbeat bench
measures our stalls against (``_heartbeat_all``). Each returns a row marked ``floor``."""

from __future__ import annotations

import time

import numpy as np


def _floor(viewer, hb) -> float:
    from napari_atomtomo._layers import image_layer_data
    from napari_atomtomo._widgets._base import add_or_replace_layers

    add_or_replace_layers(viewer, image_layer_data(
        np.random.default_rng(0).random((100, 100, 100), np.float32), 1.0, "floor volume",
        "benchmark", {}))
    hb.pump(1.0)
    t0 = time.perf_counter()
    for k in range(30):
        viewer.dims.set_current_step(viewer.dims.ndim - 3, k * 3)
        hb.pump(0.1)
    floor = hb.longest(t0, time.perf_counter())
    viewer.layers.remove("floor volume")
    return floor


def _napari_first_layers(viewer, hb) -> dict:
    """Floor row: napari's one-time costs of a session, paid by whichever layers come
    first (vispy parsing its volume and marker shaders, a colour bar's first visual, the
    first glyphs of a text overlay): napari alone adds a 3D image, a 3D points layer, a
    colour bar and a text overlay, one per turn, shows
    them in 3D and back, and removes them. Every later row, ours and napari alone's, is
    then measured with these costs paid, so neither side is charged for being first."""
    from napari.layers import Image, Points

    rng = np.random.default_rng(1)
    viewer.layers.clear()
    hb.pump(0.5)
    t0 = time.perf_counter()
    image = viewer.add_layer(Image(rng.random((20, 30, 30), np.float32),
                                   contrast_limits=(0.0, 1.0), name="first image"))
    hb.pump(0.1)
    points = viewer.add_layer(Points(rng.random((50, 3)) * 20, size=1.0, name="first points",
                                     shading="spherical"))
    hb.pump(0.1)
    image.colorbar.visible = True
    hb.pump(0.1)
    # vispy draws each glyph once per session: a text overlay with the characters any
    # plugin's read-out would use (letters, digits, signs, θ, °)
    viewer.text_overlay.text = ("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ "
                                "0123456789 +-−=.,:;()[]%/_ θ° Å σ α")
    viewer.text_overlay.visible = True
    hb.pump(0.1)
    viewer.dims.ndisplay = 3
    hb.pump(0.3)
    viewer.dims.ndisplay = 2
    hb.pump(0.3)
    t1 = time.perf_counter()
    viewer.text_overlay.visible = False
    for layer in (points, image):
        viewer.layers.remove(layer)
    hb.pump(0.3)
    return {"case": "*napari alone: the session's first image, points, colour bar and "
                    "text overlay, shown in 3D and back (napari's one-time costs)*",
            "click": 0.0, "running": 0.0, "end": hb.longest(t0, t1),
            "seconds": t1 - t0, "floor": True}


def _napari_alone_add(viewer, hb, layers, what: str, placeholder: bool = False,
                      clear: bool = False, restore: bool = False) -> dict:
    """Floor row: napari alone adding copies of ``layers`` (their own data tuples, same
    kwargs), one per event-loop turn 15 ms apart as the runner does, with no atomtomo code
    in the GUI thread; then removing them. ``placeholder``: first, as a "click", a
    one-voxel image with the first layer's axes, as a sample's placeholder; ``clear``:
    the viewer emptied first, as before a sample; ``restore``: the layers it emptied are
    put back afterwards (not measured), for the rows after it that need them."""
    from napari.layers import Layer

    tuples = [layer.as_layer_data_tuple() for layer in layers]
    case = f"*napari alone: {what}*"
    if not tuples:
        return {"case": case, "click": 0.0, "running": 0.0, "end": 0.0, "seconds": 0.0,
                "floor": True}
    kept = list(viewer.layers) if clear and restore else []
    if clear:
        viewer.layers.clear()
    hb.pump(0.5)
    added, click = [], 0.0
    t0 = time.perf_counter()
    if placeholder:
        data, kwargs, _ = tuples[0]
        kwargs = {"name": "placeholder (napari alone)", "scale": kwargs.get("scale"),
                  "axis_labels": kwargs.get("axis_labels"), "units": kwargs.get("units")}
        added.append(viewer.add_layer(Layer.create(
            np.zeros((1,) * np.ndim(data), np.float32), kwargs, "image")))
        hb.pump(0.3)
        click = hb.longest(t0, time.perf_counter())
    t1 = time.perf_counter()
    for data, kwargs, kind in tuples:
        kwargs = {**kwargs, "name": f"{kwargs.get('name', kind)} (napari alone)"}
        added.append(viewer.add_layer(Layer.create(data, kwargs, kind)))
        hb.pump(0.015)
    hb.pump(0.5)
    t2 = time.perf_counter()
    for layer in reversed(added):  # last first, as napari's clear (no dims change mid-way)
        viewer.layers.remove(layer)
    viewer.layers.extend(kept)
    hb.pump(0.3)
    return {"case": case, "click": click, "running": 0.0, "end": hb.longest(t1, t2),
            "seconds": t2 - t0, "floor": True}


def _napari_alone_fraction_layer(viewer, hb) -> dict:
    """Floor row: napari alone adding one image like ``wt_Ag`` (same shape and kwargs)
    and, a turn later, showing its colour bar: what Quantify's job end asks of napari."""
    from napari.layers import Layer

    wt = viewer.layers["wt_Ag"]
    kwargs = {"name": "napari alone wt", "scale": wt.scale, "colormap": wt.colormap,
              "contrast_limits": (0.0, 1.0), "blending": "additive"}
    data = np.array(wt.data)
    hb.pump(0.5)
    t0 = time.perf_counter()
    layer = viewer.add_layer(Layer.create(data, kwargs, "image"))
    hb.pump(0.015)
    t1 = time.perf_counter()
    bar = layer.colorbar
    bar.position, bar.font_size, bar.visible = "bottom_right", 10, True
    hb.pump(0.5)
    t2 = time.perf_counter()
    viewer.layers.remove(layer)
    hb.pump(0.3)
    return {"case": "*napari alone: add an image like wt_Ag, then its colour bar*",
            "click": 0.0, "running": 0.0, "end": max(hb.longest(t0, t1 + 0.2),
                                                     hb.longest(t1, t2)),
            "seconds": t2 - t0, "floor": True}
