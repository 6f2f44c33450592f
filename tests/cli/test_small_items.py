"""The smaller cases of issue 15: element case, progress into logs, structure progress,
``info`` on a folder with an unreadable file."""

from __future__ import annotations

import functools
import io as stdio
import json

import numpy as np
import pytest

from napari_atomtomo import io
from napari_atomtomo.cli import main
from napari_atomtomo.cli._common import progress_printer
from napari_atomtomo.core.simulate import silica_structure
from napari_atomtomo.core.simulate.silica_structure import MeltQuenchSchedule


def test_elements_in_any_case_are_read_as_symbols(tmp_path, capsys):
    vol = np.zeros((16, 16, 16), np.float32)
    for (z, y, x), amp in (((4, 4, 4), 2.0), ((11, 11, 11), 1.0), ((4, 11, 8), 1.0)):
        vol[z, y, x] = amp
    io.write_mrc(tmp_path / "v.mrc", vol, 0.5)
    code = main(["trace", str(tmp_path / "v.mrc"), "--out", str(tmp_path / "a.xyz"),
                 "--elements", "si,o", "--split", "1.5", "--noise-floor", "0.5"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "--elements si,o read as Si,O" in err
    assert io.read_xyz(tmp_path / "a.xyz").counts() == {"Si": 1, "O": 2}


class _Tty(stdio.StringIO):
    def isatty(self):
        return True


def test_progress_into_a_log_is_one_line_per_ten_percent_without_carriage_returns():
    log = stdio.StringIO()
    report = progress_printer("sirt", stream=log)
    for i in range(1, 401):
        report(i, 400, f"residual {1 / i:.3g}")
    text = log.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert len(lines) == 11  # the start, then 10 %, 20 %, ..., 100 %
    assert lines[0].startswith("sirt: 1/400") and lines[-1].startswith("sirt: 400/400")


def test_progress_on_a_terminal_redraws_one_line():
    tty = _Tty()
    report = progress_printer("sirt", stream=tty)
    for i in range(1, 6):
        report(i, 5)
    text = tty.getvalue()
    assert text.count("\r") == 4 and text.endswith("sirt: 5/5\n")


@pytest.mark.slow
def test_silica_structure_reports_progress(tmp_path, capsys, monkeypatch):
    # a tiny MD schedule stands in for the minute-long default run
    tiny = functools.partial(silica_structure.generate_silica, n_si=64, box=14.3,
                             schedule=MeltQuenchSchedule(melt_ps=0.05, quench_ps=0.1,
                                                         cool_ps=0.05, fire_steps=20,
                                                         cutoff=6.0))
    monkeypatch.setattr(silica_structure, "generate_silica", tiny)
    assert main(["simulate", "silica-structure", str(tmp_path / "s.xyz")]) == 0
    err = capsys.readouterr().err
    assert "silica-structure: MD steps:" in err and "\r" not in err
    assert io.read_xyz(tmp_path / "s.xyz").counts() == {"Si": 64, "O": 128}


def test_info_on_a_folder_goes_on_past_an_unreadable_file(tmp_path, capsys):
    io.write_tlt(tmp_path / "a.tlt", [-30.0, 0.0, 30.0])
    (tmp_path / "broken.mrc").write_bytes(b"\x00" * 100)
    io.write_mrc(tmp_path / "v.mrc", np.ones((2, 2, 2), np.float32), 1.0)
    code = main(["info", str(tmp_path), "--json"])
    captured = capsys.readouterr()
    d = json.loads(captured.out)
    assert code == 2
    kinds = {f["path"].rsplit("/", 1)[-1]: f["kind"] for f in d["files"]}
    assert kinds["broken.mrc"] == "unreadable" and kinds["v.mrc"].startswith("MRC")
    assert kinds["a.tlt"] == "tilt angles" and d["unreadable"] == 1
    assert "broken.mrc" in captured.err and "not a valid MRC" in captured.err


def test_demo_progress_into_a_log_is_a_line_per_step_and_ten_percent():
    from napari_atomtomo.cli._demo import _progress

    log = stdio.StringIO()
    report = _progress(False, stream=log)
    for step in ("EST", "trace"):
        for i in range(1, 201):
            report(step, i, 200, "error 0.1")
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert len(lines) == 2 * 11 and lines[0].startswith("  EST 1/200")
    assert lines[11].startswith("  trace 1/200") and lines[-1].startswith("  trace 200/200")


def test_os_error_sentences_name_the_path_and_the_reason():
    import errno

    from napari_atomtomo.cli import os_error_sentence

    full = OSError(errno.ENOSPC, "No space left on device", "/data/v.mrc")
    assert os_error_sentence(full) == ("cannot write /data/v.mrc: No space left on device "
                                       "(the disk is full)")
    big = OSError(errno.EFBIG, "File too large")
    assert os_error_sentence(big) == ("cannot write a file: File too large "
                                      "(a file-size limit, see ulimit -f)")
    denied = PermissionError(errno.EACCES, "Permission denied", "/data/in.mrc")
    assert os_error_sentence(denied) == "cannot use /data/in.mrc: Permission denied"
