"""Bruker BCF HAADF + EDS tilt series, one file per tilt (optional extra ``formats``).

rosettasciio is imported inside the functions; without it a
:class:`~napari_atomtomo.io.vendor.MissingDependencyError` says what to install.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ..core.geometry import validate_angles
from ..core.xray_lines import (
    XRAY_LINES_KEV,
    check_element,
    detector_fwhm_kev,
    line_energy,
    main_line,
)
from ._optional import length_in_angstrom, need_module
from ._paths import existing_folder, finite_float32
from .dataset import DataSet

__all__ = ["read_bcf_tilt_series", "bcf_angles", "bcf_summary"]


_ANGLE_NAME = re.compile(r"^[+-]?\d+(\.\d+)?$")


def bcf_angles(folder) -> list[tuple[float, Path]]:
    """``(angle, path)`` of every ``<angle>.bcf`` in ``folder``, sorted by angle."""
    root = existing_folder(folder, "BCF folder")
    out = []
    for q in root.glob("*.bcf"):
        if not _ANGLE_NAME.match(q.stem):
            raise ValueError(f"{q.name}: expected the file name to be its tilt angle in degrees, "
                             "such as -10.bcf")
        out.append((float(q.stem), q))
    if not out:
        raise FileNotFoundError(f"folder {root} holds no .bcf files")
    out.sort(key=lambda t: t[0])
    angles = [a for a, _ in out]
    if len(set(angles)) != len(angles):
        raise ValueError(f"folder {root} has two BCF files for the same tilt angle")
    validate_angles(angles)
    return out


def _resolve_line(el: str, spec, file_lines: dict[str, str], e_max: float) -> tuple[str, float]:
    if spec is None:
        fam = file_lines.get(el)
        if fam is not None and fam in XRAY_LINES_KEV.get(el, {}):
            return f"{el}_{fam}", line_energy(el, fam)
        fam, e = main_line(el, e_max)
        return f"{el}_{fam}", e
    if isinstance(spec, (int, float)):
        if not (0 < float(spec) < e_max):
            raise ValueError(f"line energy for {el} must be in (0, {e_max:g}) keV, got {spec!r}")
        return f"{el}@{float(spec):g}keV", float(spec)
    fam = str(spec).split("_")[-1]
    return f"{el}_{fam}", line_energy(el, fam)


def read_bcf_tilt_series(folder, elements=None, *, lines=None, window_kev=None,
                         background: bool = False, binning: int = 1, tilts=None,
                         callback=None) -> DataSet:
    """Read a Bruker BCF tilt series (one ``<angle>.bcf`` per tilt) as a :class:`DataSet`.

    Each file holds a HAADF image and an EDS cube ``(y, x, channel)``. For every element
    the counts in a window around its main X-ray line are summed into a map.

    Parameters
    ----------
    folder : path-like
        Folder of ``<angle>.bcf`` files (angles in degrees); sorted by angle.
    elements : list of str, optional
        Element symbols; default: the elements the first file's metadata lists.
    lines : dict, optional
        Per element a line family (``"Ka"``, ``"La"``, ``"Ma"``, e.g. ``{"Pt": "Ma"}``) or
        an energy in keV. Default: the line the file lists for the element, else Kα, Lα
        or Mα, the first that lies inside the spectrum.
    window_kev : float, optional
        Half width of the integration window. Default: the detector FWHM at the line
        energy from the file's resolution calibration (≈ 130 eV at Mn Kα), i.e. the
        window is ±FWHM around the line.
    background : bool
        Subtract a linear background estimated per pixel from two side windows, each as
        wide as the half window, centred 2.5 half-widths either side of the line; the
        result is clipped at 0 so maps stay non-negative counts. Off by default (raw
        window counts, as most EDS tomography does).
    binning : int
        Sum EDS counts (and average HAADF) over ``binning × binning`` pixel blocks; must
        divide the image size. The voxel size grows accordingly.
    tilts : list of float, optional
        Read only these tilt angles (degrees), e.g. to preview a few.
    callback : callable, optional
        ``callback(done, total)`` after each file.

    Returns
    -------
    DataSet
        ``haadf`` and ``eds[El]`` as ``(angle, y, x)`` float32, angles ascending, voxel
        size in Å from the file calibration (× binning), ``path`` = ``folder``.
    """
    bruker = need_module("rsciio.bruker", "rosettasciio", "Bruker BCF files")
    files = bcf_angles(folder)
    if tilts is not None:
        want = {float(t) for t in tilts}
        missing = sorted(want - {a for a, _ in files})
        if missing:
            raise ValueError(f"no BCF file for tilt angle(s) {missing} in {folder}")
        files = [(a, q) for a, q in files if a in want]
    if int(binning) != binning or binning < 1:
        raise ValueError(f"binning must be a positive integer, got {binning!r}")
    binning = int(binning)
    if window_kev is not None and not (0 < float(window_kev) < 2):
        raise ValueError(f"window_kev must be a half width in (0, 2) keV, got {window_kev!r}")

    first = _read_bcf(bruker, files[0][1], cutoff=None, header_only=True)
    md_sample = first["eds_md"].get("Sample", {})
    file_lines = {s.split("_")[0]: s.split("_")[1] for s in md_sample.get("xray_lines", [])}
    if elements is None:
        elements = list(md_sample.get("elements", []))
        if not elements:
            raise ValueError(f"{files[0][1].name} lists no elements; pass elements explicitly")
    elements = [check_element(str(e), where="elements") for e in elements]
    if len(set(elements)) != len(elements):
        raise ValueError(f"elements lists an element twice: {elements}")
    spec = first["spectrum"]
    e_max = spec["offset"] + spec["scale"] * spec["n_channels"]
    lines = dict(lines or {})
    unknown = set(lines) - set(elements)
    if unknown:
        raise ValueError(f"lines names elements not in elements: {sorted(unknown)}")
    plan: dict[str, dict[str, Any]] = {}
    for el in elements:
        name, e = _resolve_line(el, lines.get(el), file_lines, e_max)
        w = float(window_kev) if window_kev is not None else detector_fwhm_kev(
            e, spec.get("sigma_abs"), spec.get("sigma_lin"))
        plan[el] = {"line": name, "energy_keV": e, "window_keV": (e - w, e + w)}
    cutoff = max(p["window_keV"][1] for p in plan.values()) + (3 * max(
        p["window_keV"][1] - p["energy_keV"] for p in plan.values()) if background else 0) + 0.05

    n = len(files)
    haadf = np.empty((0, 0, 0), np.float32)  # allocated at the first file
    eds: dict[str, np.ndarray] = {}
    vs0 = None
    for i, (_angle, q) in enumerate(files):
        rec = _read_bcf(bruker, q, cutoff=min(cutoff, e_max), header_only=False)
        img, cube, vs = rec["haadf"], rec["cube"], rec["voxel_size"]
        ny, nx = img.shape
        if vs0 is None:
            if ny % binning or nx % binning:
                raise ValueError(f"binning {binning} does not divide the image size {ny}×{nx}")
            vs0 = vs
            haadf = np.empty((n, ny // binning, nx // binning), np.float32)
            eds = {el: np.empty_like(haadf) for el in elements}
        elif abs(vs - vs0) > 1e-3 * vs0 or (ny, nx) != (haadf.shape[1] * binning, haadf.shape[2] * binning):
            raise ValueError(f"{q.name} has a different image size or pixel size from {files[0][1].name}")
        haadf[i] = _bin(img.astype(np.float64), binning) / binning**2
        off, sc = rec["spectrum"]["offset"], rec["spectrum"]["scale"]
        for el, p in plan.items():
            lo, hi = p["window_keV"]
            counts = _integrate(cube, off, sc, lo, hi, background)
            eds[el][i] = _bin(counts, binning)
        del cube, rec
        if callback is not None:
            callback(i + 1, n)
    angles = np.array([a for a, _ in files])
    metadata = {
        "source": "Bruker BCF", "folder": str(folder), "binning": binning,
        "background": "linear from side windows, clipped at 0" if background else "none",
        "lines": {el: {"line": p["line"], "energy_keV": p["energy_keV"],
                       "window_keV": [round(v, 4) for v in p["window_keV"]]}
                  for el, p in plan.items()},
    }
    assert vs0 is not None  # files is not empty
    return DataSet(haadf, eds, angles, vs0 * binning, None, {}, Path(folder), metadata)


def _read_bcf(bruker, q: Path, cutoff, header_only: bool) -> dict:
    try:
        if header_only:
            # The smallest read that still yields the EDS metadata: cut the spectrum at 0.1 keV.
            sigs = bruker.file_reader(str(q), cutoff_at_kV=0.1, downsample=8)
        else:
            sigs = bruker.file_reader(str(q), cutoff_at_kV=cutoff)
    except Exception as exc:
        raise ValueError(f"{q} is not a readable Bruker BCF file ({exc})") from None
    img = next((s for s in sigs if np.ndim(s["data"]) == 2), None)
    eds = next((s for s in sigs if np.ndim(s["data"]) == 3), None)
    if img is None or eds is None:
        raise ValueError(f"{q} does not hold both a HAADF image and an EDS cube")
    ax = eds["axes"][2]
    spec_hdr = eds["original_metadata"].get("Spectrum", {})
    spectrum = {
        "offset": float(ax["offset"]), "scale": float(ax["scale"]),
        "n_channels": int(spec_hdr.get("ChannelCount", eds["data"].shape[2])),
        "sigma_abs": spec_hdr.get("SigmaAbs"), "sigma_lin": spec_hdr.get("SigmaLin"),
    }
    if str(ax.get("units")) != "keV":
        raise ValueError(f"{q} has an EDS energy axis in {ax.get('units')!r}; expected keV")
    iax = img["axes"][1]
    return {
        "haadf": finite_float32(np.asarray(img["data"]), f"{q.name} HAADF"),
        "cube": eds["data"],
        "voxel_size": length_in_angstrom(iax["scale"], iax.get("units"), str(q)),
        "spectrum": spectrum,
        "eds_md": eds["metadata"],
    }


def _channel_range(offset: float, scale: float, lo: float, hi: float, n: int) -> slice:
    """Channels whose centres lie in ``[lo, hi]`` keV."""
    a = int(np.ceil((lo - offset) / scale))
    b = int(np.floor((hi - offset) / scale)) + 1
    return slice(max(a, 0), min(max(b, 0), n))


def _integrate(cube, offset, scale, lo, hi, background: bool) -> np.ndarray:
    n = cube.shape[2]
    sl = _channel_range(offset, scale, lo, hi, n)
    if sl.stop <= sl.start:
        raise ValueError(f"integration window {lo:.3f}–{hi:.3f} keV lies outside the spectrum")
    counts = cube[:, :, sl].sum(axis=2, dtype=np.float64)
    if background:
        w = (hi - lo) / 2.0
        e0 = (hi + lo) / 2.0
        left = _channel_range(offset, scale, e0 - 3.0 * w, e0 - 2.0 * w, n)
        right = _channel_range(offset, scale, e0 + 2.0 * w, e0 + 3.0 * w, n)
        if left.stop <= left.start or right.stop <= right.start:
            raise ValueError(f"background windows around {e0:.3f} keV fall outside the spectrum")
        per_ch = 0.5 * (cube[:, :, left].mean(axis=2, dtype=np.float64)
                        + cube[:, :, right].mean(axis=2, dtype=np.float64))
        counts = np.clip(counts - per_ch * (sl.stop - sl.start), 0.0, None)
    return counts


def _bin(img: np.ndarray, b: int) -> np.ndarray:
    if b == 1:
        return img
    ny, nx = img.shape
    return img.reshape(ny // b, b, nx // b, b).sum(axis=(1, 3))


def bcf_summary(folder) -> dict:
    """What a BCF tilt-series folder holds, from the file names and one cheap read."""
    bruker = need_module("rsciio.bruker", "rosettasciio", "Bruker BCF files")
    files = bcf_angles(folder)
    first = _read_bcf(bruker, files[0][1], cutoff=None, header_only=True)
    spec = first["spectrum"]
    md = first["eds_md"]
    return {
        "n_tilts": len(files),
        "angles_deg": [a for a, _ in files],
        "image_shape": list(first["haadf"].shape),
        "voxel_size_A": first["voxel_size"],
        "eds_channels": spec["n_channels"],
        "eds_channel_width_eV": spec["scale"] * 1000.0,
        "beam_energy_keV": md.get("Acquisition_instrument", {}).get("TEM", {}).get("beam_energy"),
        "elements_listed": list(md.get("Sample", {}).get("elements", [])),
    }
