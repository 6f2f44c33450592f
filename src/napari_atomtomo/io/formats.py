"""Tilt series and angles in the formats microscopists have, each opened in one place.

Stacks (:func:`read_stack`): MRC (``.mrc .mrcs .st .ali .rec``), MATLAB ``.mat`` (v5 with
scipy, v7.3 with h5py), TIFF stacks (``tifffile``, installed with scikit-image), Gatan
DM3/DM4 and EMD (Velox, NCEM; rosettasciio).
Anything else is refused as an *unsupported format*, never as a corrupt MRC.

Angles (:func:`read_angles`): ``.tlt``/``.rawtlt`` and other text tables with one angle a
line, SerialEM ``.mdoc`` (``TiltAngle`` of each ``[ZValue]`` section), a variable of a
``.mat`` file, and Euler-angle tables (N × 3, text or ``.mat``): when exactly one column
varies it is the tilt (a single-axis series) and is taken; several varying columns
(multi-axis data) are refused.

Axis order: a ``.mat`` or TIFF array is reordered to ``(angle, y, x)`` by
``axis_order``, a permutation of the letters ``a``, ``y``, ``x`` naming the stored axes
(MATLAB's ``[ny nx nangles]`` is ``"yxa"``). v7.3 files are read through h5py, which sees
MATLAB arrays transposed; they are transposed back, so ``axis_order`` names the axes as
MATLAB shows them in both versions. Without ``axis_order`` the angle axis is the one
whose length equals the number of angles (when exactly one does), else ``"yxa"`` for
``.mat`` and ``"ayx"`` otherwise; the choice is reported in the returned note.

Rotation centre: this package puts it at ``(n − 1) / 2`` (CONVENTIONS.md). Data prepared
for a program with the centre at pixel ``n // 2`` (FFT convention) is moved by
:func:`recentre` ``center="n/2"``: ``−0.5`` px along ``x`` when ``n_x`` is even.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..core.geometry import validate_angles
from ._optional import need_module
from ._paths import existing_file, finite_float32
from .mrc import MRC_SUFFIXES, read_mrc

__all__ = ["STACK_SUFFIXES", "read_stack", "read_angles", "read_mat_arrays", "euler_tilt_column",
           "read_mdoc_angles", "recentre", "CENTERS", "unsupported", "read_xf"]

STACK_SUFFIXES = MRC_SUFFIXES + (".mat", ".tif", ".tiff", ".dm3", ".dm4", ".emd")
CENTERS = ("(n-1)/2", "n/2")


def unsupported(p: Path, what: str, known) -> ValueError:
    """The error for a file whose format is not one of ``known``."""
    return ValueError(f"{p.name}: unsupported format {p.suffix or '(no extension)'!r} for {what}; "
                      f"expected one of {', '.join(known)}")


# --------------------------------------------------------------------------- MATLAB
def read_mat_arrays(path) -> dict[str, np.ndarray]:
    """Every numeric array of a MATLAB file, as MATLAB shows it (v5 and v7.3)."""
    p = existing_file(path, "MATLAB file")
    head = p.read_bytes()[:128]
    if b"MATLAB 7.3" in head or head.startswith(b"\x89HDF"):
        h5py = need_module("h5py", "h5py", "MATLAB v7.3 files")
        out = {}
        try:
            with h5py.File(p, "r") as f:
                for name, obj in f.items():
                    if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "biuf":
                        out[name] = np.asarray(obj[()]).T  # h5py sees MATLAB arrays reversed
        except OSError as exc:
            raise ValueError(f"{p} is not a readable MATLAB v7.3 file ({exc})") from None
        return out
    from scipy import io as sio

    try:
        raw = sio.loadmat(p, squeeze_me=False)
    except Exception as exc:  # scipy raises ValueError, TypeError, MatReadError ...
        raise ValueError(f"{p} is not a readable MATLAB file ({exc})") from None
    return {k: np.asarray(v) for k, v in raw.items()
            if not k.startswith("__") and isinstance(v, np.ndarray) and v.dtype.kind in "biuf"}


def _pick_variable(arrays: dict, p: Path, variable, ndims, what: str) -> tuple[str, np.ndarray]:
    if variable is not None:
        if variable not in arrays:
            raise ValueError(f"{p.name} has no numeric variable {variable!r}; it has "
                             f"{', '.join(sorted(arrays)) or 'none'}")
        return variable, arrays[variable]
    cands = [k for k, v in arrays.items() if np.squeeze(v).ndim in ndims]
    if len(cands) != 1:
        shapes = ", ".join(f"{k} {arrays[k].shape}" for k in sorted(arrays)) or "none"
        raise ValueError(f"{p.name}: choose the {what} variable (found {len(cands)} candidates "
                         f"among: {shapes})")
    return cands[0], arrays[cands[0]]


# --------------------------------------------------------------------------- stacks
def _reorder(data: np.ndarray, axis_order, n_images, default: str, where: str):
    if data.ndim == 2:
        data = data[None] if default == "ayx" else data[..., None]
    if data.ndim != 3:
        raise ValueError(f"{where} holds a {data.ndim}D array of shape {data.shape}; "
                         "expected a 3D tilt series")
    if axis_order is None:
        hits = [i for i, n in enumerate(data.shape) if n_images is not None and n == n_images]
        if len(hits) == 1:
            rest = [c for c in default if c != "a"]
            letters = list(rest)
            letters.insert(hits[0], "a")
            axis_order, how = "".join(letters), f"the axis of length {n_images} = number of angles"
        else:
            axis_order, how = default, "default"
    else:
        how = "given"
    order = str(axis_order).lower()
    if sorted(order) != ["a", "x", "y"]:
        raise ValueError(f"axis order must be a permutation of 'a', 'y', 'x' (e.g. 'yxa'), "
                         f"got {axis_order!r}")
    out = np.transpose(data, [order.index(c) for c in "ayx"])
    return out, f"axis order {order} ({how})"


def read_stack(path, *, variable: str | None = None, axis_order: str | None = None,
               n_images: int | None = None) -> tuple[np.ndarray, float, str]:
    """Read a tilt series ``(angle, y, x)`` float32 from any supported file.

    Returns ``(data, voxel_size, note)``; ``note`` records the variable and axis order
    chosen (empty for MRC). ``voxel_size`` is 1.0 where the file has none (MAT, TIFF).
    """
    p = existing_file(path, "tilt series")
    suffix = p.suffix.lower()
    if suffix in MRC_SUFFIXES:
        if variable is not None or axis_order is not None:
            raise ValueError(f"{p.name} is an MRC file: --variable and --axis-order apply to "
                             ".mat and TIFF files only")
        data, vs = read_mrc(p)
        return data, vs, ""
    if suffix == ".mat":
        name, arr = _pick_variable(read_mat_arrays(p), p, variable, (3,), "tilt-series")
        data, how = _reorder(np.asarray(arr), axis_order, n_images, "yxa", f"{p.name}:{name}")
        data = finite_float32(np.ascontiguousarray(data), f"{p}:{name}").copy()
        return data, 1.0, f"variable {name}, {how}; pixel size not stored (1 Å assumed)"
    if suffix in (".tif", ".tiff"):
        tifffile = need_module("tifffile", "tifffile", "TIFF stacks")
        try:
            arr = tifffile.imread(p)
        except Exception as exc:
            raise ValueError(f"{p} is not a readable TIFF file ({exc})") from None
        data, how = _reorder(np.asarray(arr), axis_order, n_images, "ayx", p.name)
        data = finite_float32(np.ascontiguousarray(data), str(p)).copy()
        return data, 1.0, f"{how}; pixel size not read (1 Å assumed)"
    if suffix in (".dm3", ".dm4", ".emd"):
        from .vendor import read_dm3_tilt_series, read_emd_tilt_series

        ts = (read_emd_tilt_series if suffix == ".emd" else read_dm3_tilt_series)(p)
        return ts.data, ts.voxel_size, ""
    raise unsupported(p, "a tilt series", STACK_SUFFIXES)


def recentre(data: np.ndarray, center: str) -> tuple[np.ndarray, float]:
    """Move a series prepared for rotation centre ``center`` to this package's ``(n−1)/2``.

    Returns ``(data, dx)``: the images moved by ``dx`` px along ``x`` (a Fourier shift);
    ``data`` itself when ``dx`` is 0.
    """
    if center not in CENTERS:
        raise ValueError(f"center must be one of {', '.join(CENTERS)}, got {center!r}")
    n_x = data.shape[-1]
    dx = -((n_x // 2) - (n_x - 1) / 2.0) if center == "n/2" else 0.0
    if dx == 0:
        return data, 0.0
    from ..core.align import apply_shifts

    shifts = np.zeros((data.shape[0], 2))
    shifts[:, 1] = -dx
    return apply_shifts(data, shifts), dx


# --------------------------------------------------------------------------- angles
def euler_tilt_column(table, where: str = "angle table") -> tuple[np.ndarray, int, str]:
    """The tilt angles of a single-axis Euler table ``(n, 3)`` (or ``(3, n)``).

    Returns ``(angles, column, note)`` with ``column`` 0-based; refuses a table in which
    more than one column varies (multi-axis data) or none does.
    """
    t = np.asarray(table, dtype=np.float64)
    if t.ndim != 2 or 3 not in t.shape:
        raise ValueError(f"{where} has shape {t.shape}; expected one angle per image or N × 3 Euler angles")
    if t.shape[1] != 3:
        t = t.T
    varying = [c for c in range(3) if np.ptp(t[:, c]) > 1e-6]
    if len(varying) != 1:
        if not varying:
            raise ValueError(f"{where}: no column of the Euler-angle table varies; no tilt found")
        raise ValueError(
            f"{where}: Euler-angle columns {', '.join(str(c + 1) for c in varying)} all vary; "
            "this is multi-axis data, and only single-axis tilt series are supported")
    c = varying[0]
    fixed = [f"column {k + 1} = {t[0, k]:g}°" for k in range(3) if k != c]
    return t[:, c].copy(), c, f"Euler column {c + 1} of 3 ({', '.join(fixed)})"


_MDOC_Z = re.compile(r"^\s*\[\s*ZValue\s*=\s*(-?\d+)\s*\]")
_MDOC_TILT = re.compile(r"^\s*TiltAngle\s*=\s*(\S+)")


def read_mdoc_angles(path) -> np.ndarray:
    """Tilt angles of a SerialEM ``.mdoc`` file, in ``ZValue`` (stack) order."""
    p = existing_file(path, "mdoc file")
    angles: dict[int, float] = {}
    z = None
    for lineno, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        m = _MDOC_Z.match(line)
        if m:
            z = int(m.group(1))
            continue
        m = _MDOC_TILT.match(line)
        if m and z is not None:
            try:
                angles[z] = float(m.group(1))
            except ValueError:
                raise ValueError(f"{p} line {lineno}: TiltAngle {m.group(1)!r} is not a number") from None
    if not angles:
        raise ValueError(f"{p} has no [ZValue] sections with a TiltAngle")
    zs = sorted(angles)
    if zs != list(range(len(zs))):
        raise ValueError(f"{p}: ZValue sections are not 0..{len(zs) - 1} (got {zs[:5]}...)")
    return np.array([angles[k] for k in zs])


def _text_table(p: Path) -> np.ndarray:
    rows = []
    for lineno, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        try:
            rows.append([float(v) for v in re.split(r"[,\s]+", s) if v])
        except ValueError:
            raise ValueError(f"{p} line {lineno}: expected numbers (angles in degrees), "
                             f"got {s[:40]!r}") from None
    if not rows:
        raise ValueError(f"{p} contains no angles")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(f"{p}: lines hold different numbers of columns {sorted(widths)}")
    return np.array(rows)


ANGLE_SUFFIXES = (".tlt", ".rawtlt", ".txt", ".csv", ".mdoc", ".mat")


def read_angles(path, *, variable: str | None = None, n_images: int | None = None
                ) -> tuple[np.ndarray, str]:
    """Tilt angles (degrees) from any supported angle file; returns ``(angles, source)``."""
    p = existing_file(path, "angle file")
    suffix = p.suffix.lower()
    if suffix == ".mdoc":
        angles, src = read_mdoc_angles(p), f"{p} (SerialEM TiltAngle)"
    elif suffix == ".mat":
        name, arr = _pick_variable(read_mat_arrays(p), p, variable, (1, 2), "angle")
        a = np.asarray(arr, dtype=np.float64)
        if np.squeeze(a).ndim == 1:
            angles, src = np.squeeze(a).reshape(-1), f"{p}:{name}"
        else:
            angles, _, note = euler_tilt_column(a, f"{p.name}:{name}")
            src = f"{p}:{name}, {note}"
    elif suffix in (".tlt", ".rawtlt", ".txt", ".csv"):
        t = _text_table(p)
        if t.shape[1] == 1:
            angles, src = t[:, 0], str(p)
        elif t.shape[1] == 3:
            angles, _, note = euler_tilt_column(t, p.name)
            src = f"{p}, {note}"
        else:
            raise ValueError(f"{p} has {t.shape[1]} columns; expected 1 (tilt angles) or 3 (Euler angles)")
    else:
        raise unsupported(p, "tilt angles", ANGLE_SUFFIXES)
    try:
        return validate_angles(angles, n_images=n_images), src
    except ValueError as exc:
        raise ValueError(f"{p}: {exc}") from None


# --------------------------------------------------------------------------- IMOD .xf
def read_xf(path, n_images: int | None = None) -> tuple[np.ndarray, float]:
    """IMOD ``.xf`` transforms as ``(shifts, tilt_axis_angle_deg)`` of this package.

    Each line ``A11 A12 A21 A22 DX DY`` maps a raw image point ``(X, Y)`` (column, row,
    relative to the image centre) to ``A (X, Y) + (DX, DY)`` in the aligned image. Only a
    rotation that is the same for every image plus per-image translations is converted:
    ``A = R(α)`` becomes ``tilt_axis_angle_deg = α`` (so the images are resampled exactly
    as ``align --tilt-axis`` does) and ``(DX, DY)`` the shifts ``(dy, dx) = (−DY, −DX)``.
    Magnification, stretch or rotations that differ between images are refused.
    """
    p = existing_file(path, "IMOD .xf file")
    t = _text_table(p)
    if t.shape[1] != 6:
        raise ValueError(f"{p} has {t.shape[1]} columns; an IMOD .xf line holds 6 numbers "
                         "(A11 A12 A21 A22 DX DY)")
    if n_images is not None and t.shape[0] != n_images:
        raise ValueError(f"{p} has {t.shape[0]} transforms but the tilt series has {n_images} images")
    a = t[:, :4].reshape(-1, 2, 2)
    det = np.linalg.det(a)
    ortho = np.abs(np.einsum("nij,nkj->nik", a, a) - np.eye(2)).max()
    if np.abs(det - 1).max() > 1e-3 or ortho > 1e-3:
        raise ValueError(f"{p} holds magnification or stretch (not pure rotations); only "
                         "rotations with translations can be converted")
    alpha = np.degrees(np.arctan2(a[:, 1, 0], a[:, 0, 0]))
    if np.ptp(alpha) > 0.01:
        raise ValueError(f"{p}: the rotation differs between images ({alpha.min():.3f}…"
                         f"{alpha.max():.3f}°); only one tilt-axis rotation for all images "
                         "can be converted")
    shifts = np.column_stack([-t[:, 5], -t[:, 4]])
    return shifts, float(alpha.mean())
