"""``atomtomo simulate KIND ...``: test objects and tilt series (one module per kind)."""

from __future__ import annotations

import importlib

#: Simulator modules; each exposes ``register(subparsers)`` like a top-level command.
SIMULATOR_MODULES: list[str] = ["_simulate_agau", "_simulate_silica"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="simulate a test object or a tilt series",
        description="Simulate test objects and their tilt series.",
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND")
    for name in SIMULATOR_MODULES:
        importlib.import_module(f"{__package__}.{name}").register(kinds)
    parser.set_defaults(func=lambda args: parser.print_help() or 0)
