"""Results you can compare: "Keep result" freezes the current result layers as copies
named with their parameters (``map_Au [HEBT α0.8 n200]``), and a new result hides the
copies it supersedes, so that the newest result is the one on screen.

A reconstruction widget writes its result into the same layers on every run (``sirt``,
``map_<El>``, ``est``): the live layers stay cheap to update and keep their contrast.
To compare two settings, the user keeps the first result (a frozen copy with its own
name and metadata), runs again, and toggles the copies' visibility (or uses napari's
grid mode).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

import numpy as np
from napari.layers import Image
from qtpy.QtWidgets import QPushButton

from .._layers import METADATA_KEY, layer_info

__all__ = ["result_tag", "keep_results", "hide_superseded", "KeepResultButton"]


def result_tag(layer) -> str:
    """The algorithm and main parameters of a result layer, e.g. ``HEBT α0.8 n200``,
    ``SIRT n100 λ0.5`` or ``EST n200+200``, from its ``metadata["atomtomo"]``."""
    info = layer_info(layer)
    params = info.get("parameters") or {}
    algorithm = str(info.get("algorithm") or "result")
    words = [algorithm.replace("_", " ").upper()]
    if params.get("alpha") is not None:
        words.append(f"α{float(params['alpha']):g}")
    n_iter = params.get("n_iter")
    if n_iter is not None:
        tight = params.get("n_iter_tight")
        words.append(f"n{int(n_iter)}" + (f"+{int(tight)}" if tight else ""))
    relaxation = params.get("relaxation")
    if relaxation is not None and float(relaxation) != 1.0:
        words.append(f"λ{float(relaxation):g}")
    return " ".join(words)


def _kept_name(viewer, name: str, tag: str) -> str:
    base = f"{name} [{tag}]"
    candidate, k = base, 2
    while candidate in viewer.layers:
        candidate, k = f"{base} #{k}", k + 1
    return candidate


def keep_results(viewer, names: Iterable[str]) -> list:
    """Freeze the image layers ``names`` of ``viewer`` as new layers named with their
    parameters; returns the new layers. The live layers are hidden (they will show the
    next run), the copies stay visible. The copies' metadata say what they were kept
    from (``kept_from``)."""
    kept = []
    for name in names:
        if name not in viewer.layers or not isinstance(viewer.layers[name], Image):
            continue
        layer = viewer.layers[name]
        metadata = copy.deepcopy(dict(layer.metadata))
        metadata.setdefault(METADATA_KEY, {})["kept_from"] = name
        new = Image(
            np.array(layer.data, copy=True), name=_kept_name(viewer, name, result_tag(layer)),
            scale=layer.scale, translate=layer.translate, axis_labels=layer.axis_labels,
            units=layer.units, colormap=layer.colormap, contrast_limits=layer.contrast_limits,
            blending=layer.blending, opacity=layer.opacity, metadata=metadata)
        viewer.layers.insert(viewer.layers.index(layer), new)  # just below the live one
        layer.visible = False
        kept.append(new)
    return kept


def hide_superseded(viewer, names: Iterable[str]) -> list[str]:
    """Show the result layers ``names`` and hide the kept copies of them (layers named
    ``<name> [...]``); returns the names of the layers hidden."""
    names = [n for n in names if n in viewer.layers]
    hidden = []
    for layer in viewer.layers:
        if layer.name in names:
            layer.visible = True
        elif layer.visible and any(layer.name.startswith(f"{n} [") for n in names):
            layer.visible = False
            hidden.append(layer.name)
    return hidden


class KeepResultButton(QPushButton):
    """"Keep result": freezes the dock's current result layers (``result_names()``).

    Enabled when a result layer exists and no job is running; after a job finishes, the
    new result is shown and the kept copies it supersedes are hidden. ``last_kept``
    holds the names of the latest copies (the dock's read-out names them).
    """

    def __init__(self, dock, result_names: Callable[[], list[str]], report=None):
        super().__init__("Keep result")
        self.setToolTip("freeze the current result as new layers named with its parameters "
                        "(e.g. map_Au [HEBT α0.8 n200]), to compare with the next run")
        self._dock, self._names, self._report = dock, result_names, report
        self.last_kept: list[str] = []
        self.clicked.connect(self.keep)
        runner = dock.runner
        runner.finished.connect(self._on_finished)
        for signal in (runner.started, runner.finished, runner.errored, runner.cancelled):
            signal.connect(self.update_state)
        dock.viewer.layers.events.inserted.connect(self.update_state)
        dock.viewer.layers.events.removed.connect(self.update_state)
        self.update_state()

    def _present(self) -> list[str]:
        return [n for n in self._names() if n in self._dock.viewer.layers]

    def update_state(self, *_) -> None:
        self.setEnabled(bool(self._present()) and not self._dock.runner.busy)

    def keep(self) -> list[str]:
        kept = keep_results(self._dock.viewer, self._present())
        self.last_kept = [layer.name for layer in kept]
        if self._report is not None and kept:
            self._report(f"kept: {', '.join(self.last_kept)}")
        return self.last_kept

    def _on_finished(self, *_) -> None:
        hide_superseded(self._dock.viewer, self._names())
