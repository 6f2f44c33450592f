"""argparse options generated from the parameter specs of :mod:`napari_atomtomo.core.params`.

Each spec'd field becomes its ``flag`` (``--iterations`` → ``args.iterations``) with the
dataclass default, the spec's help and unit; :func:`read_params` builds the dataclass
back from the parsed options.
"""

from __future__ import annotations

from ..core.params import param_specs

__all__ = ["add_param_options", "read_params"]


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def add_param_options(parser, cls, defaults=None) -> None:
    """One option per spec'd field of ``cls`` (``defaults`` overrides a field's default)."""
    for name, (spec, default) in param_specs(cls).items():
        default = (defaults or {}).get(name, default)
        if isinstance(default, bool):
            parser.add_argument(spec.flag, action="store_true",
                                help=f"do not {spec.help}" if spec.negate else spec.help)
            continue
        unit = f" {spec.unit}" if spec.unit else ""
        parser.add_argument(spec.flag, type=type(default), default=default,
                            metavar=_dest(spec.flag).split("_")[-1][:1].upper(),
                            help=f"{spec.help} (default {default:g}{unit})")


def read_params(cls, args, **fields):
    """An instance of ``cls`` from the options of :func:`add_param_options` plus ``fields``."""
    values = {}
    for name, (spec, default) in param_specs(cls).items():
        value = getattr(args, _dest(spec.flag))
        if isinstance(default, bool) and spec.negate:
            value = not value
        values[name] = value
    return cls(**{**values, **fields})
