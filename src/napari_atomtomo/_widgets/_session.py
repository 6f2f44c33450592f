"""Save and reopen an AtomTomo session: layers, their atomtomo metadata, the docks'
parameters, in one folder.

Layout of a session folder::

    session.json          layers (in order) and docks, see below
    layer_000.npy ...     each layer's data, exactly (float32 stays float32)
    layer_001.csv         a Points layer's features (element, intensity, ...)

``session.json`` holds, per layer: its type, name, data file, scale, translate, axis
labels, units, visibility, opacity, blending, colormap (name and colours) and contrast
limits for images, sizes/symbol/shading for points, and its whole ``metadata`` (the
``atomtomo`` record with algorithm, parameters and sources); per open AtomTomo dock: its
display name and the values of its inputs (a layer input by the layer's name). A session
is written to a temporary folder first and moved into place, so it is whole or absent.
:func:`open_session` adds the layers and docks back with those values.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import napari.viewer
import numpy as np
import pandas as pd
from napari.layers import Image, Layer, Points

from .._layers import _jsonable

__all__ = ["save_session", "open_session", "SESSION_FILE", "save_session_dialog",
           "open_session_dialog"]

SESSION_FILE = "session.json"
PLUGIN = "napari-atomtomo"
FORMAT = 1


def _image_state(layer: Image) -> dict:
    cmap = layer.colormap
    return {"colormap": {"name": cmap.name, "colors": np.asarray(cmap.colors).tolist(),
                         "controls": np.asarray(cmap.controls).tolist()},
            "contrast_limits": [float(v) for v in layer.contrast_limits],
            "gamma": float(layer.gamma), "rendering": str(layer.rendering)}


def _points_state(layer: Points, folder: Path, stem: str) -> dict:
    features = f"{stem}.csv"
    layer.features.to_csv(folder / features, index=False)
    return {"features": features, "size": np.asarray(layer.size).tolist(),
            "symbol": [str(s) for s in np.atleast_1d(layer.symbol)],
            "face_color": np.asarray(layer.face_color).tolist(),
            "shown": np.asarray(layer.shown).tolist(),
            "shading": str(layer.shading), "border_width": np.asarray(layer.border_width).tolist(),
            "projection_mode": str(layer.projection_mode)}


def _named_inputs(widget) -> list:
    """``(key, input)`` pairs: the dock's attribute name of each input (``n_iter``), else
    its label."""
    inputs = list(widget.inputs)
    names = {id(v): k for k, v in vars(widget).items() if any(v is w for w in inputs)}
    return [(names.get(id(w)) or w.name or w.label, w) for w in inputs]


def _dock_values(widget) -> dict:
    values = {}
    for key, w in _named_inputs(widget):
        try:
            value = w.value
        except (AttributeError, ValueError):
            continue
        if isinstance(value, Layer):
            values[key] = {"layer": value.name}
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Layer) for v in value):
            values[key] = {"layers": [v.name for v in value]}
        else:
            try:
                json.dumps(_jsonable(value))
            except TypeError:
                values[key] = {"value": str(value)}
                continue
            values[key] = {"value": _jsonable(value)}
    return values


def _atomtomo_docks(viewer) -> dict:
    from ._base import JobDockWidget  # noqa: PLC0415

    docks = {}
    for name, widget in viewer.window.dock_widgets.items():
        if isinstance(widget, JobDockWidget):
            docks[name.rsplit(" (", 1)[0]] = _dock_values(widget)  # "<display> (plugin)"
    return docks


def save_session(viewer, folder) -> Path:
    """Write the viewer's layers and AtomTomo docks to ``folder`` (must not exist)."""
    folder = Path(folder)
    if folder.exists():
        raise ValueError(f"{folder} exists; choose a new folder for the session")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        layers = []
        for i, layer in enumerate(viewer.layers):
            if not isinstance(layer, (Image, Points)):
                continue  # shapes, labels, ...: not made by AtomTomo
            stem = f"layer_{i:03d}"
            np.save(tmp / f"{stem}.npy", np.asarray(layer.data))
            entry = {"type": "image" if isinstance(layer, Image) else "points",
                     "name": layer.name, "data": f"{stem}.npy",
                     "scale": np.asarray(layer.scale).tolist(),
                     "translate": np.asarray(layer.translate).tolist(),
                     "axis_labels": list(layer.axis_labels),
                     "units": [str(u) for u in layer.units], "visible": bool(layer.visible),
                     "opacity": float(layer.opacity), "blending": str(layer.blending),
                     "metadata": _jsonable(dict(layer.metadata))}
            entry.update(_image_state(layer) if isinstance(layer, Image)
                         else _points_state(layer, tmp, stem))
            layers.append(entry)
        record = {"format": FORMAT, "layers": layers, "docks": _atomtomo_docks(viewer),
                  "dims": {"ndisplay": int(viewer.dims.ndisplay),
                           "order": list(viewer.dims.order),
                           "point": [float(p) for p in viewer.dims.point]}}
        (tmp / SESSION_FILE).write_text(json.dumps(record, indent=1), encoding="utf-8")
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _make_layer(entry: dict, folder: Path) -> Layer:
    from napari.utils.colormaps import Colormap  # noqa: PLC0415

    data = np.load(folder / entry["data"])
    common = {k: entry[k] for k in ("name", "scale", "translate", "axis_labels", "units",
                                    "visible", "opacity", "blending", "metadata")}
    if entry["type"] == "image":
        c = entry["colormap"]
        cmap = Colormap(c["colors"], controls=c["controls"], name=c["name"])
        return Image(data, colormap=cmap, contrast_limits=entry["contrast_limits"],
                     gamma=entry["gamma"], rendering=entry["rendering"], **common)
    features = pd.read_csv(folder / entry["features"])
    layer = Points(data, ndim=data.shape[1] if data.ndim == 2 else 3, features=features,
                   size=entry["size"], face_color=np.asarray(entry["face_color"]),
                   shading=entry["shading"], border_width=entry["border_width"],
                   projection_mode=entry["projection_mode"], **common)
    symbols = entry["symbol"]
    layer.symbol = symbols[0] if len(set(symbols)) == 1 else symbols
    layer.shown = np.asarray(entry["shown"], bool)
    return layer


def open_session(viewer, folder) -> dict:
    """Add a saved session's layers to ``viewer`` and open its docks with their values;
    returns the session record."""
    folder = Path(folder)
    path = folder / SESSION_FILE
    if not path.is_file():
        raise ValueError(f"{folder} is not an AtomTomo session (no {SESSION_FILE})")
    record = json.loads(path.read_text(encoding="utf-8"))
    for entry in record["layers"]:
        viewer.add_layer(_make_layer(entry, folder))
    dims = record.get("dims", {})
    if dims.get("ndisplay"):
        viewer.dims.ndisplay = dims["ndisplay"]
    if len(dims.get("order", ())) == viewer.dims.ndim:
        viewer.dims.order = tuple(dims["order"])
    for name, values in record.get("docks", {}).items():
        _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, name)
        _restore_values(viewer, widget, values)
    return record


def _restore_values(viewer, widget, values: dict) -> None:
    for key, w in _named_inputs(widget):
        saved = values.get(key)
        if saved is None:
            continue
        try:
            if "layer" in saved:
                if saved["layer"] in viewer.layers:
                    w.value = viewer.layers[saved["layer"]]
            elif "layers" in saved:
                w.value = [viewer.layers[n] for n in saved["layers"] if n in viewer.layers]
            elif "value" in saved:
                value = saved["value"]
                w.value = tuple(value) if isinstance(value, list) and isinstance(
                    w.value, tuple) else value
        except (ValueError, TypeError, KeyError):
            continue  # a value the widget no longer accepts keeps its default


def save_session_dialog(viewer: napari.viewer.Viewer) -> Path | None:
    """``File ▸ Save AtomTomo session…``: ask for a new folder and save."""
    from napari.utils.notifications import show_error, show_info  # noqa: PLC0415
    from qtpy.QtWidgets import QFileDialog  # noqa: PLC0415

    path, _ = QFileDialog.getSaveFileName(None, "Save AtomTomo session (a new folder)")
    if not path:
        return None
    try:
        folder = save_session(viewer, path)
    except (OSError, ValueError) as exc:
        show_error(f"the session was not saved: {exc}")
        return None
    show_info(f"session saved in {folder}")
    return folder


def open_session_dialog(viewer: napari.viewer.Viewer) -> dict | None:
    """``File ▸ Open AtomTomo session…``: choose a session folder and open it."""
    from napari.utils.notifications import show_error  # noqa: PLC0415
    from qtpy.QtWidgets import QFileDialog  # noqa: PLC0415

    path = QFileDialog.getExistingDirectory(None, "Open AtomTomo session folder")
    if not path:
        return None
    try:
        return open_session(viewer, path)
    except (OSError, ValueError) as exc:
        show_error(f"the session could not be opened: {exc}")
        return None
