"""File input and output: MRC, ``.tlt``, XYZ/CSV atoms, data-set folders, vendor formats.

Every reader validates before returning and raises one clear sentence
(``FileNotFoundError`` for a missing file, ``ValueError`` for anything malformed); every
writer refuses an existing output unless ``force=True`` (``FileExistsError``) and never
writes over one of its ``inputs``. See ``CONVENTIONS.md`` for the formats.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .dataset import (
        DataSet,
        TiltSeries,
        find_angles_file,
        read_dataset,
        read_tilt_series,
        write_dataset,
        write_tilt_series,
    )
    from .mrc import MrcHeader, read_mrc, read_mrc_header, write_mrc
    from .text import (
        read_atoms_csv,
        read_shifts,
        read_tilt_axis,
        read_tlt,
        read_xyz,
        write_atoms_csv,
        write_shifts,
        write_tlt,
        write_xyz,
    )
    from .vendor import (
        MissingDependencyError,
        bcf_angles,
        bcf_summary,
        read_bcf_tilt_series,
        read_dm3_tilt_series,
        read_emd_tilt_series,
        read_fused_h5,
        read_tomviz_shifts,
    )

__all__ = [
    "DataSet", "TiltSeries", "MrcHeader", "MissingDependencyError", "read_tomviz_shifts",
    "read_mrc", "write_mrc", "read_mrc_header",
    "read_tlt", "write_tlt", "read_xyz", "write_xyz", "read_atoms_csv", "write_atoms_csv",
    "read_shifts", "write_shifts", "read_tilt_axis",
    "read_tilt_series", "write_tilt_series", "find_angles_file", "read_dataset", "write_dataset",
    "read_dm3_tilt_series", "read_emd_tilt_series", "read_bcf_tilt_series", "bcf_angles",
    "bcf_summary", "read_fused_h5",
]

#: Where each public name lives: imported on first use (PEP 562), so importing one
#: submodule (``io._names`` for the layer helpers) does not load every reader (mrcfile,
#: the vendor formats): 46 ms in the GUI thread when napari first calls an AtomTomo
#: sample (issue 14).
_WHERE = {
    **dict.fromkeys(("DataSet", "TiltSeries", "find_angles_file", "read_dataset",
                     "read_tilt_series", "write_dataset", "write_tilt_series"), "dataset"),
    **dict.fromkeys(("MrcHeader", "read_mrc", "read_mrc_header", "write_mrc"), "mrc"),
    **dict.fromkeys(("read_atoms_csv", "read_shifts", "read_tilt_axis", "read_tlt",
                     "read_xyz", "write_atoms_csv", "write_shifts", "write_tlt",
                     "write_xyz"), "text"),
    **dict.fromkeys(("MissingDependencyError", "bcf_angles", "bcf_summary",
                     "read_bcf_tilt_series", "read_dm3_tilt_series", "read_emd_tilt_series",
                     "read_fused_h5", "read_tomviz_shifts"), "vendor"),
}


def __getattr__(name: str):
    from importlib import import_module

    if name in _WHERE:
        value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
    elif not name.startswith("__") and _is_submodule(name):
        # ``io.mrc`` etc. were attributes while this module imported them eagerly
        value = import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def _is_submodule(name: str) -> bool:
    from importlib.util import find_spec

    return find_spec(f"{__name__}.{name}") is not None


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
