"""Atoms <-> napari Points layers: the layer data of traced or true atoms (marker size
from the element, see-through faces, element features) and the atoms read back from a
Points layer, with the conventions of :mod:`napari_atomtomo._layers`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ._colors import ELEMENT_COLORS, element_sizes
from ._layers import METADATA_KEY, _jsonable, provenance
from .core.atoms import Atoms

#: Opacity of atom markers: the density under and around them stays visible.
ATOM_OPACITY = 0.75


def _feature_default(name: str, column: np.ndarray):
    """Value a point added by hand gets: Si, zero, or an empty string."""
    if name == "element":
        return "Si"
    kind = np.asarray(column).dtype.kind
    if kind in "biuf":
        return np.asarray(column).dtype.type(0).item()
    return ""


def atoms_layer_data(
    atoms: Atoms,
    name: str,
    algorithm: str,
    parameters=None,
    source_layers: Sequence[str] = (),
    *,
    diameter_A: float | None = None,
    **layer_kwargs,
) -> tuple[np.ndarray, dict, str]:
    """An ``(data, kwargs, "points")`` tuple for atoms: world ``(z, y, x)`` in Å.

    ``features`` holds ``element``, ``intensity`` (zeros when the atoms have none) and every
    other per-atom column of ``atoms``; faces are coloured by element (Si yellow, O red,
    others from :data:`napari_atomtomo._colors.ELEMENT_COLORS`). Markers are
    ``diameter_A`` Å wide, by default sized by element from its covalent radius, scaled
    down to 0.6–0.8 Å (:func:`~napari_atomtomo._colors.atom_marker_diameter_A`), without a
    border, semi-transparent and spherically shaded in 3D, so the density they sit in
    stays visible; ``projection_mode="all"`` (napari 0.9's replacement of
    ``out_of_slice_display``) draws each atom on the slices its sphere cuts, smaller
    away from its centre.
    """
    if not isinstance(atoms, Atoms):
        raise ValueError(f"atoms must be an Atoms object, got {type(atoms).__name__}")
    # napari imports pandas (a dependency of napari) on the first Points layer with
    # features: 0.2-0.6 s in the GUI thread. The tuple is made in a job's worker thread
    # (samples, Trace, Load), so import it here and napari finds it loaded.
    import pandas  # noqa: F401, PLC0415
    if diameter_A is None:
        sizes = element_sizes(atoms.elements)
    elif not (np.isfinite(diameter_A) and diameter_A > 0):
        raise ValueError(f"diameter_A must be a positive number of Å, got {diameter_A!r}")
    features: dict[str, np.ndarray] = {"element": atoms.elements.astype(object)}
    features["intensity"] = np.asarray(
        atoms.features.get("intensity", np.zeros(len(atoms))), dtype=np.float64
    )
    for key, col in atoms.features.items():
        if key not in features:
            features[key] = np.asarray(col)
    metadata = provenance(algorithm, parameters, source_layers, kind="atoms")
    extra_meta = layer_kwargs.pop("metadata", None)
    if extra_meta:
        metadata[METADATA_KEY].update(_jsonable(dict(extra_meta)))
    kwargs = {
        "name": str(name),
        "ndim": 3,
        "features": features,
        "feature_defaults": {k: _feature_default(k, v) for k, v in features.items()},
        "face_color": "element",
        "face_color_cycle": dict(ELEMENT_COLORS),
        "border_width": 0.0,
        "opacity": ATOM_OPACITY,
        "shading": "spherical",
        "size": sizes if diameter_A is None else float(diameter_A),
        "projection_mode": "all",
        "axis_labels": ("z", "y", "x"),
        "units": ("angstrom",) * 3,
        "metadata": metadata,
    }
    kwargs.update(layer_kwargs)
    return atoms.positions_zyx(1.0).copy(), kwargs, "points"


def atoms_from_points_data(data, attributes: Mapping, default_element: str | None = None) -> Atoms:
    """Atoms from Points layer data and its attributes (``features``, ``scale``, ``translate``).

    World positions are ``data * scale + translate`` in ``(z, y, x)`` Å; the ``element``
    feature gives the symbols (``default_element`` fills in when there is none).
    """
    pts = np.asarray(data, dtype=np.float64)
    if pts.size == 0:
        pts = pts.reshape(0, 3)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise ValueError(f"atoms need 3D points (z, y, x), got points of shape {pts.shape}")
    scale = np.asarray(attributes.get("scale", (1.0, 1.0, 1.0)), dtype=np.float64)
    translate = np.asarray(attributes.get("translate", (0.0, 0.0, 0.0)), dtype=np.float64)
    world_zyx = pts * scale[-3:] + translate[-3:]
    features = attributes.get("features")
    columns: dict[str, np.ndarray] = {}
    if features is not None and len(features) == len(pts):
        for key in getattr(features, "columns", features.keys()):
            columns[str(key)] = np.asarray(features[key])
    if "element" in columns:
        elements = columns.pop("element").astype(str)
    elif default_element is not None:
        elements = np.full(len(pts), str(default_element))
    else:
        raise ValueError(
            "the points have no 'element' feature; add one or give a default element"
        )
    extra = {k: v for k, v in columns.items() if v.dtype.kind in "biuf"}
    return Atoms(elements, world_zyx[:, ::-1], extra)


def atoms_from_points_layer(layer, default_element: str | None = None) -> Atoms:
    """Atoms (``x, y, z`` in Å) from a napari Points layer made by :func:`atoms_layer_data`."""
    attrs = {"features": layer.features, "scale": layer.scale, "translate": layer.translate}
    return atoms_from_points_data(layer.data, attrs, default_element)
