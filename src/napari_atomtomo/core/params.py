"""Parameter specs: one place for a parameter's default, CLI flag, help, unit and range.

An algorithm's frozen parameter dataclass declares each user-facing field with
:func:`param`; the command line's argparse options (:mod:`napari_atomtomo.cli._params`),
the widgets' inputs (:mod:`napari_atomtomo._widgets._params`), ``layer.metadata`` and the
widgets' "Copy as command" line are generated from it, so a default lives in one place
and a GUI result can be replayed from the command line (STYLE.md, "One spec per
parameter"). Plain Python: no argparse and no Qt here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ParamSpec", "param", "param_specs", "command_options", "ALGORITHM_PARAMS",
           "register_params", "as_text", "auto_or_numbers_text", "auto_or_float"]

_KEY = "atomtomo"


@dataclass(frozen=True)
class ParamSpec:
    """How one dataclass field appears on the command line and in a widget.

    ``flag`` is the CLI option (``--iterations``); ``label`` the widget label; ``unit``
    is shown after the help; ``range`` is ``(min, max)`` for the widget (the dataclass
    checks the exact rule); ``widget`` is ``"spin"``, ``"slider"`` or ``"check"`` (a
    field with ``choices`` is a combo box); a boolean with ``negate`` is set by a flag
    that turns it off (``--allow-negative`` sets ``nonnegative=False``), any other
    boolean by ``--flag`` / ``--no-flag``. A field whose default is ``None`` ("automatic")
    gives its value type as ``kind`` and the widget value that stands for ``None`` as
    ``none_as`` (e.g. 0). A ``widget="text"`` field (``"auto"`` or numbers, element
    lists) is typed as text on both sides: ``parse`` turns the text into the field's
    value, ``metavar`` names it in the help and ``shown`` describes its default there
    (it replaces the "default VALUE UNIT" text).
    """

    flag: str
    help: str
    label: str
    unit: str = ""
    range: tuple[float, float] | None = None
    widget: str = "spin"
    step: float | None = None
    negate: bool = False
    choices: tuple | None = None
    kind: type | None = None
    none_as: object = None
    metavar: str | None = None
    shown: str | None = None
    parse: Callable[[str], object] | None = None


def param(default, *, flag: str, help: str, label: str, unit: str = "",
          range: tuple[float, float] | None = None, widget: str = "spin",
          step: float | None = None, negate: bool = False, choices: tuple | None = None,
          kind: type | None = None, none_as: object = None, metavar: str | None = None,
          shown: str | None = None, parse: Callable[[str], object] | None = None):
    """A dataclass field with its :class:`ParamSpec` in ``metadata``."""
    spec = ParamSpec(flag, help, label, unit, range, widget, step, negate, choices, kind,
                     none_as, metavar, shown, parse)
    return dataclasses.field(default=default, metadata={_KEY: spec})


def param_specs(cls) -> dict[str, tuple[ParamSpec, object]]:
    """``{field name: (spec, default)}`` of the fields of ``cls`` that carry a spec."""
    return {f.name: (f.metadata[_KEY], f.default) for f in dataclasses.fields(cls)
            if _KEY in f.metadata}


def command_options(params) -> dict[str, object]:
    """``{flag: value}`` of a parameter object's spec'd fields, as the command line takes
    them (a negated boolean becomes its flag when off, else is left out).
    """
    out: dict[str, object] = {}
    for name, (spec, default) in param_specs(type(params)).items():
        value = getattr(params, name)
        if isinstance(value, bool) and spec.negate:
            out[spec.flag] = not value
        elif isinstance(value, bool) and not value and default:
            out["--no-" + spec.flag[2:]] = True
        else:
            out[spec.flag] = value
    return out


def as_text(value) -> str:
    """A text field's value as typed: ``("Si", "O")`` → ``"Si,O"``, ``"auto"``, ``1.5``."""
    if isinstance(value, (tuple, list)):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def auto_or_numbers_text(text: str, what: str | None = None):
    """``"auto"``, one float or a tuple of floats from comma-separated text.

    ``what`` names the field in the error ("noise floor must be 'auto' or a number").
    """
    t = str(text).strip()
    if t.lower() == "auto":
        return "auto"
    try:
        vals = tuple(float(v) for v in t.split(",") if v.strip())
    except ValueError:
        vals = ()
    if not vals:
        if what is None:
            raise ValueError(f"expected 'auto' or numbers separated by commas, got {text!r}")
        raise ValueError(f"{what} must be 'auto' or a number, got {t!r}")
    return vals[0] if len(vals) == 1 else vals


def auto_or_float(flag: str, what: str = "a number >= 0", finite: bool = False,
                  integer: bool = False):
    """A parse for ``"auto"`` or one number typed for ``flag`` (``finite``: and ≥ 0;
    ``integer``: a whole number, returned as ``int``).
    """
    def parse(text: str):
        if text == "auto":
            return "auto"
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            raise ValueError(f"{flag} must be 'auto' or {what}, got {text!r}") from None
        if finite and not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{flag} must be 'auto' or a finite {what[2:]}, got {text!r}")
        return value
    return parse


#: Every algorithm whose parameters the command line and a widget share, by the name
#: both record in ``layer.metadata["atomtomo"]["algorithm"]``; filled by the modules
#: that define the dataclasses (see :func:`register_params`).
ALGORITHM_PARAMS: dict[str, type] = {}


def register_params(algorithm: str):
    """Class decorator: record ``cls`` as the parameters of ``algorithm``."""
    def wrap(cls):
        ALGORITHM_PARAMS[algorithm] = cls
        return cls
    return wrap
