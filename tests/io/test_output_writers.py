"""The one "refuse to overwrite, then write atomically" path of the writers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_atomtomo.io._output import write_new_json, write_new_text


def test_write_new_json_writes_numpy_values_as_plain_json(tmp_path):
    path = write_new_json(tmp_path / "a.json", {"x": np.float32(1.5), "v": np.arange(3),
                                                "t": (1, 2)})
    assert json.loads(path.read_text()) == {"x": 1.5, "v": [0, 1, 2], "t": [1, 2]}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # no temporary left


def test_existing_output_is_refused_unless_forced(tmp_path):
    path = tmp_path / "report.md"
    path.write_text("old")
    with pytest.raises(FileExistsError, match="report.md exists; pass force=True"):
        write_new_text(path, "new")
    assert path.read_text() == "old"
    write_new_text(path, "new", force=True)
    assert path.read_text() == "new"
