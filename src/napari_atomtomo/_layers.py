"""Core results -> napari layer data tuples, and back (CONVENTIONS.md "napari layers").

Every layer this plugin makes carries

* ``scale`` in Å per voxel (``(vs, vs, vs)`` for volumes), ``axis_labels``
  (``("z", "y", "x")``) and ``units`` (Å);
* a tilt series ``(angle, y, x)`` is shown as a 4D layer ``(angle, z, y, x)`` with a
  singleton ``z``: napari aligns layers by axis position, so the angle gets its own dims
  axis (slider) in degrees (scale = the mean tilt step, translate = the first angle, unit
  degree) and is never shared with a volume's ``z`` (a 55-image series next to a 100-slice
  volume gives a ±72.6° angle slider and a 0–107 Å z slider). In 3D the series is one
  flat plane at ``z = 0``, not a thick box. A one-row series (a 2D data set) is shown as
  its sinogram ``(angle, 1, x)`` beside the 2D maps ``(z, 1, x)`` in their z-x view, its
  rows along their z, the row's angle named by the canvas read-out
  (:func:`sinogram_placement`). :func:`series_array` gives back the ``(angle, y, x)`` stack
  whatever the layout; the exact angles are in the metadata;
* ``metadata["atomtomo"] = {"algorithm", "parameters", "source_layers", "version", ...}``
  so the same result can be made again from the command line, plus ``kind``
  (``"volume"``, ``"tilt_series"`` or ``"atoms"``), ``voxel_size`` and, for tilt series,
  ``angles_deg``.

Points layers of atoms hold world ``(z, y, x)`` positions in Å with a ``features`` table
(``element``, ``intensity``, ...) and faces coloured by element from
:mod:`napari_atomtomo._colors`; they are built in :mod:`napari_atomtomo._atoms_layers`.
This module builds plain tuples and needs no Qt.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from . import __version__
from ._colors import element_color
from .core.geometry import validate_angles
from .io._names import ELEMENT_NAME
from .io._paths import check_voxel_size

__all__ = [
    "METADATA_KEY",
    "element_of",
    "provenance",
    "image_layer_data",
    "with_contrast_limits",
    "contrast_range",
    "layer_info",
    "layer_voxel_size",
    "layer_angles_deg",
    "element_colormap",
    "series_array",
    "series_layout",
    "is_series_data",
]

#: Key of this plugin's entry in ``layer.metadata``.
METADATA_KEY = "atomtomo"
KINDS = ("volume", "tilt_series")


def _jsonable(obj):
    """Parameters as plain JSON-friendly Python values (dataclasses, numpy, tuples)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def provenance(algorithm: str, parameters=None, source_layers: Sequence[str] = (), **extra) -> dict:
    """The ``metadata`` dict of a layer made by ``algorithm`` with ``parameters``.

    ``parameters`` may be a (frozen) dataclass or a mapping; it is stored as a plain dict.
    ``extra`` entries (``kind``, ``voxel_size``, ``angles_deg``, ...) join the same record.
    """
    if not isinstance(algorithm, str) or not algorithm:
        raise ValueError(f"algorithm must be a non-empty name, got {algorithm!r}")
    if isinstance(source_layers, str):
        source_layers = [source_layers]
    record = {
        "algorithm": algorithm,
        "parameters": _jsonable(parameters) if parameters is not None else {},
        "source_layers": [str(s) for s in source_layers],
        "version": __version__,
    }
    record.update({k: _jsonable(v) for k, v in extra.items() if v is not None})
    return {METADATA_KEY: record}


def image_layer_data(
    data,
    voxel_size: float,
    name: str,
    algorithm: str,
    parameters=None,
    source_layers: Sequence[str] = (),
    kind: str = "volume",
    *,
    angles_deg=None,
    element: str | None = None,
    **layer_kwargs,
) -> tuple[np.ndarray, dict, str]:
    """An ``(data, kwargs, "image")`` tuple for a volume or a tilt series.

    Parameters
    ----------
    data : ndarray
        A volume ``(z, y, x)`` (or a 2D map ``(y, x)``) or a tilt series ``(angle, y, x)``.
    voxel_size : float
        Voxel (pixel) size in Å.
    name : str
        Layer name.
    algorithm, parameters, source_layers
        Provenance recorded in ``metadata["atomtomo"]`` (see :func:`provenance`).
    kind : {"volume", "tilt_series"}
        What the array is; decides the axis labels and the scale of axis 0.
    angles_deg : array_like, optional
        Tilt angles of a tilt series, one per image (stored in the metadata).
    element : str, optional
        Element symbol of an element map or EDS signal (stored in the metadata).
    **layer_kwargs
        Further ``Image`` keyword arguments (``colormap``, ``blending``, ``visible``, ...);
        a ``metadata`` mapping is merged into the ``metadata["atomtomo"]`` record.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    arr = np.asarray(data)
    vs = check_voxel_size(voxel_size)
    layout = {}
    if kind == "tilt_series":
        if arr.ndim != 3:
            raise ValueError(
                f"a tilt series must be 3D (angle, y, x), got an array of shape {arr.shape}"
            )
        if angles_deg is not None:
            angles_deg = validate_angles(angles_deg, n_images=arr.shape[0])
        arr, scale, translate, axis_labels, units, layout = series_layout(arr, vs, angles_deg)
        layer_kwargs.setdefault("translate", translate)
    else:
        if arr.ndim not in (2, 3):
            raise ValueError(f"a volume must be 2D or 3D (z, y, x), got an array of shape {arr.shape}")
        if angles_deg is not None:
            raise ValueError("angles_deg only applies to a tilt series (kind='tilt_series')")
        scale = (vs,) * arr.ndim
        axis_labels = ("z", "y", "x")[-arr.ndim :]
        units = ("angstrom",) * arr.ndim
    metadata = provenance(
        algorithm,
        parameters,
        source_layers,
        kind=kind,
        voxel_size=vs,
        angles_deg=angles_deg,
        element=element,
        **layout,
    )
    extra_meta = layer_kwargs.pop("metadata", None)
    if extra_meta:
        metadata[METADATA_KEY].update(_jsonable(dict(extra_meta)))
    kwargs = {
        "name": str(name),
        "scale": scale,
        "axis_labels": axis_labels,
        "units": units,
        "metadata": metadata,
    }
    kwargs.update(layer_kwargs)
    return arr, kwargs, "image"


#: Largest gap (degrees) between a tilt angle and its slider position for the angle axis
#: to be called exact in the layer's metadata (``angle_axis["exact"]``).
ANGLE_AXIS_TOLERANCE_DEG = 0.05


def contrast_range(lo: float, hi: float) -> tuple[float, float]:
    """Contrast limits from a data range ``lo``-``hi``: a flat image (``hi <= lo``) gets a
    range of one, since napari needs ``hi > lo``."""
    return (lo, hi if hi > lo else lo + 1.0)


def with_contrast_limits(layers: list[tuple]) -> list[tuple]:
    """``layers`` with each in-memory image's ``contrast_limits`` (its finite min and max)
    added where they are missing. Call it in the worker that made the arrays: napari
    otherwise runs that pass over the data in the GUI thread when it adds the layer."""
    out = []
    for data, kwargs, kind in layers:
        if kind == "image" and "contrast_limits" not in kwargs and isinstance(data, np.ndarray) \
                and data.size and not kwargs.get("rgb"):
            lo, hi = float(np.nanmin(data)), float(np.nanmax(data))
            if np.isfinite(lo) and np.isfinite(hi):
                kwargs = {**kwargs, "contrast_limits": contrast_range(lo, hi)}
        out.append((data, kwargs, kind))
    return out


def series_layout(stack, voxel_size: float, angles_deg=None):
    """How a tilt series ``(angle, y, x)`` is shown: ``(data, scale, translate,
    axis_labels, units, metadata)``.

    The angle axis is its own dims axis in degrees (a singleton ``z`` after it, so that
    napari, which aligns layers by position, never shares it with a volume's ``z``); a
    one-row series is shown as its sinogram ``(angle, 1, x)`` beside the 2D maps, its
    rows' angles named by the canvas read-out (:func:`sinogram_placement`). Napari axes are
    linear, so the slider runs from the first angle in steps of the mean tilt step; the
    metadata records that choice (``angle_axis``: start, step, and the largest gap to the true angles).
    Without angles the axis is the image index (unit pixel).
    """
    arr = np.asarray(stack)
    n = arr.shape[0]
    start, step, unit, worst = 0.0, 1.0, "pixel", None
    if angles_deg is not None and n > 1:
        a = np.asarray(angles_deg, dtype=np.float64)
        mean_step = (a[-1] - a[0]) / (n - 1)
        if mean_step > 0:
            # dyadic start and step (multiples of 2**-20 °): napari counts slider steps as
            # int((stop - start) / step) + 1, which loses the last image to rounding
            # otherwise (54 steps for 55 images)
            q = 2.0 ** -20
            start, step, unit = round(a[0] / q) * q, round(mean_step / q) * q, "degree"
            worst = float(np.max(np.abs(a - (start + step * np.arange(n)))))
    elif angles_deg is not None and n == 1:
        start, unit = float(np.asarray(angles_deg)[0]), "degree"
    axis = {"start": start, "step": step, "unit": unit}
    if worst is not None:
        axis["max_gap_deg"] = round(worst, 4)
        axis["exact"] = bool(worst <= ANGLE_AXIS_TOLERANCE_DEG)
    if unit == "pixel":
        axis["note"] = ("no angles recorded: the angle axis is the image index"
                        if angles_deg is None else
                        "angles not increasing: the angle axis is the image index")
    if arr.shape[1] == 1:
        pitch, x0 = sinogram_placement(arr.shape, voxel_size)
        axis.update(sinogram_axis(pitch, x0))
        layout = {"display": "sinogram", "angle_axis": axis}
        return (arr, (pitch, voxel_size, voxel_size), (0.0, 0.0, x0), ("angle", "y", "x"),
                ("angstrom", "angstrom", "angstrom"), layout)
    data = arr[:, None]
    layout = {"display": "angle_z_y_x", "angle_axis": axis}
    return (data, (step, voxel_size, voxel_size, voxel_size), (start, 0.0, 0.0, 0.0),
            ("angle", "z", "y", "x"), (unit, "angstrom", "angstrom", "angstrom"), layout)


#: Gap (in detector pixels, at least 2) between a 2D data set's maps and its sinogram.
SINOGRAM_GAP_FRACTION = 0.05


def sinogram_placement(shape, voxel_size: float) -> tuple[float, float]:
    """Row pitch (Å) and x origin (Å) of a sinogram ``(angle, 1, u)`` on napari's canvas.

    A 2D data set's maps are ``(z, 1, x)``, ``n_u`` voxels wide (``n_x = n_u``), shown in
    their z-x plane. The sinogram is laid out like them, ``(angle, 1, u)``, its rows on
    the canvas' vertical axis, spread over the maps' height (first and last row at the
    maps' first and last z: a square image, not a thin strip), and it sits beside the
    maps along x (its origin ``n_u`` + a gap voxels to the right), never on them. That
    axis is a length for napari: a degree unit there, shared with the maps' z, would make
    napari drop the units of every layer ("Inconsistent units across layers", a warning
    toast). The angle of a row is named by the canvas read-out (``_widgets/_tilt_readout``:
    the row under the cursor in the z-x view, the row on the slider in the y-x view).
    """
    n_angles, n_u = int(shape[0]), int(shape[-1])
    gap = max(2, int(round(SINOGRAM_GAP_FRACTION * n_u)))
    pitch = (n_u - 1) / (n_angles - 1) if n_angles > 1 and n_u > 1 else 1.0
    return pitch * float(voxel_size), (n_u + gap) * float(voxel_size)


def sinogram_axis(pitch: float, x0: float) -> dict:
    """The ``angle_axis`` entries that say how :func:`sinogram_placement`'s row ``pitch``
    and ``x0`` (Å) show the angle."""
    return {"shown_as": ("rows along the 2D maps' z in their z-x view (a display length, "
                         "not an angle: a degree unit there would make napari drop all "
                         "units), beside the 2D maps along x; the canvas read-out names "
                         "a row's angle"),
            "row_pitch_A": round(pitch, 6), "x_offset_A": round(x0, 6),
            "readout": "cursor"}


def is_series_data(layer) -> bool:
    """Whether an image layer is shown in one of :func:`series_layout`'s layouts."""
    return layer_info(layer).get("display") in ("sinogram", "angle_z_y_x")


def series_array(layer_or_data) -> np.ndarray:
    """The ``(angle, y, x)`` stack of a tilt-series layer (a view, no copy), whatever its
    layout: 4D ``(angle, 1, y, x)``, a sinogram ``(angle, 1, x)`` (or an older 2D
    ``(angle, x)``) or a plain 3D array."""
    is_layer = hasattr(layer_or_data, "metadata") and not isinstance(layer_or_data, np.ndarray)
    arr = np.asarray(layer_or_data.data if is_layer else layer_or_data)
    display = layer_info(layer_or_data).get("display") if is_layer else None
    if arr.ndim == 4 and arr.shape[1] == 1:
        return arr[:, 0]
    if arr.ndim == 2 and (display == "sinogram" or display is None):
        return arr[:, None, :]
    return arr


def element_colormap(element: str, prefix: str = "element", display_name: str | None = None):
    """Black -> the element's colour of :mod:`._colors`, a napari colormap named
    ``<prefix>-<El>``: one colour per element in every layer (EDS series, ``map_``,
    ``phantom_`` and ``wt_`` volumes, atoms, plots), whatever the layer order."""
    from napari.utils.colormaps import Colormap  # noqa: PLC0415 (napari only when drawn)

    return Colormap(["#000000", element_color(element)], name=f"{prefix}-{element}",
                    display_name=display_name or f"{element} ({prefix})")


def layer_info(layer_or_metadata) -> dict:
    """The ``metadata["atomtomo"]`` record of a layer (or of a metadata dict); ``{}`` if none."""
    meta = getattr(layer_or_metadata, "metadata", layer_or_metadata) or {}
    return dict(meta.get(METADATA_KEY, {}))


def layer_voxel_size(layer) -> float:
    """Voxel size in Å of an image layer: from its metadata, else from its ``scale``."""
    info = layer_info(layer)
    if "voxel_size" in info:
        return float(info["voxel_size"])
    return float(np.asarray(layer.scale)[-1])


def layer_angles_deg(layer) -> np.ndarray | None:
    """Tilt angles (degrees) recorded on a tilt-series layer, or ``None``."""
    angles = layer_info(layer).get("angles_deg")
    return None if angles is None else np.asarray(angles, dtype=np.float64)


def element_of(layer) -> str:
    """Element of a layer: its metadata, else its ``eds_<El>``-style name, else the name."""
    element = layer_info(layer).get("element")
    if element:
        return str(element)
    match = ELEMENT_NAME.match(layer.name)
    return match.group(1) if match else layer.name
