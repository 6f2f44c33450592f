"""The "SIRT / HEBT" dock's modes and its inputs gathered into a job (a mixin).

:meth:`GatherInputsMixin.gather` turns the widget's layer pickers and fields into the
arrays and parameters of a SIRT, EDS-STEM or HEBT job (or a sweep), raising an
:class:`~._base.InputError` that names the field to blame; with ``arrays=False`` (every
input change) only shapes and dtypes are looked at.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from .._layers import element_of, layer_angles_deg, layer_info, layer_voxel_size, series_array
from ..core.elements import validate_element
from ..core.geometry import validate_angles
from ..core.hebt import HebtParams, check_ratios
from ..core.sirt import SirtParams, check_element_stacks, check_stack
from ..core.stopping import HEBT_STOP, EdsParams, StopParams
from ..jobs.reconstruction import EDS_ITERATIONS, parse_ratios
from ..jobs.sweep import parse_alphas, parse_n_values
from ._base import InputError, blame
from ._params import params_from_widgets

__all__ = ["GatherInputsMixin", "MODES", "SIRT", "EDS", "HEBT", "KIND", "DEFAULT_ITERATIONS",
           "RULE", "FIXED", "STOP_RULE", "stop_choices", "stop_note"]

SIRT, EDS, HEBT = "SIRT: one tilt series", "EDS-STEM: SIRT per element", "HEBT: HAADF + EDS"
MODES = (SIRT, EDS, HEBT)
KIND = {SIRT: "sirt", EDS: "eds", HEBT: "hebt"}
DEFAULT_ITERATIONS = {SIRT: SirtParams.n_iter, EDS: EDS_ITERATIONS, HEBT: HebtParams.n_iter}
#: The "stop" choice of EDS-STEM and HEBT: by the rule of ``atomtomo eds`` / ``atomtomo
#: hebt`` without ``--iterations`` (the default, core/stopping.py), or a fixed n.
RULE, FIXED = "rule", "fixed"
STOP_RULE = {EDS: StopParams(), HEBT: HEBT_STOP}


def stop_choices(mode: str) -> list[tuple[str, str]]:
    """The stop combo box's ``(text, value)`` choices in ``mode``, the rule's settings shown."""
    rule = STOP_RULE.get(mode, StopParams())
    return [(f"by rule (update < {rule.tol:g}, ≤ {rule.max_iterations})", RULE),
            ("fixed n", FIXED)]


def stop_note(stops: dict | None) -> str:
    """How each run stopped, for the status line: ``"stopped by rule at 560"`` (HEBT),
    ``"Ag stopped by rule at 173, Au at 300 (limit reached)"`` (EDS); ``""`` for fixed n."""
    if not stops:
        return ""
    parts = [("" if label == "HEBT" else f"{label} ") + ("stopped by rule at " if i == 0 else "at ")
             + f"{s['iterations']}" + ("" if s["met"] else " (limit reached)")
             for i, (label, s) in enumerate(stops.items())]
    return ", ".join(parts)


def _angles(layer) -> np.ndarray:
    angles = layer_angles_deg(layer)
    if angles is None:
        raise ValueError(f"{layer.name} has no tilt angles; open it with its .tlt file")
    return validate_angles(angles, n_images=series_array(layer).shape[0])


def _check_layer(layer):
    """A tilt-series layer's data, checked from its shape and dtype only (no copy, no scan)."""
    data = series_array(layer)
    if np.ndim(data) != 3:
        raise ValueError(f"{layer.name} must be 3D (angle, y, x); got shape {np.shape(data)}")
    if np.dtype(data.dtype).kind not in "biuf":
        raise ValueError(f"{layer.name} must hold real numbers, got dtype {data.dtype}")
    return data


def _data_dir(layer) -> str:
    path = layer_info(layer).get("source_path")
    return str(Path(path).parent) if path else "DATA_DIR"


class GatherInputsMixin:
    """``gather`` for :class:`~.sirt_hebt.SirtHebtWidget` (its pickers and fields)."""

    def _sweeping(self) -> bool:
        """Whether the planned run is the α × n sweep (HEBT mode with the sweep ticked)."""
        return self.mode.value == HEBT and self.sweep.value

    def _ruled(self) -> bool:
        """Whether the planned run stops by its rule (EDS or HEBT, not a sweep)."""
        return (self.mode.value in STOP_RULE and not self._sweeping()
                and self.stop.value == RULE)

    def gather(self, arrays: bool = True) -> dict:
        """Arrays and parameters of the job from the inputs; ``ValueError`` says what is wrong.

        With ``arrays=False`` (every input change) only the layers' shapes and dtypes are
        checked and nothing is copied or scanned; the values (finite, counts ≥ 0) are
        checked when the job starts.
        """
        mode, g = self.mode.value, {"mode": self.mode.value, "sources": []}
        if mode != EDS:
            layer = self.haadf.value
            if layer is None:
                raise InputError("add a tilt series layer (open an MRC with its .tlt, or a "
                                 "sample)", self.haadf)
            with blame(self.haadf):
                g["haadf"] = (check_stack(np.asarray(series_array(layer), np.float32),
                                          name=layer.name)
                              if arrays else _check_layer(layer))
            g["angles"], g["voxel_size"] = _angles(layer), layer_voxel_size(layer)
            g["ref_layer"] = layer
            g["sources"].append(layer.name)
            g["stacks"] = {"sirt": g["haadf"]}
        if mode != SIRT:
            layers = list(self.eds.value)
            if not layers:
                raise InputError("choose at least one EDS layer (e.g. eds_Ag, eds_Au)", self.eds)
            if mode == HEBT and g["ref_layer"] in layers:
                raise InputError(f"{g['ref_layer'].name} is both the HAADF and an EDS layer",
                                 self.eds)
            elements = [e for e in re.split(r"[,;\s]+", self.elements.value) if e]
            with blame(self.elements):
                if len(elements) != len(layers):
                    raise ValueError(f"give one element per EDS layer: {len(layers)} layers "
                                     f"but {len(elements)} elements "
                                     f"({', '.join(elements) or 'none'})")
                for el in elements:
                    validate_element(el)
                if len(set(elements)) < len(elements):
                    raise ValueError(f"elements {', '.join(elements)} name an element twice")
            with blame(self.eds):
                stacks = (check_element_stacks(
                    {el: np.asarray(series_array(lyr), np.float32)
                     for el, lyr in zip(elements, layers)})
                    if arrays else {el: _check_layer(lyr) for el, lyr in zip(elements, layers)})
            first = g.get("ref_layer", layers[0])
            shape = series_array(first).shape
            for lyr in layers:
                if series_array(lyr).shape != shape:
                    raise InputError(f"{lyr.name} has shape {series_array(lyr).shape} but "
                                     f"{first.name} "
                                     f"has shape {shape}", self.eds)
                if layer_angles_deg(lyr) is not None and not np.allclose(
                        _angles(lyr), _angles(first), atol=1e-3):
                    raise InputError(f"{lyr.name} has other tilt angles than {first.name}",
                                     self.eds)
            g.setdefault("angles", _angles(first))
            g.setdefault("voxel_size", layer_voxel_size(first))
            g.setdefault("ref_layer", first)
            g["stacks"] = stacks
            g["sources"] += [lyr.name for lyr in layers]
        ruled = self._ruled()
        g["stop"] = None
        if ruled:  # as the CLI without --iterations: at most the rule's limit
            g["stop"] = replace(STOP_RULE[mode], relaxation=round(self.relaxation.value, 4))
        n = g["stop"].max_iterations if ruled else int(self.n_iter.value)
        fixed = {"n_iter": n} if ruled else {}
        every = max(1, n // 25)
        inputs = {"alpha": self.alpha, "n_iter": self.n_iter, "relaxation": self.relaxation,
                  "nonnegative": self.nonnegative}
        if mode == HEBT:
            g["params"] = params_from_widgets(HebtParams, inputs, yield_every=every,
                                              **fixed)
            with blame(self.ratios):
                typed = parse_ratios(self.ratios.value)
                g["ratios"] = None if typed is None else check_ratios(typed, list(g["stacks"]))
        else:
            g["params"] = params_from_widgets(  # EDS: EdsParams, as atomtomo eds
                EdsParams if mode == EDS else SirtParams, inputs, yield_every=every,
                nonnegative=bool(self.nonnegative.value) or mode == EDS, **fixed)
        g["chunks"] = int(self.chunks.value)
        g["scheduler"] = self.scheduler.value.strip() or None
        if g["scheduler"] and not g["chunks"]:
            raise InputError("a scheduler runs y-slabs: set chunks to a number of rows "
                             "(or clear the scheduler)", self.scheduler)
        if ruled and g["chunks"]:  # as atomtomo eds: the rule looks at the whole volume
            raise InputError("y-slabs run a fixed count: choose stop 'fixed n' (the rule "
                             "looks at the whole volume at once)", self.stop)
        if self._sweeping():
            if g["chunks"]:
                raise InputError("the α × n sweep runs in memory: set chunks to 0",
                                 self.chunks)
            with blame(self.alphas):
                g["alphas"] = parse_alphas(self.alphas.value)
            with blame(self.n_values):
                g["n_values"] = parse_n_values(self.n_values.value)
            with blame(self.references):
                g["references"] = self._references(list(g["stacks"]), g["haadf"].shape,
                                                   arrays)
        return g

    def _references(self, elements, shape, arrays: bool = True) -> dict | None:
        refs = {}
        volume_shape = (shape[2], shape[1], shape[2])
        for lyr in self.references.value:
            el = element_of(lyr)
            if el not in elements:
                raise ValueError(f"reference {lyr.name} is for {el!r}, not one of {elements}")
            if lyr.data.shape != volume_shape:
                raise ValueError(f"reference {lyr.name} has shape {lyr.data.shape} but the maps "
                                 f"will have shape {volume_shape}")
            refs[el] = np.asarray(lyr.data, np.float32) if arrays else lyr.data
        missing = [el for el in elements if el not in refs]
        if refs and missing:
            raise ValueError(f"give a reference for every element or none; missing {missing}")
        return refs or None
