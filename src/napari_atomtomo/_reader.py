"""npe2 readers: MRC volumes and tilt series, data-set folders, XYZ/CSV atoms, and the
vendor formats of the ``formats`` extra (Gatan DM3/DM4 tilt series, folders of Bruker
BCF files with HAADF + EDS, one per tilt).

Everything is read through :mod:`napari_atomtomo.io` and turned into layers by
:mod:`napari_atomtomo._layers`, so the layers carry scale (Å), axis labels, units and
``metadata["atomtomo"]`` (with ``source_path``, and ``angles_deg`` for tilt series).

An MRC file is a tilt series when an angle file sits next to it (``<stem>.tlt``,
``<stem>.rawtlt`` or ``angles.tlt``) with one angle per image, or when its header marks
it as an image stack; otherwise it is a volume. Files named ``phantom_*``, ``map_*`` or
``wt_*`` are always volumes (CONVENTIONS.md "Files"). Without rosettasciio a DM3 file or
BCF folder is still claimed, and opening it says what to install.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import io
from ._atoms_layers import atoms_layer_data
from ._layers import contrast_range, element_colormap, image_layer_data
from .io.formats import read_angles

__all__ = [
    "get_mrc_reader",
    "get_dataset_reader",
    "get_atoms_reader",
    "get_dm3_reader",
    "get_mat_reader",
    "get_zarr_reader",
    "read_zarr_layers",
    "read_mat_layers",
    "read_mrc_layers",
    "read_dm3_layers",
    "read_bcf_layers",
    "read_dataset_layers",
    "read_atoms_layers",
]

MRC_SUFFIXES = (".mrc", ".mrcs", ".rec", ".st", ".ali")
DM3_SUFFIXES = (".dm3", ".dm4", ".emd")
VOLUME_PREFIXES = ("phantom_", "map_", "wt_")


def _single_path(path) -> str | None:
    if isinstance(path, (list, tuple)):
        return None if len(path) != 1 else str(path[0])
    return str(path)


# ----------------------------------------------------------------------------- MRC
def read_mrc_layers(path, angles_path=None) -> list[tuple]:
    """Layer data for one MRC file: a tilt series (with angles) or a volume.

    ``angles_path`` forces a tilt series with those angles; without it the sibling angle
    file (if any) is used, as described in the module docstring.
    """
    p = Path(path)
    if angles_path is not None:
        ts = io.read_tilt_series(p, angles_path)
        return [_tilt_series_layer(ts.data, ts.voxel_size, p.stem, p, ts.angles_deg, ts.angles_source)]
    header = io.read_mrc_header(p)
    angles_file = None if p.name.startswith(VOLUME_PREFIXES) else io.find_angles_file(p)
    if angles_file is not None:
        angles, _ = read_angles(angles_file)
        if angles.size == header.shape[0]:
            data, vs = io.read_mrc(p)
            return [_tilt_series_layer(data, vs, p.stem, p, angles, str(angles_file))]
    if _nbytes(header) > LAZY_MRC_BYTES:
        from .io.lazy import open_lazy

        data, vs = open_lazy(p)
        kind = ("tilt_series" if header.is_image_stack and not p.name.startswith(VOLUME_PREFIXES)
                else "volume")
        return [_lazy_layer(data, vs, p.stem, p, kind)]
    data, vs = io.read_mrc(p)
    if header.is_image_stack and not p.name.startswith(VOLUME_PREFIXES):
        return [_tilt_series_layer(data, vs, p.stem, p, None, "")]
    return [
        image_layer_data(
            data, vs, p.stem, "read", {"path": str(p)}, kind="volume",
            metadata={"source_path": str(p)},
        )
    ]


def _nbytes(header) -> int:
    try:
        return int(np.prod(header.shape)) * np.dtype(header.dtype).itemsize
    except TypeError:
        return 0


def _tilt_series_layer(data, vs, name, path, angles, angles_source, **kwargs):
    return image_layer_data(
        data, vs, name, "read", {"path": str(path)}, kind="tilt_series", angles_deg=angles,
        metadata={"source_path": str(path), "angles_source": angles_source or None},
        **kwargs,
    )


def get_mrc_reader(path):
    """npe2 reader hook for MRC files (a callable, or ``None`` if not ours)."""
    p = _single_path(path)
    if p is None or not p.lower().endswith(MRC_SUFFIXES) or not Path(p).is_file():
        return None
    return lambda _path: read_mrc_layers(p)


# ----------------------------------------------------------------------------- lazy
#: MRC files larger than this open as a lazy dask array (memory-mapped, read on demand).
LAZY_MRC_BYTES = 1 << 30


def _lazy_layer(data, vs, name, path, kind, angles=None, **extra):
    """A layer tuple holding lazy ``data`` (a dask array or a list of them: multiscale):
    the kwargs come from a placeholder, so nothing is read here."""
    first = data[0] if isinstance(data, list) else data
    # the smallest array with the same layout: a one-row series is a sinogram, any other
    # gets the 4D (angle, 1, y, x) layout of _layers.series_layout, and so must its data
    placeholder = np.zeros((first.shape[0], min(first.shape[1], 2), first.shape[-1]),
                           dtype=np.float32)
    laid_out, kwargs, kind_ = image_layer_data(
        placeholder, vs, name, "read", {"path": str(path)}, kind=kind, angles_deg=angles,
        metadata={"source_path": str(path), "lazy": True, **extra})
    if np.ndim(laid_out) > first.ndim:
        data = [d[:, None] for d in data] if isinstance(data, list) else data[:, None]
    if isinstance(data, list):
        kwargs["multiscale"] = True
        small = np.asarray(data[-1])
        kwargs["contrast_limits"] = contrast_range(float(small.min()), float(small.max()))
    return data, kwargs, kind_


def read_zarr_layers(path) -> list[tuple]:
    """An OME-Zarr volume or tilt series as one lazy multiscale image layer (dask arrays:
    napari reads only the chunks it shows, from the pyramid level that fits the view)."""
    from .io.omezarr import open_ome_zarr

    p = Path(path)
    levels, vs, attrs = open_ome_zarr(p)
    kind = "tilt_series" if attrs.get("kind") == "stack" else "volume"
    angles = attrs.get("angles_deg") if kind == "tilt_series" else None
    data = levels if len(levels) > 1 else levels[0]
    return [_lazy_layer(data, vs, p.stem, p, kind, angles,
                        **{k: v for k, v in attrs.items()
                           if k in ("algorithm", "parameters", "plan", "run", "residual")})]


def get_zarr_reader(path):
    """npe2 reader hook for ``.zarr`` folders written as OME-Zarr images."""
    p = _single_path(path)
    if p is None or not p.rstrip("/").lower().endswith(".zarr") or not Path(p).is_dir():
        return None
    return lambda _path: read_zarr_layers(p)


# ----------------------------------------------------------------------------- folders
def _is_dataset_folder(folder: Path) -> bool:
    return (folder / "haadf.mrc").is_file()


def _result_files(folder: Path) -> list[Path]:
    return sorted(q for prefix in ("map_", "wt_") for q in folder.glob(f"{prefix}*.mrc"))


def _eds_layers(ds, src: dict, path_of) -> list[tuple]:
    """One hidden, additive, element-coloured tilt-series layer per EDS signal."""
    return [
        image_layer_data(
            data, ds.voxel_size, f"eds_{el}", "read", src, kind="tilt_series",
            angles_deg=ds.angles_deg, element=el, metadata={"source_path": path_of(el)},
            colormap=element_colormap(el, "eds"), blending="additive", visible=False,
        )
        for el, data in ds.eds.items()
    ]


def read_bcf_layers(folder) -> list[tuple]:
    """Layer data for a folder of Bruker BCF files (one per tilt, ``<angle>.bcf``): the
    HAADF series and one EDS series per element the files list (window sums around each
    element's main line, see :func:`napari_atomtomo.io.read_bcf_tilt_series`)."""
    root = Path(folder)
    ds = io.read_bcf_tilt_series(root)
    src = {"path": str(root), "reader": "bcf", **{k: v for k, v in ds.metadata.items()
                                                   if k in ("binning", "background")}}
    haadf = image_layer_data(
        ds.haadf, ds.voxel_size, "haadf", "read", src, kind="tilt_series",
        angles_deg=ds.angles_deg, colormap="gray",
        metadata={"source_path": str(root), "angles_source": "BCF file names (degrees)",
                  "eds_lines": ds.metadata.get("lines")},
    )
    return [haadf] + _eds_layers(ds, src, lambda _el: str(root))


def _is_bcf_folder(folder: Path) -> bool:
    return any(folder.glob("*.bcf"))


def read_dataset_layers(folder) -> list[tuple]:
    """Layer data for a data-set folder (HAADF, EDS, phantoms, true atoms) or a folder of
    element maps (``map_<El>.mrc``, ``wt_<El>.mrc``) from ``eds``/``hebt``/``quantify``."""
    root = Path(folder)
    layers: list[tuple] = []
    if _is_dataset_folder(root):
        ds = io.read_dataset(root)
        src = {"path": str(root)}
        haadf = root / "haadf.mrc"
        layers.append(
            _tilt_series_layer(ds.haadf, ds.voxel_size, "haadf", haadf, ds.angles_deg,
                               str(root / "angles.tlt"), colormap="gray")
        )
        layers += _eds_layers(ds, src, lambda el: str(root / f"eds_{el}.mrc"))
        for el, data in ds.phantoms.items():
            layers.append(
                image_layer_data(
                    data, ds.voxel_size, f"phantom_{el}", "read", src, kind="volume",
                    element=el, metadata={"source_path": str(root / f"phantom_{el}.mrc")},
                    colormap=element_colormap(el, "phantom"), blending="additive",
                    visible=False,
                )
            )
        if ds.atoms_true is not None:
            layers.append(
                atoms_layer_data(ds.atoms_true, "atoms_true", "read",
                                 {"path": str(root / "atoms_true.xyz")},
                                 metadata={"source_path": str(root / "atoms_true.xyz")})
            )
    for q in _result_files(root):
        data, vs = io.read_mrc(q)
        element = q.stem.split("_", 1)[1]
        layers.append(
            image_layer_data(
                data, vs, q.stem, "read", {"path": str(q)}, kind="volume", element=element,
                metadata={"source_path": str(q)},
                colormap=element_colormap(element, q.stem.split("_", 1)[0]), blending="additive",
            )
        )
    if not layers:
        raise ValueError(
            f"{root} is not a data set: expected haadf.mrc and angles.tlt, or map_<El>.mrc files"
        )
    return layers


def get_dataset_reader(path):
    """npe2 reader hook for data-set folders and folders of element maps."""
    p = _single_path(path)
    if p is None:
        return None
    root = Path(p)
    if not root.is_dir():
        return None
    if _is_dataset_folder(root) or _result_files(root):
        return lambda _path: read_dataset_layers(root)
    if _is_bcf_folder(root):
        return lambda _path: read_bcf_layers(root)
    return None


# ----------------------------------------------------------------------------- atoms
def read_atoms_layers(path) -> list[tuple]:
    """Layer data (a Points layer, positions in Å) for an XYZ or CSV atom file."""
    p = Path(path)
    atoms = io.read_xyz(p) if p.suffix.lower() == ".xyz" else io.read_atoms_csv(p)
    return [atoms_layer_data(atoms, p.stem, "read", {"path": str(p)},
                             metadata={"source_path": str(p)})]


def _is_atoms_csv(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            header = fh.readline()
    except OSError:
        return False
    return [h.strip().lower() for h in header.split(",")[:4]] == ["element", "x", "y", "z"]


def get_atoms_reader(path):
    """npe2 reader hook for ``.xyz`` files and ``.csv`` files with an ``element,x,y,z`` header."""
    p = _single_path(path)
    if p is None or not Path(p).is_file():
        return None
    suffix = Path(p).suffix.lower()
    if suffix == ".xyz" or (suffix == ".csv" and _is_atoms_csv(Path(p))):
        return lambda _path: read_atoms_layers(p)
    return None


# ----------------------------------------------------------------------------- DM3
def read_dm3_layers(path) -> list[tuple]:
    """Layer data for a Gatan DM3/DM4 tilt series (angles from the file's tilt
    calibration or a sibling ``.tlt``/``.rawtlt``, see
    :func:`napari_atomtomo.io.read_dm3_tilt_series`)."""
    p = Path(path)
    ts = io.read_tilt_series(p)  # DM3/DM4 or EMD, through rosettasciio
    return [_tilt_series_layer(ts.data, ts.voxel_size, p.stem, p, ts.angles_deg,
                               ts.angles_source, colormap="gray")]


def get_dm3_reader(path):
    """npe2 reader hook for ``.dm3``/``.dm4`` tilt series."""
    p = _single_path(path)
    if p is None or not p.lower().endswith(DM3_SUFFIXES) or not Path(p).is_file():
        return None
    return lambda _path: read_dm3_layers(p)


# ----------------------------------------------------------------------------- MATLAB
def read_mat_layers(path) -> list[tuple]:
    """Layer data for a MATLAB ``.mat`` tilt series: the only 3D array, with the angles
    from the file's own angle variable (a vector or a single-axis Euler table) or a
    sibling angle file (see :func:`napari_atomtomo.io.read_tilt_series`)."""
    p = Path(path)
    ts = io.read_tilt_series(p)
    return [_tilt_series_layer(ts.data, ts.voxel_size, p.stem, p, ts.angles_deg,
                               ts.angles_source, colormap="gray")]


def get_mat_reader(path):
    """npe2 reader hook for MATLAB ``.mat`` tilt series."""
    p = _single_path(path)
    if p is None or not p.lower().endswith(".mat") or not Path(p).is_file():
        return None
    return lambda _path: read_mat_layers(p)
