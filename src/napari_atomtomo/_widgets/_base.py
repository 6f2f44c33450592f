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

import contextlib
import dataclasses
import shlex
from collections.abc import Mapping, Sequence

import numpy as np
from magicgui.widgets import ComboBox, Container
from napari.utils.notifications import show_info
from qtpy.QtCore import QEvent, Qt
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
from ._activity import runner_hub
from ._defaults import LayerDefault, is_series, newest
from ._layer_updates import add_or_replace_layers, overwrite_image_data
from ._runner import JobRunner

__all__ = [
    "InputError",
    "blame",
    "add_or_replace_layers",
    "overwrite_image_data",
    "format_command",
    "layer_file_hint",
    "is_empty_path",
    "JobDockWidget",
]


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


#: Outline of the input that makes a job invalid.
INVALID_STYLE = "border: 1px solid #e0a040;"


class InputError(ValueError):
    """A ``ValueError`` that names the input at fault (``widget``), which
    :meth:`JobDockWidget.revalidate` outlines; raise it with :func:`blame`."""

    def __init__(self, message: str, widget):
        super().__init__(message)
        self.widget = widget


@contextlib.contextmanager
def blame(widget):
    """Turn a ``ValueError`` raised inside into an :class:`InputError` naming ``widget``."""
    try:
        yield
    except InputError:
        raise
    except ValueError as exc:
        raise InputError(str(exc), widget) from None


def is_empty_path(path) -> bool:
    """True when a path input holds no path (magicgui's empty ``FileEdit`` gives ``"."``)."""
    return path is None or str(path) in ("", ".")


def layer_file_hint(layer, suffix: str = ".mrc") -> str:
    """The file a layer was read from, or ``<layer name><suffix>`` as a placeholder."""
    path = layer_info(layer).get("source_path")
    return str(path) if path else f"{layer.name}{suffix}"


#: A dock may shrink to this height; its content then scrolls.
MIN_DOCK_HEIGHT_PX = 150


class JobDockWidget(QWidget):
    """Base dock widget: magicgui inputs, a reason label, Run, Copy as command, a runner."""

    run_text = "Run"
    #: Whether this widget's jobs run numba kernels (then they wait for any other job).
    exclusive = True

    def __init__(self, napari_viewer, parent: QWidget | None = None):
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
        from ._tilt_readout import install_tilt_readout  # noqa: PLC0415

        install_tilt_readout(napari_viewer)  # the exact tilt angle on the canvas

    def layout(self):  # noqa: D102 (the scrolled content's layout; see __init__)
        return self._content_layout

    def sizeHint(self):  # noqa: N802 (Qt) as wide as the content, as tall as it likes
        hint = self.scroll_area.widget().sizeHint()
        hint.setWidth(hint.width() + self.scroll_area.verticalScrollBar().sizeHint().width())
        return hint

    def minimumSizeHint(self):  # noqa: N802 (Qt) never narrower than the content (it
        # would be cut off: no horizontal scrolling), but as short as a few lines
        hint = self.scroll_area.widget().minimumSizeHint()
        hint.setWidth(hint.width() + self.scroll_area.verticalScrollBar().sizeHint().width())
        hint.setHeight(min(hint.height(), MIN_DOCK_HEIGHT_PX))
        return hint

    # -- for subclasses building their inputs ------------------------------------
    def _add(self, widget, tooltip: str):
        """Append the magicgui ``widget`` to the inputs with its ``tooltip``; return it."""
        widget.tooltip = tooltip
        self.inputs.append(widget)
        return widget

    def _add_series_input(self, tooltip: str):
        """A "tilt series" layer picker (any tilt-series layer, or none) in the inputs."""
        return self._add(ComboBox(label="tilt series", choices=self._series_choices,
                                  nullable=True), tooltip)

    def _series_choices(self, _widget=None):
        return [(layer.name, layer) for layer in self.viewer.layers if is_series(layer)]

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
    def _invalid(self) -> tuple[str | None, object]:
        """``(reason, offending input)`` of invalid inputs (see :class:`InputError`), or
        ``(None, None)``."""
        try:
            return self.validate(), None
        except InputError as exc:
            return str(exc), exc.widget
        except ValueError as exc:
            return str(exc), None

    def reason_text(self) -> str | None:
        """Why Run is disabled now (a running job or invalid inputs), or ``None``."""
        if self.runner.busy or (self.exclusive and JobRunner.any_busy()):
            return "a job is running; wait for it or cancel it"
        return self._invalid()[0]

    def revalidate(self, *_) -> None:
        invalid, culprit = self._invalid()
        busy = self.runner.busy or (self.exclusive and JobRunner.any_busy())
        reason = "a job is running; wait for it or cancel it" if busy else invalid
        self.run_button.setEnabled(reason is None)
        self.copy_button.setEnabled(invalid is None and self._command_or_none() is not None)
        self.reason.setText(reason or "")
        self.reason.setVisible(bool(reason))
        self._highlight(culprit)

    def _highlight(self, culprit) -> None:
        """Outline the input that makes the job invalid (stardist-napari); clear the rest."""
        for widget in self.inputs:
            native = widget.native
            wanted = INVALID_STYLE if widget is culprit else ""
            if native.styleSheet() != wanted:
                native.setStyleSheet(wanted)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt)
        """Closing the widget cancels its job."""
        self.runner.cancel()
        super().closeEvent(event)

    def event(self, event) -> bool:
        """Taken out of its dock (napari's ``remove_dock_widget``, the dock's close button):
        cancel this widget's job, whose results would have nowhere to go."""
        if event.type() == QEvent.Type.ParentChange and self.parent() is None:
            self.runner.cancel()
        return super().event(event)

    def follow_newest(self, widget, *preferences, pick=None) -> None:
        """Keep the layer picker ``widget`` on the newest of its choices that fits
        ``preferences`` best (see :func:`._defaults.newest`), or on ``pick()``, until the
        user picks another layer themselves."""
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
        """The command line, or ``None`` when the inputs cannot make one (invalid inputs
        raise ``ValueError``; a widget without one raises ``NotImplementedError``)."""
        try:
            return self.command_line()
        except (ValueError, NotImplementedError):
            return None

    def _on_run(self) -> None:
        self.revalidate()
        if not self.run_button.isEnabled():
            return
        try:  # the values themselves (NaN, negative counts) are checked now, not per change
            self.start_job()
        except ValueError as exc:
            self.run_button.setEnabled(False)
            self.reason.setText(str(exc))
            self.reason.setVisible(True)
            self._highlight(getattr(exc, "widget", None))

    def _on_copy_command(self) -> None:
        command = self._command_or_none() if self._invalid()[0] is None else None
        if command is None:
            return
        QGuiApplication.clipboard().setText(command)
        show_info(f"copied: {command}")
