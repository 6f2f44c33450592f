"""argparse options generated from the parameter specs of :mod:`napari_atomtomo.core.params`.

Each spec'd field becomes its ``flag`` (``--iterations`` → ``args.iterations``) with the
dataclass default, the spec's help and unit; :func:`read_params` builds the dataclass
back from the parsed options.
"""

from __future__ import annotations

import argparse
import dataclasses

from ..core.params import as_text, param_specs

__all__ = ["add_param_options", "read_params"]


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def _metavar(spec) -> str:
    if spec.metavar:
        return spec.metavar
    return _dest(spec.flag).split("_")[-1][:1].upper()


def add_param_options(parser, cls, defaults=None, helps=None, only=None) -> None:
    """One option per spec'd field of ``cls`` (of the fields named in ``only``, if given).
    ``defaults`` overrides a field's default on the command line (``None``: decided when
    the command runs, e.g. by a stopping rule; give its ``helps`` text, which replaces the
    spec's)."""
    for name, (spec, default) in param_specs(cls).items():
        if only is not None and name not in only:
            continue
        if name in (defaults or {}):
            default = defaults[name]
            parser.add_argument(spec.flag, type=spec.kind or type(param_specs(cls)[name][1]),
                                default=default, metavar=_metavar(spec),
                                help=(helps or {}).get(name, spec.help))
            continue
        if default is dataclasses.MISSING:  # a required option
            parser.add_argument(spec.flag, required=True, choices=spec.choices,
                                type=spec.kind, help=spec.help)
            continue
        if isinstance(default, bool) and spec.negate:
            parser.add_argument(spec.flag, action="store_true", help=f"do not {spec.help}")
            continue
        if isinstance(default, bool):
            parser.add_argument(spec.flag, action=argparse.BooleanOptionalAction,
                                default=default,
                                help=f"{spec.help} (default {'on' if default else 'off'})")
            continue
        if spec.widget == "text":
            parser.add_argument(spec.flag, default=as_text(default), metavar=spec.metavar,
                                help=f"{spec.help} (default {spec.shown or as_text(default)})")
            continue
        unit = f" {spec.unit}" if spec.unit else ""
        shown = "automatic" if default is None else (
            f"{default:g}" if isinstance(default, (int, float)) else default)
        parser.add_argument(spec.flag, type=spec.kind or type(default), default=default,
                            choices=spec.choices,
                            metavar=None if spec.choices else _metavar(spec),
                            help=f"{spec.help} (default {shown}{unit})")


def read_params(cls, args, **fields):
    """An instance of ``cls`` from the options of :func:`add_param_options` plus ``fields``."""
    values = {}
    for name, (spec, default) in param_specs(cls).items():
        value = getattr(args, _dest(spec.flag))
        if isinstance(default, bool) and spec.negate:
            value = not value
        if spec.parse is not None and isinstance(value, str):
            value = spec.parse(value)
        values[name] = value
    return cls(**{**values, **fields})
