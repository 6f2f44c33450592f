"""Workflow-aware defaults: a dock's layer input follows the newest suitable layer.

Each dock registers its layer pickers with :meth:`JobDockWidget.follow_newest` and a
``pick`` callable built from :func:`newest` and the predicates here. Whenever the layer
list changes, a picker the user has not set themselves moves to the newest layer that
fits best (the aligned series for a reconstruction, the newest volume for tracing, ...);
a layer the user chose stays chosen while it exists. "Newest" is the last in napari's
layer list (the top of the list panel), where a new layer is added and where a result
that replaces an older one of the same name stays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from napari.layers import Image, Layer

from .._layers import is_series_data, layer_angles_deg, layer_info

__all__ = [
    "LayerDefault",
    "newest",
    "newest_per_element",
    "is_series",
    "is_volume",
    "was_aligned",
    "has_angles",
    "is_plain",
]

Predicate = Callable[[Layer], bool]


def is_series(layer) -> bool:
    """A grey image that is not marked as a volume: a tilt series (angle, y, x), shown as
    a plain 3D array, or in ``_layers.series_layout``'s 4D or sinogram layout."""
    if not isinstance(layer, Image) or layer.rgb:
        return False
    if is_series_data(layer):
        return True
    return layer.ndim == 3 and layer_info(layer).get("kind") != "volume"


def is_volume(layer) -> bool:
    """A 3D grey image that is not marked as a tilt series."""
    return (isinstance(layer, Image) and layer.ndim == 3 and not layer.rgb
            and layer_info(layer).get("kind") != "tilt_series")


def has_angles(layer) -> bool:
    """Whether the layer's metadata carries its tilt angles."""
    return layer_angles_deg(layer) is not None


def is_plain(layer) -> bool:
    """Not an element's signal or map (e.g. HAADF, not ``eds_Ag``)."""
    return not layer_info(layer).get("element")


def was_aligned(viewer) -> Predicate:
    """``layer -> bool``: made by Align, or made from an aligned layer still in ``viewer``
    (e.g. an aligned series preprocessed afterwards), following ``source_layers``."""

    def aligned(layer, seen=()) -> bool:
        info = layer_info(layer)
        if info.get("algorithm") == "align":
            return True
        for name in info.get("source_layers", ()):
            if name in seen or name == layer.name or name not in viewer.layers:
                continue
            if aligned(viewer.layers[name], (*seen, layer.name)):
                return True
        return False

    return lambda layer: aligned(layer)


def newest(candidates: Iterable, *preferences: Predicate):
    """The newest candidate that the first satisfiable preference accepts.

    ``preferences`` are tried in order; a layer must pass all preferences up to that one
    (``newest(c, aligned, plain)``: newest aligned plain series, else newest aligned one,
    else the newest of all). ``None`` if there are no candidates.
    """
    layers = [c for c in candidates if c is not None]
    for n in range(len(preferences), 0, -1):
        fits = [lyr for lyr in layers if all(p(lyr) for p in preferences[:n])]
        if fits:
            return fits[-1]
    return layers[-1] if layers else None


def newest_per_element(candidates: Iterable, element_of: Callable[[Layer], str | None]) -> list:
    """One layer per element, the newest of each, in the order of the elements' first
    layers; layers with no element are left out."""
    chosen: dict[str, Layer] = {}
    for layer in candidates:
        element = element_of(layer)
        if element:
            chosen[element] = layer  # later (newer) layers win, first position stays
    return list(chosen.values())


def _key(value):
    if isinstance(value, (list, tuple)):
        return tuple(id(v) for v in value)
    return () if value is None else (id(value),)


class LayerDefault:
    """Keeps one layer picker (a ComboBox or Select of layers) on ``pick()`` until the
    user picks something else themselves.

    The picker follows when it is empty, when it still shows the last automatic pick, or
    when what it showed was removed from the viewer (magicgui then falls back to the first
    choice, which nobody chose).
    """

    def __init__(self, widget, pick: Callable[[], object], viewer):
        self.widget = widget
        self.pick = pick
        self.viewer = viewer
        self._auto: tuple | None = None  # none yet: the first update always picks
        self._shown: list = []

    def _follows(self) -> bool:
        current = _key(self.widget.value)
        if self._auto is None or not current or current == self._auto:
            return True
        return any(layer not in self.viewer.layers for layer in self._shown)

    def update(self) -> None:
        if self._follows():
            best = self.pick()
            # None only where the picker can show "nothing": never a layer it would refuse.
            settable = best is not None or getattr(self.widget, "_nullable", False)
            if settable and _key(best) != _key(self.widget.value):
                self.widget.value = best
            self._auto = _key(self.widget.value)
        value = self.widget.value
        self._shown = list(value) if isinstance(value, (list, tuple)) else (
            [] if value is None else [value])
