"""Nothing lost, nothing unclear (issue 15): outputs checked first, written all-or-nothing,
OS errors as one sentence. Each test is one case of the issue's "Why"."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from napari_atomtomo import io
from napari_atomtomo.cli import main
from napari_atomtomo.core.atoms import Atoms
from napari_atomtomo.io._output import Outputs

SRC = str(Path(__file__).resolve().parents[2] / "src")


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def listing(folder) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*"))


@pytest.fixture
def small(tmp_path):
    """small.mrc with its implicitly found small.tlt (5 images of 8 x 8)."""
    rng = np.random.default_rng(0)
    mrc, tlt = io.write_tilt_series(tmp_path / "small.mrc", rng.random((5, 8, 8), dtype=np.float32),
                                    [-60.0, -30.0, 0.0, 30.0, 60.0], 1.0)
    return mrc, tlt


@pytest.fixture
def atoms_files(tmp_path):
    rng = np.random.default_rng(2)
    pos = rng.uniform(0, 20, (30, 3))
    truth = Atoms(["Si"] * 10 + ["O"] * 20, pos)
    traced = Atoms(["Si"] * 10 + ["O"] * 20, pos + rng.normal(0, 0.1, pos.shape))
    io.write_xyz(tmp_path / "truth.xyz", truth)
    io.write_xyz(tmp_path / "traced.xyz", traced)
    return tmp_path / "traced.xyz", tmp_path / "truth.xyz"


def warm_up(*argv):
    """Run a command once without limits, its outputs in a throw-away folder, so that
    numba's and matplotlib's caches exist: a file-size limit must hit our own writes."""
    with tempfile.TemporaryDirectory() as d:
        argv = [str(a).replace("{warm}", d) for a in argv]
        r = atomtomo(*argv)
        assert r.returncode == 0, r.stderr


def atomtomo(*argv, limit_bytes=None, stdout=subprocess.PIPE, cwd=None):
    """Run the CLI in a child process (optionally under a file-size limit)."""
    def limit():
        if limit_bytes is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    env = dict(os.environ, PYTHONPATH=SRC, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "napari_atomtomo.cli", *map(str, argv)],
                          stdout=stdout, stderr=subprocess.PIPE, text=True, env=env,
                          preexec_fn=limit, cwd=cwd, timeout=300)


# ------------------------------------------------------------------ inputs are protected
def test_sirt_out_over_the_implicit_angle_file_is_refused_even_with_force(small, capsys):
    mrc, tlt = small
    before = sha(tlt)
    assert main(["sirt", str(mrc), "--out", str(tlt), "--force", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "one of the inputs" in err and "small.tlt" in err
    assert sha(tlt) == before


def test_align_shifts_out_over_the_implicit_angle_file_is_refused(small, tmp_path, capsys):
    mrc, tlt = small
    before = sha(tlt)
    code = main(["align", str(mrc), "--out", str(tmp_path / "al.mrc"),
                 "--shifts-out", str(tlt), "--force"])
    assert code == 2 and "one of the inputs" in capsys.readouterr().err
    assert sha(tlt) == before and not (tmp_path / "al.mrc").exists()


def test_demo_force_never_overwrites_a_file_it_did_not_write(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("my own notes\n")
    before = listing(tmp_path)
    assert main(["demo", "--out", str(tmp_path), "--force", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "README.md was not written by atomtomo demo" in err
    assert readme.read_text() == "my own notes\n" and listing(tmp_path) == before


def test_demo_out_naming_a_file_gets_a_sentence(tmp_path, capsys):
    f = tmp_path / "notes.txt"
    f.write_text("x")
    assert main(["demo", "--out", str(f), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exists and is not a folder" in err and "Errno" not in err


def test_out_naming_an_existing_folder_says_so(small, tmp_path, capsys):
    mrc, _ = small
    (tmp_path / "vol.mrc").mkdir()
    assert main(["sirt", str(mrc), "--out", str(tmp_path / "vol.mrc"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "is an existing folder" in err and "--force" not in err


# ------------------------------------------------------------------ errors before the work
def test_missing_output_folder_is_found_before_the_reconstruction(small, tmp_path, capsys):
    mrc, _ = small
    code = main(["sirt", str(mrc), "--iterations", "3", "--out", str(tmp_path / "no" / "v.mrc")])
    err = capsys.readouterr().err
    assert code == 2 and "does not exist" in err
    assert "sirt: 1/3" not in err  # no iteration ran


def test_trace_json_in_a_missing_folder_is_refused_first_and_leaves_nothing(tmp_path, capsys):
    vol = np.zeros((12, 12, 12), np.float32)
    vol[6, 6, 6] = 1.0
    io.write_mrc(tmp_path / "v.mrc", vol, 0.5)
    code = main(["trace", str(tmp_path / "v.mrc"), "--out", str(tmp_path / "a.xyz"),
                 "--json", str(tmp_path / "nodir" / "r.json")])
    assert code == 2 and "folder " in (err := capsys.readouterr().err)
    assert "nodir of --json" in err and "does not exist" in err
    assert not (tmp_path / "a.xyz").exists()


def test_unwritable_output_folder_is_refused_before_the_work(small, capsys):
    mrc, _ = small  # /proc refuses new files even for root, unlike a chmod-ed folder
    assert main(["sirt", str(mrc), "--out", "/proc/vol.mrc", "--quiet"]) == 2
    assert "cannot write in folder /proc of --out /proc/vol.mrc" in capsys.readouterr().err


def test_dev_full_as_plot_is_refused_not_reported_as_success(atoms_files, capsys):
    traced, truth = atoms_files
    assert main(["compare", str(traced), str(truth), "--plot", "/dev/full", "--force"]) == 2
    assert "not a regular file" in capsys.readouterr().err


# ------------------------------------------------------------------ OS errors: one sentence
@pytest.mark.parametrize(("limit", "failing"), [(1000, "r.json"), (3000, "r.png")])
@pytest.mark.slow
def test_file_size_limit_gives_one_sentence_and_no_partial_output(atoms_files, tmp_path,
                                                                  limit, failing):
    # 1000 bytes cut the JSON report short; 3000 bytes let it through and cut the figure
    traced, truth = atoms_files
    warm_up("compare", traced, truth, "--json", "{warm}/r.json", "--plot", "{warm}/r.png")
    rep, png = tmp_path / "r.json", tmp_path / "r.png"
    r = atomtomo("compare", traced, truth, "--json", rep, "--plot", png, limit_bytes=limit)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0
    assert f"cannot write {tmp_path / failing}: File too large" in r.stderr
    # all or nothing: neither the JSON nor the figure, nor any temporary file
    assert listing(tmp_path) == ["traced.xyz", "truth.xyz"]


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.slow
def test_debug_keeps_the_traceback(atoms_files, tmp_path, where):
    traced, truth = atoms_files
    argv = ["compare", traced, truth, "--json", tmp_path / "r.json"]
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    r = atomtomo(*argv, limit_bytes=1000)
    assert r.returncode != 0 and "Traceback" in r.stderr and "OSError" in r.stderr


@pytest.mark.slow
def test_full_stdout_gives_one_sentence(atoms_files):
    traced, truth = atoms_files
    with open("/dev/full", "w") as full:
        r = atomtomo("compare", traced, truth, stdout=full)
    assert r.returncode == 1
    assert "standard output" in r.stderr and "Traceback" not in r.stderr
    assert "Exception ignored" not in r.stderr


@pytest.mark.slow
def test_mrc_write_on_a_full_disk_gives_one_sentence(small, tmp_path):
    mrc, _ = small
    warm_up("sirt", mrc, "--iterations", "2", "--quiet", "--out", "{warm}/v.mrc")
    r = atomtomo("sirt", mrc, "--iterations", "2", "--quiet", "--out", tmp_path / "v.mrc",
                 limit_bytes=1500)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert f"cannot write {tmp_path / 'v.mrc'}: File too large" in r.stderr
    assert not (tmp_path / "v.mrc").exists()
    assert not [p for p in tmp_path.iterdir() if "part" in p.name]


# ------------------------------------------------------------------ the output layer itself
def test_outputs_roll_back_files_and_the_folders_they_created(tmp_path):
    outs = Outputs(inputs=())
    folder = outs.folder(tmp_path / "maps")
    a, b = outs.file(folder / "map_Ag.mrc", own=True), outs.file(folder / "map_Au.mrc", own=True)
    with pytest.raises(RuntimeError, match="half way"):
        with outs.writing() as stage:
            io.write_mrc(stage(a), np.ones((2, 2, 2)), 1.0)
            stage(b)
            raise RuntimeError("half way")
    assert listing(tmp_path) == []


def test_outputs_staged_folder_refuses_existing_files_without_force(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x.txt").write_text("mine")
    outs = Outputs(force=False)
    out = outs.folder(tmp_path / "out")
    with pytest.raises(FileExistsError):
        with outs.writing() as stage:
            tmp = stage.folder(out)
            (tmp / "y.txt").write_text("new")
            (tmp / "x.txt").write_text("new")
    assert listing(tmp_path / "out") == ["x.txt"]
    assert (tmp_path / "out" / "x.txt").read_text() == "mine"


# ------------------------------------------------------------------ memory estimates
def test_simulate_silica_too_large_is_refused_with_needed_and_available(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["simulate", "silica", str(out), "--n-pixels", "20000000"]) == 2
    err = capsys.readouterr().err
    assert "needs about" in err and "GiB" in err and "available" in err and "--n-pixels" in err
    assert not out.exists()


def test_project_too_many_detector_columns_is_refused(tmp_path, capsys):
    io.write_mrc(tmp_path / "v.mrc", np.ones((4, 4, 4), np.float32), 1.0)
    io.write_tlt(tmp_path / "a.tlt", [-30.0, 0.0, 30.0])
    code = main(["project", str(tmp_path / "v.mrc"), "--angles", str(tmp_path / "a.tlt"),
                 "--n-u", str(10**13), "--out", str(tmp_path / "p.mrc")])
    err = capsys.readouterr().err
    assert code == 2 and "needs about" in err and "--n-u" in err
    assert not (tmp_path / "p.mrc").exists()


@pytest.mark.slow
def test_memory_error_during_the_work_is_one_sentence(tmp_path):
    # the child may grow by 1 GiB of address space only: a 2.4 GiB stack raises MemoryError
    io.write_mrc(tmp_path / "v.mrc", np.ones((4, 4, 4), np.float32), 1.0)
    io.write_tlt(tmp_path / "a.tlt", [-30.0, 0.0, 30.0])
    code = ("import resource, sys; from napari_atomtomo.cli import main; "
            "import napari_atomtomo.core.projectors; "
            "vm = int([l for l in open('/proc/self/status') if l.startswith('VmSize')][0]"
            ".split()[1]) * 1024; "
            "resource.setrlimit(resource.RLIMIT_AS, (vm + (1 << 30), vm + (1 << 30))); "
            "sys.exit(main(sys.argv[1:]))")
    r = subprocess.run([sys.executable, "-c", code, "project", str(tmp_path / "v.mrc"),
                        "--angles", str(tmp_path / "a.tlt"), "--n-u", str(5 * 10**7),
                        "--out", str(tmp_path / "p.mrc")],
                       capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=SRC),
                       timeout=300)
    assert r.returncode == 1, r.stderr
    assert "ran out of memory" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "p.mrc").exists()


# ------------------------------------------------------------------ every command, one sentence
@pytest.fixture
def inputs_for_all(tmp_path, small, atoms_files, small_dataset_folder):
    mrc, _ = small
    io.write_mrc(tmp_path / "vol.mrc", np.ones((6, 6, 6), np.float32), 1.0)
    maps = tmp_path / "maps"
    maps.mkdir()
    for el in ("Ag", "Au"):
        io.write_mrc(maps / f"map_{el}.mrc", np.ones((4, 1, 4), np.float32), 1.0)
    traced, truth = atoms_files
    data, _ = small_dataset_folder
    return {"stack": str(mrc), "vol": str(tmp_path / "vol.mrc"),
            "tlt": str(mrc.with_suffix(".tlt")),
            "maps": str(maps), "traced": str(traced), "truth": str(truth), "data": str(data)}


COMMANDS = {
    "sirt": ["sirt", "{stack}", "--out", "{o}/v.mrc"],
    "est": ["est", "{stack}", "--out", "{o}/v.mrc"],
    "align": ["align", "{stack}", "--out", "{o}/a.mrc"],
    "project": ["project", "{vol}", "--angles", "{tlt}", "--out", "{o}/p.mrc"],
    "trace": ["trace", "{vol}", "--out", "{o}/a.xyz"],
    "compare": ["compare", "{traced}", "{truth}", "--json", "{o}/c.json"],
    "eds": ["eds", "{data}", "--out", "{o}/maps"],
    "hebt": ["hebt", "{data}", "--out", "{o}/maps"],
    "quantify": ["quantify", "{maps}", "--kind", "eds", "--out", "{o}/wt"],
    "simulate silica": ["simulate", "silica", "{o}/sim"],
    "simulate silica-structure": ["simulate", "silica-structure", "{o}/s.xyz"],
    "simulate agau": ["simulate", "agau", "{o}/agau"],
    "demo": ["demo", "--out", "{o}/demo"],
    "preprocess": ["preprocess", "{stack}", "--out", "{o}/pre.mrc"],
    "structure": ["structure", "{truth}", "--json", "{o}/s.json"],
}


#: Commands whose output is a folder: missing levels of it are created, not refused.
FOLDER_OUTPUT = {"eds", "hebt", "quantify", "simulate silica", "simulate agau", "demo"}
CASES = [(c, w) for c in COMMANDS for w in ("missing", "unwritable")
         if not (w == "missing" and c in FOLDER_OUTPUT)]


@pytest.mark.parametrize(("command", "where"), CASES)
def test_every_command_checks_its_output_folder_first(command, where, inputs_for_all,
                                                      tmp_path, capsys):
    o = str(tmp_path / "nowhere") if where == "missing" else "/proc"
    argv = [a.format(o=o, **inputs_for_all) for a in COMMANDS[command]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert ("does not exist" in err) if where == "missing" else ("cannot write in" in err)


# ------------------------------------------------------------------ demo
@pytest.mark.slow
def test_demo_force_replaces_its_own_files_only(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--skip-silica", "--quiet"]) == 0
    manifest = json.loads((out / ".atomtomo-demo.json").read_text())["files"]
    assert "README.md" in manifest and "agau/summary.json" in manifest
    assert main(["demo", "--out", str(out), "--skip-silica", "--quiet", "--force"]) == 0
    mine = out / "agau" / "my-notes.txt"
    mine.write_text("keep me")
    before = {p: sha(out / p) for p in listing(out) if (out / p).is_file()}
    capsys.readouterr()
    assert main(["demo", "--out", str(out), "--skip-silica", "--quiet", "--force"]) == 2
    assert "my-notes.txt was not written by atomtomo demo" in capsys.readouterr().err
    assert {p: sha(out / p) for p in listing(out) if (out / p).is_file()} == before


@pytest.mark.slow
def test_demo_failing_half_way_leaves_nothing(tmp_path):
    # a 20 kB file-size limit lets the first files of the Ag-Au data set through
    # and stops the phantoms (37 kB): the run fails after writing part of its set
    out = tmp_path / "demo"
    r = atomtomo("demo", "--out", out, "--skip-silica", "--quiet", limit_bytes=20_000)
    assert r.returncode == 1 and "File too large" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists() and listing(tmp_path) == []


@pytest.mark.parametrize(("command", "what"), [("est", "EST of 5 images of 8×400000 px"),
                                               ("sirt", "reconstructing 1 volume(s)")])
def test_reconstruction_too_large_is_refused_before_allocating(tmp_path, capsys, command, what):
    # 5 images of 8 x 400000 px (64 MB) ask for a 400000 x 8 x 400000 volume
    mrc, _ = io.write_tilt_series(tmp_path / "wide.mrc", np.ones((5, 8, 400_000), np.float32),
                                  [-60.0, -30.0, 0.0, 30.0, 60.0], 1.0)
    assert main([command, str(mrc), "--out", str(tmp_path / "v.mrc"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert what in err and "needs about" in err and "GiB" in err
    assert not (tmp_path / "v.mrc").exists()


def test_output_folder_with_missing_parents_is_created_and_removed_on_failure(tmp_path, capsys):
    maps = _maps_folder(tmp_path)
    out = tmp_path / "a" / "b" / "wt"
    assert main(["quantify", str(maps), "--kind", "eds", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["quantify.json", "wt_Ag.mrc", "wt_Au.mrc"]
    outs = Outputs()
    new = outs.folder(tmp_path / "x" / "y" / "z")
    target = outs.file(new / "f.txt", own=True)
    with pytest.raises(RuntimeError):
        with outs.writing() as stage:
            stage(target).write_text("half")
            raise RuntimeError("fails")
    assert not (tmp_path / "x").exists()


def _maps_folder(tmp_path):
    maps = tmp_path / "maps"
    maps.mkdir()
    for el in ("Ag", "Au"):
        m = np.zeros((6, 1, 6), np.float32)
        m[1:5, 0, 1:5] = 1.0
        io.write_mrc(maps / f"map_{el}.mrc", m, 1.0)
    return maps


INPUT_ERRORS = {
    "info": ["info", "{o}/none.mrc"],
    "sirt": ["sirt", "{o}/none.mrc", "--out", "{o}/v.mrc"],
    "est": ["est", "{o}/none.mrc", "--out", "{o}/v.mrc"],
    "align": ["align", "{o}/none.mrc", "--out", "{o}/a.mrc"],
    "project": ["project", "{o}/none.mrc", "--angles", "{o}/none.tlt", "--out", "{o}/p.mrc"],
    "trace": ["trace", "{o}/none.mrc", "--out", "{o}/a.xyz"],
    "compare": ["compare", "{o}/none.xyz", "{o}/none2.xyz"],
    "eds": ["eds", "{o}/nodata", "--out", "{o}/maps"],
    "hebt": ["hebt", "{o}/nodata", "--out", "{o}/maps"],
    "quantify": ["quantify", "{o}/nomaps", "--kind", "eds", "--out", "{o}/wt"],
    "simulate silica": ["simulate", "silica", "{o}/sim", "--structure", "{o}/none.xyz"],
    "preprocess": ["preprocess", "{o}/none.mrc", "--out", "{o}/pre.mrc"],
    "structure": ["structure", "{o}/none.xyz", "--json", "{o}/s.json"],
}


@pytest.mark.parametrize("command", list(INPUT_ERRORS))
def test_every_command_gives_one_sentence_for_a_missing_input(command, tmp_path, capsys):
    argv = [a.format(o=tmp_path) for a in INPUT_ERRORS[command]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "does not exist" in err
    assert err.startswith(f"atomtomo {command.split()[0]}: error: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.slow
def test_trace_set_is_all_or_nothing_when_the_figure_fails(tmp_path):
    vol = np.zeros((16, 16, 16), np.float32)
    for (z, y, x), amp in (((4, 4, 4), 2.0), ((11, 11, 11), 1.0), ((4, 11, 8), 1.0)):
        vol[z, y, x] = amp
    io.write_mrc(tmp_path / "v.mrc", vol, 0.5)
    args = ["--split", "1.5", "--noise-floor", "0.5"]
    warm_up("trace", tmp_path / "v.mrc", "--out", "{warm}/a.xyz", "--json", "{warm}/r.json",
            "--plot", "{warm}/p.png", *args)
    # 4000 bytes hold the atoms (XYZ, CSV) and the JSON report, not the figure
    r = atomtomo("trace", tmp_path / "v.mrc", "--out", tmp_path / "a.xyz",
                 "--csv", tmp_path / "a.csv", "--json", tmp_path / "r.json",
                 "--plot", tmp_path / "p.png", *args, limit_bytes=4000)
    assert r.returncode == 1, r.stderr
    assert f"cannot write {tmp_path / 'p.png'}: File too large" in r.stderr
    assert listing(tmp_path) == ["v.mrc"]


@pytest.mark.parametrize("command", ["eds", "hebt"])
def test_eds_hebt_too_large_are_refused_before_allocating(tmp_path, capsys, command):
    wide = np.ones((5, 1, 400_000), np.float32)
    folder = tmp_path / "data"
    io.write_dataset(folder, io.DataSet(wide, {"Ag": wide, "Au": wide},
                                        np.array([-60.0, -30.0, 0.0, 30.0, 60.0]), 1.0))
    assert main([command, str(folder), "--out", str(tmp_path / "maps"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "needs about" in err and "bin the tilt series" in err
    assert not (tmp_path / "maps").exists()


def test_eds_and_hebt_refuse_a_data_set_without_eds_series(tmp_path, capsys):
    folder = tmp_path / "data"
    folder.mkdir()
    io.write_tilt_series(folder / "haadf.mrc", np.ones((3, 2, 4), np.float32),
                          [-30.0, 0.0, 30.0], 1.0)
    (folder / "haadf.tlt").rename(folder / "angles.tlt")
    for cmd in ("eds", "hebt"):
        assert main([cmd, str(folder), "--out", str(tmp_path / cmd)]) == 2
        assert f"data-set folder {folder} has no eds_<Element>.mrc files" in capsys.readouterr().err
        assert not (tmp_path / cmd).exists()
