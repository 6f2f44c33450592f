"""Tilt series (MRC + sibling ``.tlt``) and multi-signal data-set folders (CONVENTIONS.md).

A data-set folder holds ``haadf.mrc`` (required), ``eds_<El>.mrc`` (any number),
``angles.tlt`` (required), and optionally ``atoms_true.xyz`` and ``phantom_<El>.mrc``.
All tilt series must share one shape and one voxel size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.atoms import Atoms
from ..core.geometry import validate_angles
from ..core.xray_lines import check_element
from ._output import Outputs
from ._paths import check_voxel_size, existing_file, existing_folder, finite_float32, writable_path
from .mrc import read_mrc, write_mrc
from .text import read_tlt, read_xyz, write_tlt, write_xyz

__all__ = [
    "TiltSeries", "DataSet", "read_tilt_series", "write_tilt_series", "find_angles_file",
    "read_dataset", "write_dataset",
]

_VS_RTOL = 1e-3


@dataclass(frozen=True, eq=False)
class TiltSeries:
    """A tilt series ``(angle, y, x)`` float32 with its angles (degrees) and pixel size (Å)."""

    data: np.ndarray
    angles_deg: np.ndarray
    voxel_size: float
    path: Path | None = None
    #: Where the angles came from (a file path or a description such as "DM3 calibration").
    angles_source: str = ""


@dataclass(frozen=True, eq=False)
class DataSet:
    """HAADF and EDS tilt series of one acquisition, plus any known truth.

    ``haadf`` and every ``eds[El]`` are ``(angle, y, x)`` float32 of one shape;
    ``phantoms[El]`` are ``(z, y, x)`` volumes (true weight fractions); ``atoms_true``
    holds true atom positions (Å) when known.
    """

    haadf: np.ndarray
    eds: dict[str, np.ndarray]
    angles_deg: np.ndarray
    voxel_size: float
    atoms_true: Atoms | None = None
    phantoms: dict[str, np.ndarray] = field(default_factory=dict)
    path: Path | None = None
    #: Provenance of data converted from vendor files (lines, windows, binning, ...).
    metadata: dict = field(default_factory=dict)

    @property
    def elements(self) -> list[str]:
        """The EDS elements of the data set, in order."""
        return list(self.eds)


def find_angles_file(mrc_path) -> Path | None:
    """The sibling angle file of a tilt series: ``<stem>.tlt``, ``<stem>.rawtlt``,
    ``angles.tlt``, or SerialEM's ``<name>.mdoc`` / ``<stem>.mdoc``, in that order.
    """
    p = Path(mrc_path)
    for cand in (p.with_suffix(".tlt"), p.with_suffix(".rawtlt"), p.parent / "angles.tlt",
                 p.with_name(p.name + ".mdoc"), p.with_suffix(".mdoc")):
        if cand.is_file():
            return cand
    return None


def angles_file_for(stack_path: Path, angles_path=None) -> Path:
    """``angles_path``, or else the tilt series' sibling angle file (:func:`find_angles_file`);
    ``FileNotFoundError`` saying what to put where when there is none.
    """
    if angles_path is not None:
        return Path(angles_path)
    found = find_angles_file(stack_path)
    if found is None:
        raise FileNotFoundError(
            f"no angle file for {stack_path}: pass one, or put "
            f"{stack_path.with_suffix('.tlt').name} or angles.tlt next to it"
        )
    return found


def check_angle_count(angles: np.ndarray, n_images: int, angles_path, stack_path) -> None:
    """One angle per image of the tilt series, or a ``ValueError`` naming both files."""
    if angles.size != n_images:
        raise ValueError(
            f"angles has {angles.size} entries but the tilt series has {n_images} images "
            f"({Path(angles_path).name} vs {Path(stack_path).name})"
        )


def _check_stack_shape(data: np.ndarray, what: str) -> None:
    if data.ndim != 3:
        raise ValueError(f"{what} must be 3D (angle, y, x), got shape {data.shape}")


def read_tilt_series(mrc_path, angles_path=None, *, variable: str | None = None,
                     angle_variable: str | None = None, axis_order: str | None = None,
                     center: str = "(n-1)/2") -> TiltSeries:
    """Read a tilt series and its angles: the one place the CLI and napari open a series.

    The stack may be any format of :func:`napari_atomtomo.io.formats.read_stack` (MRC,
    MATLAB ``.mat``, TIFF, DM3/DM4, EMD), the angles any of
    :func:`~napari_atomtomo.io.formats.read_angles` (``.tlt``, ``.rawtlt``, ``.mdoc``,
    text or ``.mat`` Euler tables). Without ``angles_path`` the angles come from a
    ``.mat`` stack's own angle variable, else from ``<stem>.tlt``, ``<stem>.rawtlt``,
    ``angles.tlt`` or an ``.mdoc`` next to the stack. ``variable``/``angle_variable``
    choose the arrays of a ``.mat`` file, ``axis_order`` its (or a TIFF's) axes, and
    ``center`` the rotation-centre convention the data was prepared for (``"n/2"`` moves
    the images by −½ px along even ``x``). ``angles_source`` records every choice.
    """
    from .formats import STACK_SUFFIXES, read_angles, read_stack, recentre, unsupported

    p = existing_file(mrc_path, "tilt series")
    if p.suffix.lower() not in STACK_SUFFIXES:
        raise unsupported(p, "a tilt series", STACK_SUFFIXES)
    if p.suffix.lower() in (".dm3", ".dm4", ".emd") and variable is None and axis_order is None:
        from .vendor import read_dm3_tilt_series, read_emd_tilt_series

        reader = read_emd_tilt_series if p.suffix.lower() == ".emd" else read_dm3_tilt_series
        ts = reader(p, angles_path)
        data, dx = recentre(ts.data, center)
        note = f"; recentred by {dx:+g} px along x ({center})" if dx else ""
        return TiltSeries(data, ts.angles_deg, ts.voxel_size, p, ts.angles_source + note)
    if angles_path is None and p.suffix.lower() == ".mat":
        from .formats import read_mat_arrays

        vectors = [k for k, v in read_mat_arrays(p).items() if np.squeeze(v).ndim in (1, 2)]
        if angle_variable is not None or len(vectors) == 1:
            angles_path = p  # the angles are stored with the projections
    angles_path = angles_file_for(p, angles_path)
    angles, src = read_angles(angles_path, variable=angle_variable)
    data, vs, note = read_stack(p, variable=variable, axis_order=axis_order, n_images=angles.size)
    check_angle_count(angles, data.shape[0], angles_path, p)
    data, dx = recentre(data, center)
    notes = [src] + ([f"stack: {note}"] if note else [])
    if dx:
        notes.append(f"recentred by {dx:+g} px along x ({center} → (n-1)/2)")
    return TiltSeries(data, angles, vs, p, "; ".join(notes))


def write_tilt_series(mrc_path, data, angles_deg, voxel_size, *, force: bool = False,
                      inputs=()) -> tuple[Path, Path]:
    """Write a tilt series as an MRC image stack plus ``<stem>.tlt``; returns both paths."""
    d = np.asarray(data)
    _check_stack_shape(d, "tilt series")
    a = validate_angles(angles_deg, n_images=d.shape[0])
    p = Path(mrc_path)
    tlt = p.with_suffix(".tlt")
    writable_path(p, force, inputs)
    writable_path(tlt, force, inputs)
    outs = Outputs(force=True)  # checked above; both files or neither
    outs.file(p, own=True)
    outs.file(tlt, own=True)
    with outs.writing() as stage:
        write_mrc(stage(p), d, voxel_size, kind="stack")
        write_tlt(stage(tlt), a)
    return p, tlt


def _element_from_name(path: Path, prefix: str) -> str:
    return check_element(path.stem[len(prefix):], where=path.name)


def read_dataset(folder) -> DataSet:
    """Read a data-set folder (see module docstring) with every consistency check."""
    root = existing_folder(folder, "data-set folder")
    haadf_path = root / "haadf.mrc"
    if not haadf_path.is_file():
        raise FileNotFoundError(f"data-set folder {root} has no haadf.mrc")
    angles_path = root / "angles.tlt"
    if not angles_path.is_file():
        raise FileNotFoundError(f"data-set folder {root} has no angles.tlt")
    eds_paths = sorted(root.glob("eds_*.mrc"))
    phantom_paths = sorted(root.glob("phantom_*.mrc"))
    eds_el = [_element_from_name(q, "eds_") for q in eds_paths]
    ph_el = [_element_from_name(q, "phantom_") for q in phantom_paths]

    haadf, vs = read_mrc(haadf_path)
    angles = read_tlt(angles_path)
    if angles.size != haadf.shape[0]:
        raise ValueError(
            f"angles has {angles.size} entries but the tilt series has {haadf.shape[0]} images "
            f"(angles.tlt vs haadf.mrc in {root})"
        )

    def same_vs(v, name):
        if abs(v - vs) > _VS_RTOL * vs:
            raise ValueError(f"{name} has voxel size {v:g} Å but haadf.mrc has {vs:g} Å")

    eds = {}
    for el, q in zip(eds_el, eds_paths):
        d, v = read_mrc(q)
        if d.shape != haadf.shape:
            raise ValueError(f"{q.name} has shape {d.shape} but haadf.mrc has {haadf.shape}")
        same_vs(v, q.name)
        eds[el] = d
    phantoms: dict[str, np.ndarray] = {}
    for el, q in zip(ph_el, phantom_paths):
        d, v = read_mrc(q)
        shapes = {x.shape for x in phantoms.values()}
        if shapes and d.shape not in shapes:
            raise ValueError(f"{q.name} has shape {d.shape} but the other phantoms have {shapes.pop()}")
        same_vs(v, q.name)
        phantoms[el] = d
    atoms = read_xyz(root / "atoms_true.xyz") if (root / "atoms_true.xyz").is_file() else None
    return DataSet(haadf, eds, angles, vs, atoms, phantoms, root)


def _validated(ds: DataSet) -> tuple[np.ndarray, dict, np.ndarray, dict, float]:
    haadf = finite_float32(ds.haadf, "dataset.haadf")
    _check_stack_shape(haadf, "dataset.haadf")
    angles = validate_angles(ds.angles_deg, n_images=haadf.shape[0])
    vs = check_voxel_size(ds.voxel_size, "dataset.voxel_size")
    eds = {}
    for el, d in ds.eds.items():
        check_element(el, where="dataset.eds")
        d = finite_float32(d, f"dataset.eds[{el!r}]")
        if d.shape != haadf.shape:
            raise ValueError(f"EDS map {el} has shape {d.shape} but the HAADF series has {haadf.shape}")
        eds[el] = d
    phantoms = {}
    for el, d in ds.phantoms.items():
        check_element(el, where="dataset.phantoms")
        d = finite_float32(d, f"dataset.phantoms[{el!r}]")
        if d.ndim != 3:
            raise ValueError(f"phantom {el} must be a 3D volume (z, y, x), got shape {d.shape}")
        phantoms[el] = d
    return haadf, eds, angles, phantoms, vs


def write_dataset(folder, dataset: DataSet, *, force: bool = False) -> Path:
    """Write ``dataset`` as a data-set folder (created if missing).

    Every target file is checked before anything is written: an existing file is refused
    unless ``force``, and the data set's own source folder is always refused.
    """
    haadf, eds, angles, phantoms, vs = _validated(dataset)
    root = Path(folder)
    if dataset.path is not None and root.exists() and Path(dataset.path).resolve() == root.resolve():
        raise ValueError(f"output folder {root} is the data set's source folder; choose another")
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"output {root} exists and is not a folder")
    targets = [root / "haadf.mrc", root / "angles.tlt"]
    targets += [root / f"eds_{el}.mrc" for el in eds]
    targets += [root / f"phantom_{el}.mrc" for el in phantoms]
    if dataset.atoms_true is not None:
        targets.append(root / "atoms_true.xyz")
    if root.exists():
        for t in targets:
            writable_path(t, force=force)
    outs = Outputs(force=force)
    outs.folder(root, "output folder")
    with outs.writing() as stage:  # all files or none: written aside, moved in at the end
        tmp = stage.folder(root)
        write_mrc(tmp / "haadf.mrc", haadf, vs, kind="stack")
        write_tlt(tmp / "angles.tlt", angles)
        for el, d in eds.items():
            write_mrc(tmp / f"eds_{el}.mrc", d, vs, kind="stack")
        for el, d in phantoms.items():
            write_mrc(tmp / f"phantom_{el}.mrc", d, vs, kind="volume")
        if dataset.atoms_true is not None:
            write_xyz(tmp / "atoms_true.xyz", dataset.atoms_true, "true atom positions, Å")
    return root
