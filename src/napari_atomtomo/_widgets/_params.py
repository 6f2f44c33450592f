"""magicgui inputs generated from the parameter specs of :mod:`napari_atomtomo.core.params`.

:func:`param_widget` makes the input of one spec'd field (label, tooltip with its unit,
range, step and the dataclass default); :func:`params_from_widgets` reads the dataclass
back; the "Copy as command" line takes the same fields through
:func:`napari_atomtomo.core.params.command_options`.
"""

from __future__ import annotations

from magicgui.widgets import (
    CheckBox,
    ComboBox,
    FloatSlider,
    FloatSpinBox,
    LineEdit,
    Slider,
    SpinBox,
)

from ..core.params import as_text, param_specs

__all__ = ["param_widget", "params_from_widgets"]


def param_widget(cls, name: str, default=None, choices=None, tooltip=None):
    """The input of field ``name`` of ``cls`` (``default`` overrides the dataclass's,
    ``choices`` the spec's, e.g. with labels: ``[("from the border strips", "border")]``;
    ``tooltip`` the spec's help, for a widget that explains more than the CLI help)."""
    spec, value = param_specs(cls)[name]
    value = value if default is None else default
    value = spec.none_as if value is None else value
    if tooltip is None:
        tooltip = f"{spec.help} ({spec.unit})" if spec.unit else spec.help
    label = f"{spec.label} ({spec.unit})" if spec.unit else spec.label
    if spec.widget == "text":
        return LineEdit(label=label, value=as_text(value), tooltip=tooltip)
    if isinstance(value, bool):
        return CheckBox(text=spec.label, value=value, tooltip=tooltip)
    if spec.choices is not None:
        return ComboBox(label=label, value=value, choices=list(choices or spec.choices),
                        tooltip=tooltip)
    bounds = {} if spec.range is None else {"min": spec.range[0], "max": spec.range[1]}
    if spec.step is not None:
        bounds["step"] = spec.step
    if isinstance(value, int):
        kind = Slider if spec.widget == "slider" else SpinBox
    else:
        kind = FloatSlider if spec.widget == "slider" else FloatSpinBox
    return kind(label=label, value=value, tooltip=tooltip, **bounds)


def params_from_widgets(cls, widgets: dict, **fields):
    """``cls(**{name: widget.value})`` for the spec'd fields in ``widgets``, plus ``fields``."""
    values = {}
    for name, (spec, _) in param_specs(cls).items():
        if name in widgets:
            value = widgets[name].value
            if spec.none_as is not None and value == spec.none_as:
                value = None
            if spec.parse is not None and isinstance(value, str):
                value = spec.parse(value)
            values[name] = round(value, 4) if isinstance(value, float) else value
    return cls(**{**values, **fields})
