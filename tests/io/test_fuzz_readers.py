"""Fuzz every reader (issue 15): any bytes give a value or one of our error types.

Our error types are ``ValueError`` (malformed content; ``MissingDependencyError`` is one)
and ``FileNotFoundError`` (something missing). Anything else (``IndexError``,
``UnicodeDecodeError``, ``struct.error``, ``OverflowError``, a bare ``OSError`` ...) is a
bug: the CLI would show a traceback. Each reader gets arbitrary bytes and, where random
bytes would only exercise the first check, mutations of a valid file.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from napari_atomtomo import io
from napari_atomtomo.cli._hebt import read_ratios
from napari_atomtomo.cli._info import describe
from napari_atomtomo.core.elements import load_factor_file

OURS = (ValueError, FileNotFoundError)
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@contextlib.contextmanager
def file_with(data: bytes, name: str):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / name
        p.write_bytes(data)
        yield p


def ours_or_value(fn, *args):
    """Call a reader; our error types are fine, anything else fails the test."""
    try:
        return fn(*args)
    except OURS:
        return None


def _valid_mrc_bytes(kind="volume") -> bytes:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "v.mrc"
        io.write_mrc(p, np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4), 0.5, kind=kind)
        return p.read_bytes()


VALID_MRC = _valid_mrc_bytes()
VALID_TLT = b"-60.0\n-30.0\n0.0\n30.0\n60.0\n"
VALID_XYZ = b"2\ncomment\nSi 0.0 1.0 2.0\nO 1.5 2.5 3.5\n"
VALID_CSV = b"element,x,y,z,intensity\nSi,0,1,2,5.0\nO,1.5,2.5,3.5,2.0\n"
VALID_SHIFTS = json.dumps({"order": "dy, dx", "shifts_px": [[0.5, -1.0], [0.0, 2.0]]}).encode()


@st.composite
def mutated(draw, valid: bytes):
    """``valid`` with a few bytes replaced, cut short, or extended."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    how = draw(st.sampled_from(["keep", "cut", "extend"]))
    if how == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif how == "extend":
        data += draw(st.binary(max_size=64))
    return bytes(data)


@st.composite
def mrc_header_fields(draw):
    """A valid MRC with its dimensions, mode and cell replaced by arbitrary values."""
    data = bytearray(VALID_MRC)
    ints = st.integers(-(2**31), 2**31 - 1)
    for offset in (0, 4, 8, 12):  # nx, ny, nz, mode
        if draw(st.booleans()):
            data[offset:offset + 4] = np.int32(draw(ints)).tobytes()
    if draw(st.booleans()):  # cella x, y, z
        cell = draw(st.lists(st.floats(width=32), min_size=3, max_size=3))
        data[40:52] = np.asarray(cell, np.float32).tobytes()
    return bytes(data)


def any_bytes(valid: bytes):
    return st.one_of(st.binary(max_size=2048), mutated(valid))


# ------------------------------------------------------------------ MRC
@FUZZ
@given(st.one_of(st.binary(max_size=2048), mutated(VALID_MRC), mrc_header_fields()))
@pytest.mark.slow
def test_read_mrc_fuzz(data):
    with file_with(data, "x.mrc") as p:
        got = ours_or_value(io.read_mrc, p)
        if got is not None:
            arr, vs = got
            assert arr.ndim == 3 and arr.dtype == np.float32 and np.isfinite(arr).all()
            assert vs > 0
        ours_or_value(io.read_mrc_header, p)


# ------------------------------------------------------------------ text formats
@FUZZ
@given(any_bytes(VALID_TLT))
def test_read_tlt_fuzz(data):
    with file_with(data, "a.tlt") as p:
        got = ours_or_value(io.read_tlt, p)
        if got is not None:
            assert got.ndim == 1 and got.size > 0 and np.all(np.abs(got) <= 180)


@FUZZ
@given(any_bytes(VALID_XYZ))
def test_read_xyz_fuzz(data):
    with file_with(data, "a.xyz") as p:
        got = ours_or_value(io.read_xyz, p)
        if got is not None:
            assert np.isfinite(got.positions).all()


@FUZZ
@given(any_bytes(VALID_CSV))
def test_read_atoms_csv_fuzz(data):
    with file_with(data, "a.csv") as p:
        got = ours_or_value(io.read_atoms_csv, p)
        if got is not None:
            assert np.isfinite(got.positions).all()


# ------------------------------------------------------------------ JSON inputs
@FUZZ
@given(any_bytes(VALID_SHIFTS))
def test_read_shifts_fuzz(data):
    with file_with(data, "s.json") as p:
        got = ours_or_value(io.read_shifts, p)
        if got is not None:
            assert got.ndim == 2 and got.shape[1] == 2 and np.isfinite(got).all()


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                   max_size=4),
    max_leaves=12,
)
json_inputs = st.one_of(
    st.binary(max_size=512),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(["Ag", "Au", "Pt", "ag", "Xx", "r"]),
                    st.dictionaries(st.sampled_from(["z", "f", "q"]), json_values, max_size=3)
                    | json_values, max_size=3).map(lambda v: json.dumps(v).encode()),
)


@FUZZ
@given(json_inputs)
@pytest.mark.slow
def test_factor_file_fuzz(data):
    with file_with(data, "f.json") as p:
        ours_or_value(load_factor_file, p)


@FUZZ
@given(json_inputs)
def test_ratios_file_fuzz(data):
    with file_with(data, "r.json") as p:
        ours_or_value(read_ratios, p)


@FUZZ
@given(json_inputs)
def test_tomviz_shifts_fuzz(data):
    with file_with(data, "TomVizAlignments.json") as p:
        ours_or_value(io.read_tomviz_shifts, p, np.array([-30.0, 0.0, 30.0]))


# ------------------------------------------------------------------ data-set folders
VALID_STACK = _valid_mrc_bytes("stack")  # 2 images
names = st.sampled_from(["haadf.mrc", "angles.tlt", "eds_Ag.mrc", "eds_au.mrc",
                         "phantom_Ag.mrc", "eds_.mrc", "atoms_true.xyz", "notes.txt"])


@FUZZ
@given(st.dictionaries(names, st.one_of(st.just(VALID_STACK), st.just(b"0\n30\n"),
                                        mutated(VALID_STACK), st.binary(max_size=256)),
                       max_size=6))
@pytest.mark.slow
def test_read_dataset_and_info_fuzz(files):
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        for name, data in files.items():
            (root / name).write_bytes(data)
        ours_or_value(io.read_dataset, root)
        ours_or_value(describe, root)


@pytest.mark.parametrize("name", ["a.mrc", "a.tlt", "a.xyz", "a.csv"])
@FUZZ
@given(data=st.binary(max_size=512))
def test_info_on_any_file_fuzz(name, data):
    with file_with(data, name) as p:
        ours_or_value(describe, p)


# ------------------------------------------------------------------ vendor formats
@FUZZ
@given(st.one_of(st.binary(max_size=2048),
                 st.binary(max_size=2048).map(lambda b: bytes([0, 0, 0, 3]) + b)))
def test_read_dm3_fuzz(data):
    with file_with(data, "a.dm3") as p:  # without rosettasciio: MissingDependencyError (ours)
        ours_or_value(io.read_dm3_tilt_series, p)


@FUZZ
@given(st.one_of(st.binary(max_size=2048),
                 st.binary(max_size=2048).map(lambda b: b"\x89HDF\r\n\x1a\n" + b)))
def test_read_fused_h5_fuzz(data):
    with file_with(data, "a.h5") as p:
        ours_or_value(io.read_fused_h5, p)
