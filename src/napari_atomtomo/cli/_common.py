"""Small helpers shared by the subcommands.

Outputs go through :class:`napari_atomtomo.io._output.Outputs` (checked before the work,
written all-or-nothing); ``write_json`` and ``save_figure`` write atomically; progress
goes through ``progress_printer``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..io._output import Outputs, atomic_savefig, atomic_write_json

__all__ = ["Outputs", "add_force", "add_quiet", "check_output", "output_path", "progress_printer",
           "write_json", "save_figure", "implicit_angles", "warn"]


def add_quiet(parser) -> None:
    """``--quiet``: no progress line on stderr."""
    parser.add_argument("--quiet", action="store_true", help="no progress line on stderr")


def add_force(parser) -> None:
    parser.add_argument(
        "--force", action="store_true",
        help="overwrite output files that already exist (never an input, never a file "
             "the command was not asked to write)",
    )


def check_output(path, force: bool, inputs=()) -> Path:
    """Check one output file now (see ``Outputs.file``): not an input, not a folder,
    not existing unless ``force``, in an existing folder that can be written.

    Prefer ``Outputs``: it also writes the files all-or-nothing."""
    return Outputs(force, inputs).file(path)


def output_path(path, suffix: str, option: str = "--out") -> Path:
    """``path`` as a Path, after checking that it names a ``suffix`` file (e.g. ``".mrc"``)."""
    p = Path(path)
    if p.suffix.lower() != suffix:
        raise ValueError(f"{option} must name an {suffix} file, got {p.name}")
    return p


def implicit_angles(stack, angles):
    """The angle file a command will read for ``stack``: ``angles`` or the one found
    next to the stack (so that it is protected like an explicit input)."""
    if angles is not None:
        return angles
    from ..io.dataset import find_angles_file

    return find_angles_file(stack) if Path(stack).is_file() else None


def progress_printer(label: str, quiet: bool = False, stream=None, step_percent: int = 10):
    """A callback ``(done, total, message="")`` printing progress to stderr.

    On a terminal one line is redrawn in place (``\\r``); into a file or pipe (a log)
    one full line is printed each time another ``step_percent`` % is done, so a log
    never holds carriage returns.
    """
    state = {"next": 0}

    def report(done, total, message: str = "") -> None:
        if quiet:
            return
        out = stream if stream is not None else sys.stderr
        text = f"{label}: {done}/{total} {message}".rstrip()
        if out.isatty():
            end = "\n" if done >= total else "\r"
            print(text, end=end, file=out, flush=True)
            return
        pct = 100 * done // max(total, 1)
        if pct >= state["next"] or done >= total:
            state["next"] = (pct // step_percent + 1) * step_percent
            print(text, file=out, flush=True)

    return report


def write_json(path, obj) -> None:
    """Write ``obj`` as indented JSON through a temporary file renamed into place."""
    atomic_write_json(path, obj)


def save_figure(fig, path) -> None:
    """Save a matplotlib figure atomically and close it."""
    try:
        atomic_savefig(fig, path)
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def warn(command: str, messages) -> None:
    """Print each plausibility warning as ``atomtomo CMD: warning: ...`` on stderr."""
    for m in messages:
        print(f"atomtomo {command}: warning: {m}", file=sys.stderr)
