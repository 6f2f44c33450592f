"""``atomtomo info PATH``: what a file or folder holds (shape, voxel size, angles, values)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from ..core.geometry import equally_sloped_angles

_MRC = {".mrc", ".mrcs", ".st", ".ali", ".rec", ".map"}
_TLT = {".tlt", ".rawtlt"}
_ATOMS = {".xyz", ".csv"}
_DM = {".dm3", ".dm4", ".emd"}
_H5 = {".h5", ".hdf5"}
_OTHER_STACKS = {".mat", ".tif", ".tiff"}
_OTHER_ANGLES = {".mdoc"}
_ES_TOL_DEG = 0.05
_ES_MAX_N = 512


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "info",
        help="describe an MRC, .tlt, XYZ/CSV, DM3, HDF5 file, a data-set folder or a BCF folder",
        description=(
            "Print shape, voxel size (Å), value range, angles and atom counts of a file, or of "
            "every file in a data-set folder, one item per line."
        ),
    )
    p.add_argument("path", metavar="PATH", help="file or folder")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(func=run)


# ----------------------------------------------------------------------------- describers
def equally_sloped_match(angles) -> dict | None:
    """The equally sloped set (even N ≤ 512) that ``angles`` matches within 0.05°, if any."""
    a = np.sort(np.asarray(angles, dtype=np.float64))
    top = float(np.max(np.abs(a)))
    if a.size < 2 or top <= 0 or top > 90:
        return None
    for n in range(2, _ES_MAX_N + 1, 2):
        ref = equally_sloped_angles(n, top)
        if ref.size == a.size:
            err = float(np.max(np.abs(ref - a)))
            if err <= _ES_TOL_DEG:
                return {"n_slopes": n, "max_error_deg": round(err, 6)}
        elif ref.size > a.size + 4:
            break
    return None


def describe_angles(angles, path=None) -> dict:
    a = np.asarray(angles, dtype=np.float64)
    d = {"kind": "tilt angles"} if path is None else {"path": str(path), "kind": "tilt angles"}
    d.update(count=int(a.size), min_deg=float(a.min()), max_deg=float(a.max()))
    if a.size > 1:
        steps = np.diff(a)
        if np.allclose(steps, steps[0], atol=1e-3):
            d["step_deg"] = float(round(steps[0], 6))
        else:
            d["step_deg"] = "irregular"
            d["step_range_deg"] = [float(steps.min()), float(steps.max())]
    es = equally_sloped_match(a)
    d["equally_sloped"] = es is not None
    if es:
        d["equally_sloped_n"] = es["n_slopes"]
        d["equally_sloped_max_error_deg"] = es["max_error_deg"]
    return d


def describe_mrc(path) -> dict:
    from .. import io

    p = Path(path)
    hdr = io.read_mrc_header(p)
    data, vs = io.read_mrc(p)
    kind = "MRC image stack (angle, y, x)" if hdr.is_image_stack else "MRC volume (z, y, x)"
    d = {
        "path": str(p), "kind": kind, "shape": list(data.shape), "file_dtype": hdr.dtype,
        "voxel_size_A": vs if hdr.voxel_size_set else None,
        "min": float(data.min()), "max": float(data.max()), "mean": float(data.mean(dtype=np.float64)),
    }
    if not hdr.voxel_size_set:
        d["note"] = "voxel size unset in the header (readers assume 1 Å)"
    sibling = io.find_angles_file(p)
    if sibling is not None and (hdr.is_image_stack or sibling.stem == p.stem):
        angles = io.read_tlt(sibling)
        d["angles_file"] = str(sibling)
        d["angles_match_images"] = bool(angles.size == data.shape[0])
        d["angles"] = describe_angles(angles)
    return d


def describe_atoms(path) -> dict:
    from .. import io

    p = Path(path)
    atoms = io.read_xyz(p) if p.suffix.lower() == ".xyz" else io.read_atoms_csv(p)
    d = {"path": str(p), "kind": "atoms", "count": len(atoms), "per_element": atoms.counts(),
         "bbox_min_A": atoms.positions.min(0).tolist(), "bbox_max_A": atoms.positions.max(0).tolist()}
    if atoms.features:
        d["features"] = list(atoms.features)
    return d


def describe_dm(path) -> dict:
    from .. import io

    ts = io.read_tilt_series(path)  # DM3/DM4 or EMD
    kind = "EMD" if Path(path).suffix.lower() == ".emd" else "DM"
    return {"path": str(path), "kind": f"{kind} tilt series (angle, y, x)", "shape": list(ts.data.shape),
            "voxel_size_A": ts.voxel_size, "min": float(ts.data.min()), "max": float(ts.data.max()),
            "mean": float(ts.data.mean(dtype=np.float64)), "angles_source": ts.angles_source,
            "angles": describe_angles(ts.angles_deg)}


def describe_h5(path) -> dict:
    from .. import io

    maps = io.read_fused_h5(path)
    return {"path": str(path), "kind": "HDF5 2D maps",
            "datasets": {k: {"shape": list(v.shape), "min": float(v.min()), "max": float(v.max())}
                         for k, v in maps.items()}}


def describe_file(path) -> dict:
    p = Path(path)
    ext = p.suffix.lower()
    if ext in _MRC:
        return describe_mrc(p)
    if ext in _TLT:
        from .. import io

        return describe_angles(io.read_tlt(p), p)
    if ext in _ATOMS:
        return describe_atoms(p)
    if ext in _DM:
        return describe_dm(p)
    if ext in _H5:
        return describe_h5(p)
    if ext in _OTHER_STACKS:
        return describe_other_stack(p)
    if ext in _OTHER_ANGLES:
        from ..io.formats import read_angles

        return describe_angles(read_angles(p)[0], p)
    raise ValueError(f"{p.name}: unsupported format {ext or '(none)'!r}; expected MRC, .tlt, "
                     ".rawtlt, .mdoc, XYZ, CSV, DM3/DM4, EMD, HDF5, MATLAB .mat or TIFF")


def describe_other_stack(path) -> dict:
    """A MATLAB or TIFF tilt series, with its angles when they can be found."""
    from .. import io
    from ..io.formats import read_stack

    p = Path(path)
    try:
        ts = io.read_tilt_series(p)
    except FileNotFoundError:  # no angles anywhere: describe the stack alone
        data, vs, note = read_stack(p)
        return {"path": str(p), "kind": "tilt series (angle, y, x)", "shape": list(data.shape),
                "voxel_size_A": None, "note": note + "; no angles found"}
    return {"path": str(p), "kind": "tilt series (angle, y, x)", "shape": list(ts.data.shape),
            "voxel_size_A": None, "min": float(ts.data.min()), "max": float(ts.data.max()),
            "mean": float(ts.data.mean(dtype=np.float64)), "angles_source": ts.angles_source,
            "angles": describe_angles(ts.angles_deg)}


def describe_folder(path) -> dict:
    from .. import io

    root = Path(path)
    if any(root.glob("*.bcf")):
        return {"path": str(root), "kind": "Bruker BCF tilt series folder", **io.bcf_summary(root)}
    known = _MRC | _TLT | _ATOMS | _DM | _H5 | _OTHER_STACKS | _OTHER_ANGLES
    files = sorted(q for q in root.iterdir() if q.is_file() and q.suffix.lower() in known)
    is_dataset = (root / "haadf.mrc").is_file()
    if not files:
        raise ValueError(f"folder {root} holds no supported files")
    d = {"path": str(root), "kind": "data-set folder" if is_dataset else "folder",
         "files": [describe_file(q) for q in files]}
    if is_dataset:
        for f in d["files"]:  # the shared angles.tlt is listed once, not under every MRC
            if Path(f.get("angles_file", "")).name == "angles.tlt":
                del f["angles_file"], f["angles"]
        ds = io.read_dataset(root)  # every consistency check; raises one sentence on a problem
        d["elements"] = ds.elements
        d["phantoms"] = list(ds.phantoms)
        d["n_images"] = int(ds.haadf.shape[0])
        d["voxel_size_A"] = ds.voxel_size
        d["consistent"] = True
    return d


def describe(path) -> dict:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p} does not exist")
    return describe_folder(p) if p.is_dir() else describe_file(p)


# ----------------------------------------------------------------------------- text output
def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, (int, float)) for x in v) and len(v) > 12:
            return f"{_fmt(v[0])}, {_fmt(v[1])}, …, {_fmt(v[-1])} ({len(v)} values)"
        return ", ".join(_fmt(x) for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    if v is None:
        return "unset"
    return str(v)


def format_text(d: dict, indent: str = "") -> list[str]:
    out = []
    for k, v in d.items():
        if k == "files":
            for f in v:
                out.append(f"{indent}file: {Path(f['path']).name}")
                out += format_text({x: y for x, y in f.items() if x != "path"}, indent + "  ")
        elif isinstance(v, dict) and v and all(isinstance(x, dict) for x in v.values()):
            out.append(f"{indent}{k}:")
            for name, sub in v.items():
                out.append(f"{indent}  {name}: {_fmt(sub)}")
        elif k == "angles" and isinstance(v, dict):
            out += format_text({f"angles_{x}": y for x, y in v.items() if x != "kind"}, indent)
        else:
            out.append(f"{indent}{k}: {_fmt(v)}")
    return out


def run(args) -> int:
    d = describe(args.path)
    if args.json:
        json.dump(d, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print("\n".join(format_text(d)))
    return 0
