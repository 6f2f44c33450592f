"""What every dock widget shares: layer replacement by name, the Run/Copy-as-command
pattern with live validation, and the ``atomtomo ...`` command-line builder.

A widget subclasses :class:`JobDockWidget`, puts its magicgui input widgets in
``self.inputs`` and implements

* ``validate() -> str | None``: the reason Run must stay disabled, or ``None``
  (raising ``ValueError`` works too: its sentence becomes the reason);
* ``command_line() -> str``: the equivalent ``atomtomo`` command, usually built with
  :func:`format_command` from the same frozen parameter dataclass the job uses;
* ``start_job()``: hand arrays (not layers) to ``self.runner.run(...)``.

Any input change, layer list change or job start/end re-validates (stardist-napari's
pattern): Run is disabled with the reason shown while the inputs are invalid or a job
runs anywhere in the plugin.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Mapping, Sequence

import numpy as np
from magicgui.widgets import Container
from napari.layers import Image, Layer
from napari.utils.notifications import show_info
from qtpy.QtCore import Qt
from qtpy.QtGui import QGuiApplication
from qtpy.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from .._layers import layer_info

__all__ = [
    "add_or_replace_layers",
    "overwrite_image_data",
    "format_command",
    "layer_file_hint",
    "JobDockWidget",
]


def _as_tuples(layer_data) -> list[tuple]:
    if layer_data is None:
        return []
    if (
        isinstance(layer_data, tuple)
        and 1 <= len(layer_data) <= 3
        and (len(layer_data) < 2 or isinstance(layer_data[1], Mapping))
    ):
        return [layer_data]
    return list(layer_data)


#: Image attributes an in-place replacement copies from the new layer data tuple.
_IN_PLACE_KEYS = ("scale", "translate", "axis_labels", "units", "metadata", "colormap",
                  "blending", "opacity", "visible")


def _differs(layer, key: str, value) -> bool:
    current = getattr(layer, key)
    if key in ("scale", "translate"):
        return np.shape(current) != np.shape(value) or not np.allclose(current, value)
    if key == "units":
        return tuple(str(u) for u in current) != tuple(
            "pixel" if v is None else str(v) for v in value
        )
    if key == "colormap":
        return getattr(current, "name", current) != getattr(value, "name", value)
    try:
        return bool(current != value)
    except (TypeError, ValueError):
        return True


def overwrite_image_data(layer, data) -> bool:
    """Copy ``data`` into an image layer's own array and redraw it; ``False`` if it cannot.

    The cheap way to show a new preview frame: setting ``layer.data`` makes napari
    recompute the dims and extents of the whole viewer (about half the cost of an update),
    copying into the array it already shows only re-slices and redraws this layer. Only
    for arrays that nothing else holds (the runner's preview buffers): the old values are
    overwritten.
    """
    target = layer.data
    new = np.asarray(data)
    if (
        not isinstance(layer, Image)
        or not isinstance(target, np.ndarray)
        or not target.flags.writeable
        or target.shape != new.shape
        or target.dtype != new.dtype
        or np.shares_memory(target, new)
    ):
        return False
    np.copyto(target, new)
    layer.refresh(extent=False)  # same shape: napari need not recompute the extent
    layer.reset_contrast_limits()
    return True


def _set_changed_attributes(layer, kwargs) -> None:
    for key in _IN_PLACE_KEYS:  # each setter may re-slice: skip unchanged values
        if key in kwargs and _differs(layer, key, kwargs[key]):
            setattr(layer, key, kwargs[key])


def add_or_replace_layers(viewer, layer_data, *, buffers=None, adopt=frozenset(),
                          attributes: bool = True) -> list[Layer]:
    """Add layer data tuples to ``viewer``, replacing layers of the same name.

    An image of the same dimensionality is updated in place (data, scale, metadata, ...)
    so nothing flickers and napari makes no new layer; anything else is removed and
    re-inserted at its index.

    ``buffers`` (a set the caller keeps, e.g. a job's) names images whose arrays only the
    caller holds: new values of the same shape and dtype are copied into them (see
    :func:`overwrite_image_data`), and their other attributes are set only when
    ``attributes`` is true (a job's result, not its progress frames). An image named in
    ``adopt`` that gets a new array gets a copy, and its name joins ``buffers``: arrays
    handed in are never written to later. Returns the layers, in the order given. Call
    from the main thread.
    """
    owned = buffers if buffers is not None else set()
    out = []
    for item in _as_tuples(layer_data):
        data = item[0]
        kwargs = dict(item[1]) if len(item) > 1 else {}
        layer_type = item[2] if len(item) > 2 else "image"
        name = kwargs.get("name")
        old = viewer.layers[name] if name is not None and name in viewer.layers else None
        if old is not None and name in owned and overwrite_image_data(old, data):
            if attributes:
                _set_changed_attributes(old, kwargs)
            out.append(old)
            continue
        if layer_type == "image" and name in adopt:
            data = np.array(data, copy=True)
            owned.add(name)
        else:
            owned.discard(name)
        if (
            old is not None
            and layer_type == "image"
            and isinstance(old, Image)
            and np.ndim(data) == old.ndim
        ):
            old.data = data
            _set_changed_attributes(old, kwargs)
            old.reset_contrast_limits()
            out.append(old)
            continue
        new = Layer.create(data, kwargs, layer_type)
        if old is not None:
            index = viewer.layers.index(old)
            viewer.layers.remove(old)
            viewer.layers.insert(index, new)
        else:
            viewer.add_layer(new)
        out.append(new)
    return out


def _format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, np.generic):
        return _format_value(value.item())
    if isinstance(value, (list, tuple, np.ndarray)):
        return ",".join(_format_value(v) for v in value)
    return str(value)


def format_command(
    subcommand: str | Sequence[str],
    positionals: Sequence = (),
    parameters=None,
    *,
    option_names: Mapping[str, str | None] | None = None,
    extra: Mapping | None = None,
) -> str:
    """The ``atomtomo`` command line for a subcommand and its parameters.

    Parameters
    ----------
    subcommand : str or sequence of str
        E.g. ``"est"`` or ``("simulate", "silica")``.
    positionals : sequence
        Positional arguments (paths), quoted for a POSIX shell.
    parameters : dataclass or mapping, optional
        Field ``n_iter`` becomes ``--n-iter VALUE`` unless ``option_names`` maps it to
        another option (``{"n_iter": "--iterations"}``) or to ``None`` (left out).
        ``True`` gives a bare flag, ``False`` and ``None`` are left out, sequences are
        comma-joined.
    extra : mapping, optional
        More options, already spelled as ``{"--out": "volume.mrc"}``.
    """
    if dataclasses.is_dataclass(parameters) and not isinstance(parameters, type):
        items = [(f.name, getattr(parameters, f.name)) for f in dataclasses.fields(parameters)]
    elif parameters is None:
        items = []
    else:
        items = list(dict(parameters).items())
    names = dict(option_names or {})
    words = ["atomtomo"]
    words += [subcommand] if isinstance(subcommand, str) else list(subcommand)
    words += [_format_value(p) for p in positionals]
    options = [
        (names.get(k, "--" + k.replace("_", "-")), v)
        for k, v in items
        if names.get(k, "") is not None
    ]
    options += list((extra or {}).items())
    for option, value in options:
        if value is None or value is False:
            continue
        words.append(option)
        if value is not True:
            words.append(_format_value(value))
    return " ".join(shlex.quote(w) for w in words)


def layer_file_hint(layer, suffix: str = ".mrc") -> str:
    """The file a layer was read from, or ``<layer name><suffix>`` as a placeholder."""
    path = layer_info(layer).get("source_path")
    return str(path) if path else f"{layer.name}{suffix}"


class JobDockWidget(QWidget):
    """Base dock widget: magicgui inputs, a reason label, Run, Copy as command, a runner."""

    run_text = "Run"
    #: Whether this widget's jobs run numba kernels (then they wait for any other job).
    exclusive = True

    def __init__(self, napari_viewer, parent: QWidget | None = None):
        from ._activity import runner_hub  # noqa: PLC0415 (avoid an import cycle)
        from ._runner import JobRunner  # noqa: PLC0415

        super().__init__(parent)
        self.viewer = napari_viewer
        self.inputs = Container(widgets=[], labels=True)
        self.reason = QLabel("")
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet("color: #e0a040")
        # Hidden, it keeps its line: a job's start and end ("a job is running ...") then
        # change no dock's height. A resize of the dock area would redraw every plot in it
        # (a full matplotlib draw: 50-250 ms of the GUI thread).
        policy = self.reason.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.reason.setSizePolicy(policy)
        self.run_button = QPushButton(self.run_text)
        self.copy_button = QPushButton("Copy as command")
        self.copy_button.setToolTip("copy the equivalent atomtomo command line to the clipboard")
        self.runner = JobRunner(napari_viewer, self)
        self._defaults: list = []

        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.copy_button)
        self.button_row = buttons  # docks add their own buttons (e.g. Keep result)
        # The dock's content scrolls: four docks once needed a 2,657 px tall window.
        # ``self.layout()`` is the content's layout, where docks add their parts.
        content = QWidget()
        layout = QVBoxLayout(content)
        self._content_layout = layout
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll_area)
        layout.addWidget(self.inputs.native)
        layout.addWidget(self.reason)
        layout.addLayout(buttons)
        layout.addWidget(self.runner)
        layout.addStretch(1)

        self.run_button.clicked.connect(self._on_run)
        self.copy_button.clicked.connect(self._on_copy_command)
        self.inputs.changed.connect(self.revalidate)
        for signal in (self.runner.started, self.runner.finished, self.runner.errored,
                       self.runner.cancelled):
            signal.connect(self.revalidate)
        # PyQt drops this connection when the widget is destroyed.
        runner_hub().busy_changed.connect(self.revalidate)

    def layout(self):  # noqa: D102 (the scrolled content's layout; see __init__)
        return self._content_layout

    def sizeHint(self):  # noqa: N802 (Qt) as wide as the content, as tall as it likes
        hint = self.scroll_area.widget().sizeHint()
        hint.setWidth(hint.width() + self.scroll_area.verticalScrollBar().sizeHint().width())
        return hint

    # -- to implement ------------------------------------------------------------
    def validate(self) -> str | None:
        """The reason the job cannot run now, or ``None``."""
        return None

    def command_line(self) -> str:
        """The equivalent ``atomtomo`` command line."""
        raise NotImplementedError

    def start_job(self) -> None:
        """Start the job with ``self.runner.run(...)``."""
        raise NotImplementedError

    # -- shared behaviour --------------------------------------------------------
    def reason_text(self) -> str | None:
        """Why Run is disabled now (a running job or invalid inputs), or ``None``."""
        from ._runner import JobRunner  # noqa: PLC0415

        if self.runner.busy or (self.exclusive and JobRunner.any_busy()):
            return "a job is running; wait for it or cancel it"
        try:
            return self.validate()
        except ValueError as exc:
            return str(exc)

    def revalidate(self, *_) -> None:
        reason = self.reason_text()
        self.run_button.setEnabled(reason is None)
        self.copy_button.setEnabled(self._command_or_none() is not None)
        self.reason.setText(reason or "")
        self.reason.setVisible(bool(reason))

    def follow_newest(self, widget, *preferences, pick=None) -> None:
        """Keep the layer picker ``widget`` on the newest of its choices that fits
        ``preferences`` best (see :func:`._defaults.newest`), or on ``pick()``, until the
        user picks another layer themselves."""
        from ._defaults import LayerDefault, newest  # noqa: PLC0415

        if pick is None:
            def pick():
                return newest(widget.choices, *preferences)
        default = LayerDefault(widget, pick, self.viewer)
        self._defaults.append(default)
        default.update()

    def update_defaults(self) -> None:
        """Move every followed layer picker to its newest suitable layer."""
        for default in self._defaults:
            default.update()

    def reset_choices(self, *_) -> None:
        """Refresh layer pickers (napari calls this when the layer list changes)."""
        self.inputs.reset_choices()
        self.update_defaults()
        self.revalidate()

    def _command_or_none(self) -> str | None:
        try:
            return self.command_line()
        except (ValueError, NotImplementedError, AttributeError, TypeError):
            return None

    def _on_run(self) -> None:
        self.revalidate()
        if self.run_button.isEnabled():
            self.start_job()

    def _on_copy_command(self) -> None:
        command = self._command_or_none()
        if command is None:
            return
        QGuiApplication.clipboard().setText(command)
        show_info(f"copied: {command}")
