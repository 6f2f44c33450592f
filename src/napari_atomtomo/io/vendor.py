"""Vendor formats through the optional extra ``formats`` (rosettasciio, h5py).

* Gatan DM3/DM4 tilt series (:func:`read_dm3_tilt_series`),
* EMD tilt series, Velox or NCEM (:func:`read_emd_tilt_series`),
* Bruker BCF HAADF + EDS tilt series, one file per tilt (:func:`read_bcf_tilt_series`),
* HDF5 files of 2D maps such as the fused multi-modal Co3O4–Mn3O4 data
  (:func:`read_fused_h5`),
* TomViz alignment shifts (:func:`read_tomviz_shifts`).

The BCF reader lives in :mod:`napari_atomtomo.io.bcf` (re-exported here). The libraries
are imported inside the functions; without them a
:class:`MissingDependencyError` (a ValueError) says what to install.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..core.geometry import validate_angles
from ._optional import MissingDependencyError, length_in_angstrom, need_module
from ._paths import existing_file, finite_float32
from .bcf import bcf_angles, bcf_summary, read_bcf_tilt_series
from .dataset import TiltSeries, find_angles_file
from .formats import read_angles

__all__ = [
    "MissingDependencyError", "read_dm3_tilt_series", "read_emd_tilt_series",
    "read_bcf_tilt_series", "bcf_angles",
    "bcf_summary",
    "read_fused_h5", "read_tomviz_shifts",
]


# --------------------------------------------------------------------------- DM3
def read_dm3_tilt_series(path, angles_path=None) -> TiltSeries:
    """Read a Gatan DM3/DM4 tilt series ``(angle, y, x)``.

    Angles, in order of preference: ``angles_path`` if given; the file's own tilt
    calibration (a navigation axis in degrees); a sibling ``<stem>.tlt``/``.rawtlt``.
    The count must match the number of images. ``TiltSeries.angles_source`` says which
    was used and notes a sibling angle file that was ignored because its count differs.
    """
    return _read_rsciio("rsciio.digitalmicrograph", path, angles_path, "DM3", "DM3/DM4")


def read_emd_tilt_series(path, angles_path=None) -> TiltSeries:
    """Read a tilt series ``(angle, y, x)`` from an EMD file (Velox or NCEM, rosettasciio).

    The first 3D signal is the stack; angles as for :func:`read_dm3_tilt_series` (a
    navigation axis in degrees, else ``angles_path`` or a sibling angle file).
    """
    return _read_rsciio("rsciio.emd", path, angles_path, "EMD", "EMD")


def _read_rsciio(module: str, path, angles_path, what: str, formats: str) -> TiltSeries:
    """Read ``path`` with the rosettasciio reader ``module`` (DM3 and EMD share this)."""
    reader = need_module(module, "rosettasciio", f"{what} files")
    p = existing_file(path, f"{what} file")
    try:
        signals = reader.file_reader(str(p))
    except Exception as exc:  # rosettasciio raises many types on corrupt files
        raise ValueError(f"{p} is not a readable {formats} file ({exc})") from None
    return _rsciio_tilt_series(signals, p, angles_path, what)


def _rsciio_tilt_series(signals, p: Path, angles_path, what: str) -> TiltSeries:
    """A TiltSeries from rosettasciio signal dictionaries (the first 3D one)."""
    sig = next((s for s in signals if np.ndim(s["data"]) == 3), None)
    if sig is None:
        shapes = [np.shape(s["data"]) for s in signals]
        raise ValueError(f"{p} holds no image stack (data shapes {shapes}); expected (angle, y, x)")
    data = finite_float32(np.asarray(sig["data"]), str(p)).copy()
    n = data.shape[0]
    axes = sorted(sig["axes"], key=lambda a: a.get("index_in_array", 0))
    ax_y, ax_x = axes[1], axes[2]
    vs = length_in_angstrom(ax_x["scale"], ax_x.get("units"), str(p))
    vy = length_in_angstrom(ax_y["scale"], ax_y.get("units"), str(p))
    if abs(vs - vy) > 1e-3 * vs:
        raise ValueError(f"{p} has anisotropic pixels ({vs:g} Å × {vy:g} Å)")

    if angles_path is not None:
        angles = read_angles(angles_path)[0]
        if angles.size != n:
            raise ValueError(
                f"angles has {angles.size} entries but the tilt series has {n} images "
                f"({Path(angles_path).name} vs {p.name})"
            )
        return TiltSeries(data, angles, vs, p, str(angles_path))

    nav = axes[0]
    sibling = find_angles_file(p)
    note = ""
    if sibling is not None:
        sib = read_angles(sibling)[0]
        if sib.size != n:
            note = f"; {sibling.name} ignored: {sib.size} angles for {n} images"
    if str(nav.get("units", "")).strip() in ("deg", "°", "degree", "degrees"):
        angles = float(nav.get("offset", 0.0)) + float(nav["scale"]) * np.arange(n)
        angles = validate_angles(np.round(angles, 6), n_images=n)
        src = (f"{what} tilt calibration ({angles[0]:g}…{angles[-1]:g}°, "
               f"step {float(nav['scale']):g}°){note}")
        return TiltSeries(data, angles, vs, p, src)
    if sibling is not None and not note:
        return TiltSeries(data, read_angles(sibling, n_images=n)[0], vs, p, str(sibling))
    raise ValueError(
        f"{p} carries no tilt calibration and no matching .tlt/.rawtlt was found{note}; "
        "pass the angles explicitly"
    )


# --------------------------------------------------------------------------- HDF5
def read_fused_h5(path) -> dict[str, np.ndarray]:
    """Every 2D dataset of an HDF5 file as float32, keyed by dataset path.

    For ``Co3O4_Mn3O4.h5`` this gives ``{"Co": ..., "HAADF": ..., "Mn": ..., "O": ...}``
    (400 × 400 each).
    """
    h5py = need_module("h5py", "h5py", "HDF5 files")
    p = existing_file(path, "HDF5 file")
    out: dict[str, np.ndarray] = {}
    try:
        with h5py.File(p, "r") as f:
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset) and obj.ndim == 2:
                    out[name] = finite_float32(obj[()], f"{p}:{name}").copy()
            f.visititems(visit)
    except OSError as exc:
        raise ValueError(f"{p} is not a readable HDF5 file ({exc})") from None
    if not out:
        raise ValueError(f"{p} holds no 2D datasets")
    return out


# --------------------------------------------------------------------------- TomViz
def read_tomviz_shifts(path, angles_deg, acquired_deg=None, *, binning: int = 1) -> np.ndarray:
    """Per-image ``(dy, dx)`` shifts (px) from a TomViz alignment file (``[[sx, sy], ...]``).

    TomViz stores one ``[sx, sy]`` pair per acquired image, in acquisition order, without
    the angles. ``sx`` moves the image along columns and ``sy`` along rows with TomViz's y
    pointing up, so the object appears at ``(v + sy, u − sx)``: in the projector's
    convention ``(dy, dx) = (sy, −sx)`` (established on the NCEM series, see
    ``docs/real-data.md``), divided by ``binning``.

    Parameters
    ----------
    path : path-like
        The JSON file, e.g. ``TomVizAlignments.json``.
    angles_deg : array_like
        Tilts of the images to return shifts for, in stack order.
    acquired_deg : array_like, optional
        The tilt of every entry of the file (the full acquisition, which may hold more
        images than the stack: the NCEM file has 21 entries for −50…50° in 5° steps, the
        stack 16 of them). Default: ``angles_deg`` itself (one entry per image).
    binning : int
        Binning of the images relative to those TomViz aligned.

    Returns
    -------
    ndarray, shape (len(angles_deg), 2)
        ``(dy, dx)`` in (binned) pixels, for ``shifts=`` of the projector and SIRT/HEBT.
    """
    p = existing_file(path, "TomViz alignment file")
    angles = validate_angles(angles_deg)
    acquired = angles if acquired_deg is None else validate_angles(acquired_deg)
    if isinstance(binning, bool) or int(binning) != binning or binning < 1:
        raise ValueError(f"binning must be a whole number ≥ 1, got {binning!r}")
    try:
        obj = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{p} is not a TomViz alignment file (not valid JSON: {exc})") from None
    try:
        pairs = np.asarray(obj, dtype=np.float64)
    except (TypeError, ValueError):
        pairs = np.empty((0,))
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(f"{p} must hold a list of [sx, sy] pairs, got shape {pairs.shape}")
    if not np.all(np.isfinite(pairs)):
        raise ValueError(f"{p} contains NaN or infinite shifts")
    if pairs.shape[0] != acquired.size:
        raise ValueError(
            f"{p} has {pairs.shape[0]} shift pairs but {acquired.size} acquired angles were "
            "given; pass acquired_deg with one angle per entry"
        )
    out = np.empty((angles.size, 2))
    for a, theta in enumerate(angles):
        k = int(np.argmin(np.abs(acquired - theta)))
        if abs(acquired[k] - theta) > 1e-3:
            raise ValueError(
                f"tilt {theta:g}° is not one of the acquired angles "
                f"{acquired[0]:g}…{acquired[-1]:g}° of {p.name}"
            )
        out[a] = (pairs[k, 1], -pairs[k, 0])
    return out / int(binning)
