"""The data-set loader dock widget: an MRC (+ .tlt), a data-set folder or an atom file.

Load reads the files in a worker thread (through :mod:`napari_atomtomo._reader`, hence
:mod:`napari_atomtomo.io`) and adds the layers with scale (Å), axis labels, units and
``metadata["atomtomo"]``; layers of the same name are replaced. The inputs are checked on
every change (existence, kind, angle count against the MRC header) and Load stays
disabled with the reason shown until they make sense.
"""

from __future__ import annotations

from pathlib import Path

from magicgui.widgets import ComboBox, FileEdit

from .. import io
from .._layers import with_contrast_limits
from .._reader import (
    MRC_SUFFIXES,
    read_atoms_layers,
    read_dataset_layers,
    read_mrc_layers,
)
from ._base import JobDockWidget, format_command, is_empty_path
from ._runner import QUICK_JOB_ACTIVITY_AFTER_S

__all__ = ["DatasetLoaderWidget", "SOURCES", "load_layers"]

MRC_FILE = "MRC file (+ angles)"
FOLDER = "data-set folder"
ATOMS = "atoms (XYZ/CSV)"
SOURCES = (MRC_FILE, FOLDER, ATOMS)


def load_layers(source: str, path, angles_path=None) -> list[tuple]:
    """Read ``path`` as ``source`` (one of :data:`SOURCES`) into layer data tuples, with
    the images' contrast limits (this runs in the worker: napari need not scan the data
    in the GUI thread when it adds them)."""
    if source == MRC_FILE:
        layers = read_mrc_layers(path, None if is_empty_path(angles_path) else angles_path)
    elif source == FOLDER:
        layers = read_dataset_layers(path)
    elif source == ATOMS:
        layers = read_atoms_layers(path)
    else:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    return with_contrast_limits(layers)


class DatasetLoaderWidget(JobDockWidget):
    """Pick an MRC (+ .tlt), a data-set folder or an XYZ/CSV file and load it as layers."""

    run_text = "Load"
    exclusive = False  # reading files runs no numba kernel: allowed during a reconstruction

    def __init__(self, napari_viewer, parent=None):
        super().__init__(napari_viewer, parent)
        self.source = ComboBox(label="source", choices=SOURCES, value=MRC_FILE)
        self.path = FileEdit(label="path", mode="r", filter="*.mrc *.mrcs *.rec *.st *.ali")
        self.angles = FileEdit(label="angles (.tlt)", mode="r", filter="*.tlt *.rawtlt")
        self.angles.tooltip = "optional: default <stem>.tlt, <stem>.rawtlt or angles.tlt beside it"
        self.inputs.extend([self.source, self.path, self.angles])
        self.source.changed.connect(self._on_source_changed)
        self.runner.status.setText("choose what to load")
        self.revalidate()

    # ------------------------------------------------------------------ inputs
    def _on_source_changed(self, source: str) -> None:
        if source == FOLDER:
            self.path.mode = "d"
        else:
            self.path.mode = "r"
            self.path.filter = (
                "*.xyz *.csv" if source == ATOMS else " ".join(f"*{s}" for s in MRC_SUFFIXES)
            )
        self.angles.visible = source == MRC_FILE
        self.revalidate()

    def validate(self) -> str | None:
        source, path = self.source.value, self.path.value
        if is_empty_path(path):
            return "choose a file or folder to load"
        p = Path(path)
        if not p.exists():
            return f"{p} does not exist"
        if source == FOLDER:
            if not p.is_dir():
                return f"{p.name} is a file; choose a data-set folder"
            if not ((p / "haadf.mrc").is_file() or any(p.glob("map_*.mrc"))):
                return f"{p.name} holds no haadf.mrc (data set) or map_<El>.mrc (element maps)"
            if (p / "haadf.mrc").is_file() and not (p / "angles.tlt").is_file():
                return f"{p.name} has haadf.mrc but no angles.tlt"
            return None
        if not p.is_file():
            return f"{p.name} is a folder; choose a file or switch the source to {FOLDER!r}"
        if source == ATOMS:
            if p.suffix.lower() not in (".xyz", ".csv"):
                return f"{p.name} is not an atom file (.xyz or .csv)"
            return None
        if p.suffix.lower() not in MRC_SUFFIXES:
            return f"{p.name} is not an MRC file ({', '.join(MRC_SUFFIXES)})"
        header = io.read_mrc_header(p)  # a ValueError becomes the reason
        angles = self.angles.value
        if not is_empty_path(angles):
            a = Path(angles)
            if not a.is_file():
                return f"angle file {a} does not exist"
            n = io.read_tlt(a).size
            if n != header.shape[0]:
                return (
                    f"{a.name} has {n} angles but {p.name} has {header.shape[0]} images"
                )
        return None

    def command_line(self) -> str:
        if is_empty_path(self.path.value):
            raise ValueError("no path")
        return format_command("info", [str(self.path.value)])

    # ------------------------------------------------------------------ job
    def start_job(self) -> None:
        angles = None if is_empty_path(self.angles.value) else str(self.angles.value)
        self.runner.run(
            load_layers,
            self.source.value,
            str(self.path.value),
            angles if self.source.value == MRC_FILE else None,
            label=f"load {Path(self.path.value).name}",
            on_result=lambda layers: layers,
            exclusive=self.exclusive,
            activity_after_s=QUICK_JOB_ACTIVITY_AFTER_S,
        )
