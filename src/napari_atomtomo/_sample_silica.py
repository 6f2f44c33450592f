"""Sample data: paper 000's SiO2 particle reconstructed by EST, with its traced atoms.

The same recipe as the silica part of ``atomtomo demo``
(:func:`napari_atomtomo.pipelines.silica.run_silica_pipeline`): the shipped 1002-atom
structure imaged at R_noise 10 % (seed 0, the "Simulated SiO2 HAADF tilt series"
sample), aligned, reconstructed by EST with 200 + 200 iterations and traced (Si first,
O in the residual), then compared with the truth. That takes 15-20 s, so it runs once
and its files are kept in a cache folder (``$NAPARI_ATOMTOMO_CACHE``, else
``$XDG_CACHE_HOME/napari-atomtomo``, else ``~/.cache/napari-atomtomo``); later opens
read them back in a fraction of a second. Delete the folder to make them anew.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from . import io
from ._atoms_layers import atoms_layer_data
from ._layers import image_layer_data

__all__ = ["make_silica_reconstruction", "silica_reconstruction_folder", "RECIPE_VERSION"]

#: Bump when the recipe below changes, so that cached results of an older one are not used.
RECIPE_VERSION = 1
#: R_noise of the tilt series (the paper's lowest noise level) and its random seed.
R_NOISE, SEED = 0.10, 0


def _cache_root() -> Path:
    explicit = os.environ.get("NAPARI_ATOMTOMO_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "napari-atomtomo"


def silica_reconstruction_folder() -> Path:
    """The folder holding the cached pipeline output of this sample (may not exist yet)."""
    return _cache_root() / f"silica_reconstruction_v{RECIPE_VERSION}"


def _ensure_files(folder: Path, callback=None) -> None:
    """Run the pipeline into ``folder`` unless a complete earlier run is there
    (``callback``: the pipeline's progress callback; it may raise to stop the run)."""
    if (folder / "summary.json").is_file():
        return
    from .core.simulate.haadf import HaadfParams
    from .pipelines.silica import SilicaPipelineParams, run_silica_pipeline

    folder.parent.mkdir(parents=True, exist_ok=True)
    # Written to a temporary folder first: an interrupted run never looks complete.
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        params = SilicaPipelineParams(haadf=HaadfParams(r_noise=R_NOISE, seed=SEED))
        run_silica_pipeline(tmp, params, force=True, callback=callback)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        tmp.rename(folder)
    except OSError:  # another napari made it meanwhile: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
        if not (folder / "summary.json").is_file():
            raise


def make_silica_reconstruction(callback=None) -> list[tuple]:
    """Sample layers: the EST volume ``est``, the traced atoms ``atoms_traced`` (Si yellow,
    O red; features ``element``, ``intensity``) and the true atoms ``atoms_true`` (hidden).

    ``callback(step, done, total, message)``, if given, is the pipeline's progress
    callback (:func:`~napari_atomtomo.pipelines.silica.run_silica_pipeline`); raising in
    it stops a first-time run (nothing is cached then).

    Each layer's ``metadata["atomtomo"]`` records the pipeline parameters, the cache
    folder and the comparison with the truth (misplaced atoms at 1 Å, RMSD).
    """
    folder = silica_reconstruction_folder()
    _ensure_files(folder, callback)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    volume, vs = io.read_mrc(folder / "est.mrc")
    traced = io.read_atoms_csv(folder / "atoms_traced.csv")
    truth = io.read_xyz(folder / "atoms_true.xyz")
    params = summary["parameters"]
    extra = {"source_path": str(folder), "comparison": summary["comparison"],
             "r_noise": summary["r_noise"], "est_final_error": summary["est_final_error"]}
    return [
        image_layer_data(volume, vs, "est", "est", params["est"], ["haadf (simulated)"],
                         kind="volume", colormap="gray",
                         metadata={**extra, "source_path": str(folder / "est.mrc")}),
        atoms_layer_data(traced, "atoms_traced", "trace", params["trace"], ["est"],
                         metadata={**extra, "source_path": str(folder / "atoms_traced.csv")}),
        atoms_layer_data(truth, "atoms_true", "simulate.silica", params["haadf"], visible=False,
                         metadata={"source_path": str(folder / "atoms_true.xyz")}),
    ]
