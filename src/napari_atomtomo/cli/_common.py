"""Small helpers shared by the subcommands."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_force(parser) -> None:
    parser.add_argument(
        "--force", action="store_true", help="overwrite existing output files"
    )


def check_output(path, force: bool, inputs=()) -> Path:
    """Refuse to write over an existing file unless ``force``; never over an input."""
    p = Path(path)
    for src in inputs:
        if src is not None and Path(src).exists() and p.exists() and p.resolve() == Path(src).resolve():
            raise ValueError(f"output {p} is one of the inputs; choose another output path")
    if p.exists() and not force:
        raise FileExistsError(f"{p} exists; pass --force to overwrite it")
    return p


def output_path(path, suffix: str, option: str = "--out") -> Path:
    """``path`` as a Path, after checking that it names a ``suffix`` file (e.g. ``".mrc"``)."""
    p = Path(path)
    if p.suffix.lower() != suffix:
        raise ValueError(f"{option} must name an {suffix} file, got {p.name}")
    return p


def progress_printer(label: str, quiet: bool = False):
    """A callback ``(done, total, message="")`` that prints one updating line to stderr."""

    def report(done, total, message: str = "") -> None:
        if quiet:
            return
        end = "\n" if done >= total else "\r"
        print(f"{label}: {done}/{total} {message}".rstrip(), end=end, file=sys.stderr, flush=True)

    return report


def write_json(path, obj) -> None:
    Path(path).write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")
