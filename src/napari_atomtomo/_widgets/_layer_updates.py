"""Result and preview layers into the viewer: replacement by name, in place when it can.

Used by every dock widget (:mod:`._base`) and by the job runner's live layers; it
imports neither, so the widgets' base and the runner do not import each other.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from napari.layers import Image, Layer

from .._layers import layer_info

__all__ = ["add_or_replace_layers", "overwrite_image_data"]


def _as_tuples(layer_data) -> list[tuple]:
    if layer_data is None:
        return []
    if (
        isinstance(layer_data, tuple)
        and 1 <= len(layer_data) <= 3
        and (len(layer_data) < 2 or isinstance(layer_data[1], Mapping))
    ):
        return [layer_data]
    return list(layer_data)


#: Image attributes an in-place replacement copies from the new layer data tuple.
_IN_PLACE_KEYS = ("scale", "translate", "axis_labels", "units", "metadata", "colormap",
                  "blending", "opacity", "visible")


def _differs(layer, key: str, value) -> bool:
    current = getattr(layer, key)
    if key in ("scale", "translate"):
        return np.shape(current) != np.shape(value) or not np.allclose(current, value)
    if key == "units":
        return tuple(str(u) for u in current) != tuple(
            "pixel" if v is None else str(v) for v in value
        )
    if key == "colormap":
        return getattr(current, "name", current) != getattr(value, "name", value)
    try:
        return bool(current != value)
    except (TypeError, ValueError):
        return True


def overwrite_image_data(layer, data) -> bool:
    """Copy ``data`` into an image layer's own array and redraw it; ``False`` if it cannot.

    The cheap way to show a new preview frame: setting ``layer.data`` makes napari
    recompute the dims and extents of the whole viewer (about half the cost of an update),
    copying into the array it already shows only re-slices and redraws this layer. Only
    for arrays that nothing else holds (the runner's preview buffers): the old values are
    overwritten.
    """
    target = layer.data
    new = np.asarray(data)
    if (
        not isinstance(layer, Image)
        or not isinstance(target, np.ndarray)
        or not target.flags.writeable
        or target.shape != new.shape
        or target.dtype != new.dtype
        or np.shares_memory(target, new)
    ):
        return False
    np.copyto(target, new)
    layer.refresh(extent=False)  # same shape: napari need not recompute the extent
    layer.reset_contrast_limits()
    return True


def _set_changed_attributes(layer, kwargs) -> None:
    for key in _IN_PLACE_KEYS:  # each setter may re-slice: skip unchanged values
        if key in kwargs and _differs(layer, key, kwargs[key]):
            setattr(layer, key, kwargs[key])


def add_or_replace_layers(viewer, layer_data, *, buffers=None, adopt=frozenset(),
                          attributes: bool = True) -> list[Layer]:
    """Add layer data tuples to ``viewer``, replacing layers of the same name.

    An image of the same dimensionality is updated in place (data, scale, metadata, ...)
    so nothing flickers and napari makes no new layer; anything else is removed and
    re-inserted at its index.

    ``buffers`` (a set the caller keeps, e.g. a job's) names images whose arrays only the
    caller holds: new values of the same shape and dtype are copied into them (see
    :func:`overwrite_image_data`), and their other attributes are set only when
    ``attributes`` is true (a job's result, not its progress frames). An image named in
    ``adopt`` that gets a new array gets a copy, and its name joins ``buffers``: arrays
    handed in are never written to later. Returns the layers, in the order given. Call
    from the main thread.
    """
    owned = buffers if buffers is not None else set()
    out = []
    for item in _as_tuples(layer_data):
        data = item[0]
        kwargs = dict(item[1]) if len(item) > 1 else {}
        layer_type = item[2] if len(item) > 2 else "image"
        name = kwargs.get("name")
        old = viewer.layers[name] if name is not None and name in viewer.layers else None
        if old is not None and name in owned and overwrite_image_data(old, data):
            if attributes:
                _set_changed_attributes(old, kwargs)
            out.append(old)
            continue
        if layer_type == "image" and name in adopt:
            data = np.array(data, copy=True)
            owned.add(name)
        else:
            owned.discard(name)
        if (
            old is not None
            and layer_type == "image"
            and isinstance(old, Image)
            and np.ndim(data) == old.ndim
        ):
            old.data = data
            _set_changed_attributes(old, kwargs)
            old.reset_contrast_limits()
            out.append(old)
            continue
        new = Layer.create(data, kwargs, layer_type)
        if old is not None:
            index = viewer.layers.index(old)
            viewer.layers.remove(old)
            viewer.layers.insert(index, new)
        else:
            viewer.add_layer(new)
            if isinstance(new, Image) and new.ndim == 3 and layer_info(new).get("kind") == "volume":
                show_inside(viewer, new)
        out.append(new)
    return out


def show_inside(viewer, layer) -> None:
    """Move the z slider to the middle of a new volume when it points at its edge or
    outside it (a tilt series' singleton z sits at 0: its first, often empty, slice)."""
    dims = viewer.dims
    axis = dims.ndim - 3
    if axis < 0 or dims.ndisplay != 2 or axis in dims.displayed:
        return
    lo, hi = layer.extent.world[:, 0]
    if hi > lo and not lo < dims.point[axis] < hi:
        dims.set_point(axis, (lo + hi) / 2)
