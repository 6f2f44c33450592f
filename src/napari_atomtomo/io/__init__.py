"""File input and output: MRC, ``.tlt``, XYZ/CSV atoms, data-set folders, vendor formats.

Every reader validates before returning and raises one clear sentence
(``FileNotFoundError`` for a missing file, ``ValueError`` for anything malformed); every
writer refuses an existing output unless ``force=True`` (``FileExistsError``) and never
writes over one of its ``inputs``. See ``CONVENTIONS.md`` for the formats.
"""

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
