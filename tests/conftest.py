"""Shared test set-up.

napari's fixtures (``make_napari_viewer``) need no registration: napari ships them as a
pytest plugin. Qt must run on a real (virtual) X server started by pytest-xvfb, so a
stray ``QT_QPA_PLATFORM=offscreen`` (which breaks napari's OpenGL) is removed here.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.pop("QT_QPA_PLATFORM", None)


@pytest.fixture
def small_tilt_series_files(tmp_path):
    """An MRC tilt series ``series.mrc`` (5 images of 6 x 7, 0.75 Å) with ``series.tlt``."""
    from napari_atomtomo import io

    rng = np.random.default_rng(0)
    data = rng.random((5, 6, 7), dtype=np.float32)
    angles = np.array([-60.0, -30.0, 0.0, 30.0, 60.0])
    mrc, tlt = io.write_tilt_series(tmp_path / "series.mrc", data, angles, 0.75)
    return mrc, tlt, data, angles


@pytest.fixture
def small_dataset_folder(tmp_path):
    """A data-set folder: HAADF, EDS of Ag and Au, phantoms and true atoms (0.5 Å)."""
    from napari_atomtomo import io
    from napari_atomtomo.core.atoms import Atoms

    rng = np.random.default_rng(1)
    shape = (4, 1, 9)
    haadf = rng.random(shape, dtype=np.float32)
    eds = {"Ag": rng.random(shape, dtype=np.float32), "Au": rng.random(shape, dtype=np.float32)}
    phantoms = {el: rng.random((9, 1, 9), dtype=np.float32) for el in ("Ag", "Au")}
    atoms = Atoms(["Ag", "Au", "Au"], [[1.0, 0.0, 2.0], [3.5, 0.0, 1.0], [2.0, 0.0, 4.0]])
    ds = io.DataSet(haadf, eds, np.array([-45.0, -15.0, 15.0, 45.0]), 0.5, atoms, phantoms)
    folder = tmp_path / "dataset"
    io.write_dataset(folder, ds)
    return folder, ds
