"""Text formats: tilt angles (``.tlt``), atoms (XYZ, CSV) and per-image shifts (JSON).

Accepted ``.tlt`` / ``.rawtlt`` (IMOD): one angle in degrees per line, in stack order.
Blank lines and lines starting with ``#`` are skipped; any other line must hold exactly
one number, otherwise the error names the line.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from ..core.atoms import Atoms
from ..core.elements import validate_element
from ..core.geometry import validate_angles, validate_shifts
from ..core.xray_lines import normalise_element
from ._output import atomic_write_json, atomic_write_text
from ._paths import existing_file, writable_path

__all__ = [
    "read_tlt", "write_tlt", "read_xyz", "write_xyz", "read_atoms_csv", "write_atoms_csv",
    "read_shifts", "write_shifts", "read_tilt_axis",
]


def _read_text(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{p} is not a text file") from None


# --------------------------------------------------------------------------- angles
def read_tlt(path, n_images: int | None = None) -> np.ndarray:
    """Read tilt angles (degrees, float64, stack order) from a ``.tlt``/``.rawtlt`` file.

    ``n_images``, when given, must equal the number of angles
    (``"angles has 54 entries but the tilt series has 55 images"``).
    """
    p = existing_file(path, "angle file")
    values = []
    for lineno, line in enumerate(_read_text(p).splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split()
        try:
            if len(parts) != 1:
                raise ValueError
            values.append(float(parts[0]))
        except ValueError:
            raise ValueError(
                f"{p} line {lineno}: expected one angle in degrees, got {s[:40]!r}"
            ) from None
    if not values:
        raise ValueError(f"{p} contains no angles")
    try:
        return validate_angles(np.array(values), n_images=n_images)
    except ValueError as exc:
        raise ValueError(f"{p}: {exc}") from None


def write_tlt(path, angles, *, force: bool = False, inputs=()) -> Path:
    """Write angles in degrees, one per line (``%.4f``, IMOD style)."""
    a = validate_angles(angles)
    p = writable_path(path, force=force, inputs=inputs)
    atomic_write_text(p, "".join(f"{v:.4f}\n" for v in a))
    return p


# --------------------------------------------------------------------------- atoms
def _element(name: str, where: str) -> str:
    """Any letter case is read (``SI`` → ``Si``, as other programs write XYZ files)."""
    el = normalise_element(name)
    return el if el is not None else validate_element(name, where)


def _read_position(pos: np.ndarray, i: int, xyz, where: str, source) -> None:
    """Fill ``pos[i]`` from the strings ``xyz`` (XYZ and CSV readers); ``source`` (a line,
    quoted, or the fields) is shown when they are not numbers.
    """
    try:
        pos[i] = [float(v) for v in xyz]
    except ValueError:
        shown = repr(source.strip()[:40]) if isinstance(source, str) else source
        raise ValueError(f"{where}: x y z must be numbers, got {shown}") from None
    if not np.isfinite(pos[i]).all():
        raise ValueError(f"{where}: position is NaN or infinite")


def read_xyz(path) -> Atoms:
    """Read an XYZ file: a count line, a comment line, then ``El x y z`` in Å per atom.

    Element symbols are accepted in any letter case and normalised (``SI`` -> ``Si``);
    columns after ``z`` (extended XYZ) are ignored.
    """
    p = existing_file(path, "XYZ file")
    lines = _read_text(p).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise ValueError(f"{p} is empty; expected an atom count on line 1")
    try:
        n = int(lines[0].split()[0])
        if n < 0:
            raise ValueError
    except (ValueError, IndexError):
        raise ValueError(f"{p} line 1: expected the number of atoms, got {lines[0][:40]!r}") from None
    if n == 0:
        raise ValueError(f"{p} holds no atoms (count line says 0)")
    body = lines[2:]
    if len(body) != n:
        raise ValueError(f"{p} declares {n} atoms on line 1 but has {len(body)} atom lines")
    elements, pos = [], np.empty((n, 3))
    for i, line in enumerate(body):
        lineno = i + 3
        parts = line.split()
        if len(parts) < 4:
            raise ValueError(f"{p} line {lineno}: expected 'Element x y z', got {line.strip()[:40]!r}")
        where = f"{p} line {lineno}"
        elements.append(_element(parts[0], where))
        _read_position(pos, i, parts[1:4], where, line)
    return Atoms(np.array(elements), pos)


def _check_atoms(atoms) -> Atoms:
    if not isinstance(atoms, Atoms):
        raise ValueError(f"atoms must be an Atoms object, got {type(atoms).__name__}")
    if len(atoms) == 0:
        raise ValueError("atoms is empty; there is nothing to write")
    for el in atoms.elements:
        _element(str(el), "atoms")
    return atoms


def write_xyz(path, atoms, comment: str = "", *, force: bool = False, inputs=()) -> Path:
    """Write ``atoms`` as XYZ (positions in Å, 6 decimals); features are not stored."""
    a = _check_atoms(atoms)
    p = writable_path(path, force=force, inputs=inputs)
    comment = " ".join(str(comment).splitlines())
    rows = [f"{len(a)}\n", f"{comment}\n"]
    rows += [
        f"{el:<2s} {x:14.6f} {y:14.6f} {z:14.6f}\n"
        for el, (x, y, z) in zip(a.elements, a.positions)
    ]
    atomic_write_text(p, "".join(rows))
    return p


def _parse_column(values: list[str]) -> np.ndarray:
    """Integers if every value is one, else floats, else strings."""
    try:
        return np.array([int(v) for v in values], dtype=np.int64)
    except ValueError:
        pass
    try:
        return np.array([float(v) for v in values], dtype=np.float64)
    except ValueError:
        return np.array(values, dtype=str)


def read_atoms_csv(path) -> Atoms:
    """Read atoms from CSV with header ``element,x,y,z[,intensity,...]`` (Å).

    Columns after ``z`` become ``Atoms.features`` (integers, floats or strings).
    """
    p = existing_file(path, "CSV file")
    rows = list(csv.reader(_read_text(p).splitlines()))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"{p} is empty; expected a header 'element,x,y,z,...'")
    header = [h.strip() for h in rows[0]]
    if [h.lower() for h in header[:4]] != ["element", "x", "y", "z"]:
        raise ValueError(f"{p} line 1: header must start with 'element,x,y,z', got {','.join(header)[:60]!r}")
    if len(set(header)) != len(header):
        raise ValueError(f"{p} line 1: duplicate column names in the header")
    body = rows[1:]
    if not body:
        raise ValueError(f"{p} holds no atoms")
    extra: list[list] = [[] for _ in header[4:]]
    elements, pos = [], np.empty((len(body), 3))
    for i, row in enumerate(body):
        lineno = i + 2
        if len(row) != len(header):
            raise ValueError(f"{p} line {lineno}: {len(row)} values but the header has {len(header)} columns")
        where = f"{p} line {lineno}"
        elements.append(_element(row[0], where))
        _read_position(pos, i, row[1:4], where, row[1:4])
        for col, v in zip(extra, row[4:]):
            col.append(v.strip())
    features = {name: _parse_column(col) for name, col in zip(header[4:], extra)}
    return Atoms(np.array(elements), pos, features)


def write_atoms_csv(path, atoms, *, force: bool = False, inputs=()) -> Path:
    """Write ``element,x,y,z,<features>`` (``intensity`` first if present); floats round-trip."""
    a = _check_atoms(atoms)
    p = writable_path(path, force=force, inputs=inputs)
    names = sorted(a.features, key=lambda k: (k != "intensity",))
    for k in names:
        if k.lower() in ("element", "x", "y", "z"):
            raise ValueError(f"feature name {k!r} clashes with a fixed column")

    def fmt(v):
        if isinstance(v, (float, np.floating)):
            return repr(float(v))
        return str(v)

    tmp_rows = [["element", "x", "y", "z", *names]]
    cols = [a.features[k] for k in names]
    for i in range(len(a)):
        tmp_rows.append([str(a.elements[i]), *(repr(float(c)) for c in a.positions[i]),
                         *(fmt(c[i]) for c in cols)])
    from io import StringIO

    buf = StringIO()
    csv.writer(buf, lineterminator="\n").writerows(tmp_rows)
    atomic_write_text(p, buf.getvalue())
    return p


# --------------------------------------------------------------------------- shifts
def read_tilt_axis(path) -> tuple[float, float]:
    """``(tilt_axis_angle_deg, tilt_axis_offset_px)`` of an alignment JSON; ``(0, 0)`` when
    the file has neither key (an alignment that kept the axis along ``y``).
    """
    p = existing_file(path, "shift file")
    obj = _load_json(p)
    if not isinstance(obj, dict):
        return 0.0, 0.0
    out = []
    for key in ("tilt_axis_angle_deg", "tilt_axis_offset_px"):
        v = obj.get(key, 0.0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise ValueError(f"{p}: {key} must be a finite number, got {v!r}")
        out.append(float(v))
    return out[0], out[1]


def _load_json(p: Path):
    try:
        return json.loads(_read_text(p))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{p} is not valid JSON (line {exc.lineno}: {exc.msg})") from None


def read_shifts(path, n_images: int | None = None, *, allow_tilt_axis: bool = False) -> np.ndarray:
    """Read per-image ``(dy, dx)`` shifts in pixels from JSON.

    Accepted: ``{"shifts_px": [[dy, dx], ...]}`` (what :func:`write_shifts` writes),
    ``{"shifts": [[dy, dx], ...]}``, or a bare list of pairs. Shifts of an alignment that
    also moved the tilt axis (``tilt_axis_angle_deg``/``tilt_axis_offset_px`` not 0) only
    hold after that resampling, so they are refused unless ``allow_tilt_axis``.
    """
    p = existing_file(path, "shift file")
    obj = _load_json(p)
    if not allow_tilt_axis:
        angle, offset = read_tilt_axis(p)
        if angle or offset:
            raise ValueError(
                f"{p} also moves the tilt axis ({angle:g}°, {offset:g} px); apply it with "
                "atomtomo align --apply-shifts and use the aligned series")
    if isinstance(obj, dict):
        key = next((k for k in ("shifts_px", "shifts") if k in obj), None)
        if key is None:
            raise ValueError(f"{p} has no 'shifts_px' list of [dy, dx] pairs")
        obj = obj[key]
    try:
        s = np.asarray(obj, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{p}: shifts must be a list of [dy, dx] number pairs") from None
    n = s.shape[0] if (s.ndim == 2 and n_images is None) else n_images
    if n is None:
        raise ValueError(f"{p}: shifts must be a list of [dy, dx] pairs, got shape {s.shape}")
    if s.ndim == 2 and s.shape[1] == 2 and s.shape[0] != n:
        raise ValueError(f"{p} has {s.shape[0]} shifts but the tilt series has {n} images")
    try:
        return validate_shifts(s, n)
    except ValueError as exc:
        raise ValueError(f"{p}: {exc}") from None


def write_shifts(path, shifts, *, force: bool = False, inputs=(), extra=None) -> Path:
    """Write ``{"shifts_px": [[dy, dx], ...], "order": "dy, dx"}`` as JSON, plus the keys of
    ``extra`` (e.g. ``tilt_axis_angle_deg``, ``tilt_axis_offset_px``; JSON-ready values).
    """
    s = np.asarray(shifts, dtype=np.float64)
    s = validate_shifts(s, s.shape[0] if s.ndim == 2 else -1)
    p = writable_path(path, force=force, inputs=inputs)
    obj = {"order": "dy, dx", "shifts_px": [[float(a), float(b)] for a, b in s], **(extra or {})}
    atomic_write_json(p, obj, indent=1)
    return p
