"""The "Simulate tilt series" dock widget: paper 000's SiO2 particle or paper 002's Ag–Au phantom.

*SiO2* (paper 000): an atom model (the shipped 1002-atom particle, an XYZ file, or a new
one generated with a seed) is projected into a linear HAADF tilt series at the 55
equally sloped angles of ±72.6° with a tilt drift, random image shifts and Poisson
noise set by a dose (e/Å²) or an R_noise preset. Layers: ``haadf`` (tilt series with the
nominal angles; the truth in ``metadata["atomtomo"]["truth"]``) and ``atoms_true``.

*Ag–Au* (paper 002): the 2D core–shell phantom and its HAADF and EDS sinograms. Layers:
``haadf``, ``eds_Ag``, ``eds_Au`` (tilt series ``(angle, 1, x)``) and ``phantom_Ag``,
``phantom_Au`` (true weight fractions, volumes ``(z, 1, x)``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, FileEdit, FloatSpinBox, SpinBox
from qtpy.QtWidgets import QLabel

from .. import io
from .._layers import with_contrast_limits
from .._sample_data import agau_dataset_layers, silica_series_layers
from ..core.params import command_options
from ..core.simulate.agau import AgAuParams
from ..core.simulate.haadf import PAPER_DOSES_E_PER_A2, R_NOISE_PRESETS, HaadfParams, centre_atoms
from ..io._paths import SHIPPED_STRUCTURE, shipped_structure_path
from ..jobs.simulate_align import (
    GENERATE,
    SHIPPED,
    XYZ_FILE,
    iter_simulate_agau,
    iter_simulate_silica,
)
from ._base import JobDockWidget, format_command, is_empty_path
from ._params import param_widget, params_from_widgets
from ._runner import QUICK_JOB_ACTIVITY_AFTER_S

__all__ = ["SimulateWidget"]


def _sci(value: float) -> str:
    """``2.2e6`` rather than ``2.2e+06``."""
    exponent = int(math.floor(math.log10(value)))
    return f"{value / 10**exponent:.3g}e{exponent}"


SILICA, AGAU = "silica", "agau"
DOSE, R_NOISE, NOISE_FREE = "dose", "r_noise", "none"
#: Noise choices: label -> (kind, value); kind "preset" is an R_noise preset in percent.
NOISE_CHOICES = (
    [(f"R_noise {p} % (preset)", ("preset", p)) for p in R_NOISE_PRESETS]
    + [(f"dose {_sci(d)} e/Å² (paper 000's for R_noise {r * 100:.0f} %)", (DOSE, d))
       for r, d in PAPER_DOSES_E_PER_A2.items()]
    + [("dose: my value (e/Å²)", (DOSE, None)), ("R_noise: my value", (R_NOISE, None)),
       ("noise-free", (NOISE_FREE, None))]
)
#: The HaadfParams fields the widget shows (``vacuum_counts`` is command-line only).
HAADF_INPUTS = ("pixel_size", "n_pixels", "probe_fwhm", "tilt_drift_deg", "shift_sigma_px",
                "seed")


class SimulateWidget(JobDockWidget):
    """Simulate a HAADF tilt series of SiO2 (paper 000) or the Ag–Au data set (paper 002)."""

    run_text = "Simulate"

    def __init__(self, napari_viewer, parent=None):
        super().__init__(napari_viewer, parent)
        w = self._add

        def spec_input(cls, name):
            widget = param_widget(cls, name)
            return w(widget, widget.tooltip)

        self.kind = w(ComboBox(label="object", value=SILICA, choices=[
            ("SiO2 particle, HAADF (paper 000)", SILICA),
            ("Ag–Au core–shell, HAADF + EDS (paper 002)", AGAU)]),
            "SiO2: an amorphous silica particle of 1002 atoms imaged at atomic resolution; "
            "Ag–Au: a 2D core–shell nanoparticle slice with EDS maps for quantification")
        self.structure = w(ComboBox(label="structure", value=SHIPPED, choices=[
            (f"shipped particle ({SHIPPED_STRUCTURE})", SHIPPED), ("XYZ file", XYZ_FILE),
            ("generate new (seed)", GENERATE)]),
            "the atom model: the shipped 334 Si + 668 O particle (24.7 Å cube, 2.2 g/cm³), "
            "your own XYZ file, or a new amorphous SiO2 made by a melt-and-quench MD run "
            "from a seed (≈ 1 min)")
        self.xyz = w(FileEdit(label="XYZ file", mode="r", filter="*.xyz"),
                     "atom model: count line, comment line, then 'Element x y z' in Å")
        self.structure_seed = w(SpinBox(label="structure seed", value=0, min=0, max=2**31 - 1),
                                "seed of the new network; the same seed gives the same atoms")
        self.noise = w(ComboBox(label="noise", value=("preset", 10), choices=NOISE_CHOICES),
                       "shot noise: an R_noise preset (the paper's 10/12/20/25 %: the dose is "
                       "solved for), one of the paper's doses (our model gives about 1.5× the "
                       "paper's R_noise at them; see docs/silica-simulation.md), your own, "
                       "or none")
        self.dose = w(FloatSpinBox(label="dose (e/Å²)", value=1e6, min=1.0, max=1e12, step=1e5),
                      "total electron dose of the whole series, split equally over the images")
        self.r_noise = w(FloatSpinBox(label="R_noise (fraction)", value=0.15, min=0.001, max=2.0,
                                      step=0.01),
                         "mean |noisy - clean| / clean signal of each image (paper 000, Eq. 2)")
        # the HaadfParams / AgAuParams inputs, from their specs (labels, ranges, defaults)
        self.haadf_inputs = {name: spec_input(HaadfParams, name) for name in HAADF_INPUTS}
        self.pixel_size, self.n_pixels, self.probe, self.drift, self.shifts, self.seed = (
            self.haadf_inputs.values())
        self.seed.tooltip += " (Ag–Au: of the noise)"
        self.eds_filter = w(CheckBox(label="smooth EDS (σ 0.8 px)", value=True),
                            "Gaussian filter of σ 0.8 px on the EDS sinograms, as in paper 002")
        self.solid_angle = spec_input(AgAuParams, "solid_angle_sr")
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.layout().insertWidget(self.layout().count() - 1, self.summary)
        for widget in (self.kind, self.structure, self.noise):
            widget.changed.connect(self._on_choice_changed)
        self.runner.finished.connect(self._on_finished)
        self._on_choice_changed()

    def _on_choice_changed(self, *_):
        silica = self.kind.value == SILICA
        for widget in (self.structure, self.noise, self.pixel_size, self.n_pixels, self.probe,
                       self.drift, self.shifts):
            widget.visible = silica
        self.xyz.visible = silica and self.structure.value == XYZ_FILE
        self.structure_seed.visible = silica and self.structure.value == GENERATE
        kind, value = self.noise.value
        self.dose.visible = silica and kind == DOSE and value is None
        self.r_noise.visible = silica and kind == R_NOISE
        self.eds_filter.visible = self.solid_angle.visible = not silica
        self.revalidate()

    def _on_finished(self, *_):
        if "haadf" in self.viewer.layers:  # show the series' controls, not the hidden truth's
            self.viewer.layers.selection.active = self.viewer.layers["haadf"]

    # ------------------------------------------------------------------ parameters
    def haadf_params(self) -> HaadfParams:
        kind, value = self.noise.value
        dose = (self.dose.value if value is None else value) if kind == DOSE else None
        r_noise = {R_NOISE: self.r_noise.value, "preset": R_NOISE_PRESETS.get(value)}.get(kind)
        return params_from_widgets(HaadfParams, self.haadf_inputs, dose=dose, r_noise=r_noise)

    def agau_params(self) -> AgAuParams:
        return params_from_widgets(AgAuParams, {"solid_angle_sr": self.solid_angle},
                                   gaussian_sigma=0.8 if self.eds_filter.value else 0.0)

    def validate(self) -> str | None:
        if self.kind.value == AGAU:
            self.agau_params()
            return None
        params = self.haadf_params()
        path = shipped_structure_path() if self.structure.value == SHIPPED else None
        if self.structure.value == XYZ_FILE:
            path = self.xyz.value
            if is_empty_path(path):
                return "choose the XYZ file of the atom model"
            if not Path(path).is_file():
                return f"XYZ file {path} does not exist"
        return None if path is None else particle_fit_problem(_read_atoms(str(path)), params)

    def command_line(self) -> str:
        if self.kind.value == AGAU:
            params = self.agau_params()
            return format_command(("simulate", "agau"), ["agau_dataset"], extra={
                "--seed": self.seed.value, "--no-filter": params.gaussian_sigma == 0,
                **command_options(params)})
        params = self.haadf_params()
        kind, value = self.noise.value
        extra, first = {"--preset": value if kind == "preset" else None}, ""
        if self.structure.value == XYZ_FILE:
            extra["--structure"] = str(self.xyz.value)
        elif self.structure.value == GENERATE:
            xyz = f"silica_seed{self.structure_seed.value}.xyz"
            extra["--structure"] = xyz
            first = format_command(("simulate", "silica-structure"), [xyz], extra={
                "--seed": self.structure_seed.value, "--n-pixels": params.n_pixels,
                "--pixel-size": params.pixel_size}) + " && "
        extra |= {"--dose": params.dose, "--r-noise": None if kind == "preset" else params.r_noise}
        options = command_options(params)
        del options["--vacuum-counts"]  # not an input here: always the default 0
        return first + format_command(("simulate", "silica"), ["silica_series"],
                                      extra={**options, **extra})

    def _structure_label(self) -> str:
        if self.structure.value == XYZ_FILE:
            return str(self.xyz.value)
        if self.structure.value == GENERATE:
            return f"generate_silica(seed={self.structure_seed.value})"
        return SHIPPED_STRUCTURE

    # ------------------------------------------------------------------ job
    def start_job(self) -> None:
        command = self.command_line()
        self.summary.setText("")
        if self.kind.value == AGAU:
            params, seed = self.agau_params(), self.seed.value
            parameters = {"seed": seed, **dataclasses.asdict(params)}

            def on_agau(result):
                ds, layers = result
                r = ds.truth["response_ratios_expected"]
                self.summary.setText(
                    f"{ds.haadf.shape[0]} tilts × {ds.haadf.shape[2]} beam positions of "
                    f"{ds.voxel_size:g} Å; expected response ratios r_Ag {r['Ag']:.3g}, "
                    f"r_Au {r['Au']:.3g}")
                return layers

            job = _with_layers(iter_simulate_agau, lambda ds: agau_dataset_layers(
                ds, parameters, command=command))
            self.runner.run(job, seed, params, label="simulate Ag–Au", total=1,
                            describe=lambda s: s.message, on_result=on_agau,
                            activity_after_s=QUICK_JOB_ACTIVITY_AFTER_S)
            return
        params, structure = self.haadf_params(), self.structure.value
        parameters = {"structure": self._structure_label(), **dataclasses.asdict(params)}

        def on_silica(result):
            sim, layers = result
            noise = ("noise-free" if sim.r_noise is None
                     else f"R_noise {sim.r_noise:.1%} at {sim.dose:.3g} e/Å²")
            self.summary.setText(
                f"{sim.stack_noisy.shape[0]} images of {sim.stack_noisy.shape[1]} × "
                f"{sim.stack_noisy.shape[2]} px, {len(sim.atoms)} atoms, {noise}")
            return layers

        job = _with_layers(iter_simulate_silica, lambda sim: silica_series_layers(
            sim, parameters, command=command))
        self.runner.run(job, structure, params, self.xyz.value,
                        self.structure_seed.value, label="simulate SiO2", total=2,
                        describe=lambda s: s.message, on_result=on_silica,
                        activity_after_s=QUICK_JOB_ACTIVITY_AFTER_S)


def _with_layers(job, make_layers):
    """``job`` (a generator function) whose result comes back as ``(result, layers)``,
    ``layers`` made by ``make_layers(result)`` with their contrast limits, in the worker:
    the atoms' Points tuple imports pandas (0.2-0.6 s the first time in a session) and
    napari would scan each image for its limits, both in the GUI thread otherwise."""

    def run(*args):
        result = yield from job(*args)
        return result, with_contrast_limits(make_layers(result))

    return run


@functools.lru_cache(maxsize=4)
def _read_atoms(path: str):
    return io.read_xyz(path)


def particle_fit_problem(atoms, params: HaadfParams) -> str | None:
    """Why the particle does not fit the field, checked before Run as the simulator
    checks it (atoms centred by mass, probe tails of 4 σ, image shifts of 3 σ), or
    ``None``."""
    centred = centre_atoms(atoms, params.n_pixels, params.pixel_size, params.z_exponent)
    half = (params.n_pixels - 1) / 2.0 * params.pixel_size
    rel = centred.positions - half
    radius = float(np.sqrt(rel[:, 0] ** 2 + rel[:, 2] ** 2).max())
    reach = (max(radius, float(np.abs(rel[:, 1]).max())) + 4 * params.probe_fwhm / 2.355
             + 3 * params.shift_sigma_px * params.pixel_size)
    if reach <= half:
        return None
    need = math.ceil(2 * reach / params.pixel_size) + 2
    return (f"the particle (radius {radius:.1f} Å, with probe tails and shifts {reach:.1f} Å) "
            f"does not fit the {params.n_pixels} × {params.pixel_size:g} Å field (half-width "
            f"{half:.1f} Å); use at least {need} pixels")

