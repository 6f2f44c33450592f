"""One spec per parameter: CLI defaults == widget defaults == dataclass defaults for every
algorithm the command line and a widget share, and the specs drive both."""

from __future__ import annotations

import dataclasses

import pytest

from napari_atomtomo._widgets.est import EST, GRIDDING, EstWidget
from napari_atomtomo._widgets.sirt_hebt import EDS, HEBT, SIRT, SirtHebtWidget
from napari_atomtomo.cli import build_parser
from napari_atomtomo.cli._params import read_params
from napari_atomtomo.core.params import ALGORITHM_PARAMS, command_options, param_specs

#: The command line of each algorithm with only its required arguments.
MINIMAL_ARGV = {
    "est": ["est", "s.mrc", "--out", "v.mrc"],
    "gridding": ["est", "s.mrc", "--out", "v.mrc", "--method", "gridding"],
    "sirt": ["sirt", "s.mrc", "--out", "v.mrc"],
    "hebt": ["hebt", "data", "--out", "maps"],
    "preprocess": ["preprocess", "s.mrc", "--out", "p.mrc"],
    "align": ["align", "s.mrc", "--out", "a.mrc"],
    "trace_atoms": ["trace", "v.mrc", "--out", "a.xyz"],
    "quantify": ["quantify", "maps", "--kind", "eds", "--out", "q"],
    "eds": ["eds", "data", "--out", "maps"],
    "simulate.silica": ["simulate", "silica", "out"],
    "simulate.agau": ["simulate", "agau", "out"],
}

#: Fields without a default (required options), as the minimal command line gives them.
REQUIRED = {"quantify": {"kind": "eds"}}


def _spec_values(params) -> dict:
    return {name: getattr(params, name) for name in param_specs(type(params))}


def test_every_shared_algorithm_is_covered():
    import napari_atomtomo.core.align  # noqa: F401
    import napari_atomtomo.core.est  # noqa: F401  (registers est and gridding)
    import napari_atomtomo.core.preprocess  # noqa: F401
    import napari_atomtomo.core.quantify  # noqa: F401
    import napari_atomtomo.core.simulate.agau  # noqa: F401
    import napari_atomtomo.core.simulate.haadf  # noqa: F401
    import napari_atomtomo.core.stopping  # noqa: F401  (registers eds)
    import napari_atomtomo.core.trace  # noqa: F401

    assert set(ALGORITHM_PARAMS) == set(MINIMAL_ARGV)
    for cls in ALGORITHM_PARAMS.values():
        specs = param_specs(cls)
        assert specs, cls
        flags = [spec.flag for spec, _ in specs.values()]
        assert len(set(flags)) == len(flags)  # one flag per field


#: Fields the command line leaves to a rule by default (``None`` until it runs): the
#: iteration count of EDS and HEBT comes from a stopping rule (docs/quantification.md), as
#: in the widget by default; the dataclass's count is the widget's "fixed n".
DECIDED_WHEN_RUN = {"hebt": {"n_iter"}, "eds": {"n_iter"}}


@pytest.mark.parametrize("algorithm", sorted(MINIMAL_ARGV))
def test_cli_defaults_are_the_dataclass_defaults(algorithm):
    cls = ALGORITHM_PARAMS[algorithm]
    args = build_parser().parse_args(MINIMAL_ARGV[algorithm])
    ruled = DECIDED_WHEN_RUN.get(algorithm, set())
    for name in ruled:
        assert getattr(args, param_specs(cls)[name][0].flag[2:].replace("-", "_")) is None
    given = REQUIRED.get(algorithm, {})
    assert read_params(cls, args, **{n: getattr(cls(**given), n) for n in ruled}) == cls(**given)


def _widget(viewer, name):
    return viewer.window.add_plugin_dock_widget("napari-atomtomo", name)[1]


def test_widget_defaults_are_the_dataclass_defaults(make_napari_viewer):
    viewer = make_napari_viewer()
    est = _widget(viewer, "EST reconstruction")
    assert isinstance(est, EstWidget) and est.method.value == EST
    defaults = _spec_values(ALGORITHM_PARAMS["est"]())
    assert {k: w.value for k, w in est.param_inputs.items()} == defaults
    est.method.value = GRIDDING
    assert _spec_values(est._params()) == _spec_values(ALGORITHM_PARAMS["gridding"]())

    sh = _widget(viewer, "SIRT / HEBT")
    assert isinstance(sh, SirtHebtWidget) and sh.mode.value == HEBT
    hebt = ALGORITHM_PARAMS["hebt"]()
    assert (sh.alpha.value, sh.n_iter.value, sh.relaxation.value) == (
        hebt.alpha, hebt.n_iter, hebt.relaxation)
    sh.mode.value = EDS
    eds = ALGORITHM_PARAMS["eds"]()
    assert (sh.n_iter.value, sh.relaxation.value) == (eds.n_iter, eds.relaxation)
    sh.mode.value = SIRT
    sirt = ALGORITHM_PARAMS["sirt"]()
    assert (sh.n_iter.value, sh.relaxation.value, sh.nonnegative.value) == (
        sirt.n_iter, sirt.relaxation, sirt.nonnegative)

    pre = _widget(viewer, "Preprocess tilt series")
    assert pre.params() == ALGORITHM_PARAMS["preprocess"]()
    align = _widget(viewer, "Align tilt series")
    assert align._params() == ALGORITHM_PARAMS["align"]()
    trace = _widget(viewer, "Trace atoms")
    assert trace.params() == ALGORITHM_PARAMS["trace_atoms"]()
    quantify = _widget(viewer, "Quantify (ESF threshold)")
    cls = ALGORITHM_PARAMS["quantify"]
    assert cls(quantify.kind.value, smooth_voxels=quantify._smooth_value(),
               region_margin=quantify._margin_value()) == cls("eds")
    simulate = _widget(viewer, "Simulate tilt series")
    assert _spec_values(simulate.haadf_params()) == _spec_values(ALGORITHM_PARAMS["simulate.silica"]())
    assert simulate.agau_params() == ALGORITHM_PARAMS["simulate.agau"]()


@pytest.mark.slow
def test_preprocess_command_parses_back(make_napari_viewer):
    import numpy as np

    from napari_atomtomo._layers import image_layer_data
    from napari_atomtomo._widgets._base import add_or_replace_layers

    viewer = make_napari_viewer()
    pre = _widget(viewer, "Preprocess tilt series")
    add_or_replace_layers(viewer, image_layer_data(
        np.ones((3, 40, 40), np.float32), 1.0, "raw", "sample", {}, kind="tilt_series",
        angles_deg=[-10.0, 0.0, 10.0]))
    pre.series.value = viewer.layers["raw"]
    pre.border_px.value, pre.hot_pixels.value, pre.hot_sigma.value = 5, True, 6.5
    pre.normalize.value, pre.denoise.value = True, "nlmeans"
    args = build_parser().parse_args(pre.command_line().split()[1:])
    assert read_params(ALGORITHM_PARAMS["preprocess"], args) == pre.params()
    pre.border_px.value = 0  # automatic: no --border-px
    assert "--border-px" not in pre.command_line()
    assert read_params(ALGORITHM_PARAMS["preprocess"],
                       build_parser().parse_args(pre.command_line().split()[1:])).border_px is None


def test_widget_inputs_follow_the_specs(make_napari_viewer):
    viewer = make_napari_viewer()
    est = _widget(viewer, "EST reconstruction")
    for name, widget in est.param_inputs.items():
        spec, _ = param_specs(ALGORITHM_PARAMS["est"])[name]
        assert widget.label.startswith(spec.label)
        assert (widget.min, widget.max) == spec.range
        assert widget.tooltip.startswith(spec.help)


@pytest.mark.slow
def test_copied_command_parses_back_to_the_same_parameters(make_napari_viewer, tmp_path):
    """Non-default values set in the SIRT / HEBT widget come back from its command line."""
    import numpy as np

    from napari_atomtomo._layers import image_layer_data
    from napari_atomtomo._widgets._base import add_or_replace_layers

    viewer = make_napari_viewer()
    sh = _widget(viewer, "SIRT / HEBT")
    angles = np.linspace(-60, 60, 5)
    layers = [image_layer_data(np.ones((5, 1, 8), np.float32), 1.0, name, "sample", {},
                               kind="tilt_series", angles_deg=angles, element=el)
              for name, el in (("haadf", None), ("eds_Ag", "Ag"), ("eds_Au", "Au"))]
    add_or_replace_layers(viewer, layers)
    sh.haadf.value = viewer.layers["haadf"]
    sh.eds.value = [viewer.layers["eds_Ag"], viewer.layers["eds_Au"]]
    sh.alpha.value, sh.n_iter.value, sh.relaxation.value = 0.55, 37, 1.25
    for mode, cls in ((HEBT, ALGORITHM_PARAMS["hebt"]), (SIRT, ALGORITHM_PARAMS["sirt"])):
        sh.mode.value = mode
        sh.n_iter.value, sh.nonnegative.value = 37, False
        params = sh.gather()["params"]
        args = build_parser().parse_args(sh.command_line().split()[1:])
        back = read_params(cls, args)
        assert _spec_values(back) == _spec_values(params)
        assert dataclasses.replace(back, yield_every=params.yield_every) == params
        assert command_options(back) == command_options(params)
    sh.mode.value = EDS  # atomtomo eds: --iterations and --relaxation of EdsParams
    sh.n_iter.value, sh.relaxation.value = 23, 0.85
    params = sh.gather()["params"]
    back = read_params(ALGORITHM_PARAMS["eds"], build_parser().parse_args(
        sh.command_line().split()[1:]))
    assert (back.n_iter, back.relaxation, back.nonnegative) == (23, 0.85, True)
    assert command_options(back) == command_options(params)


@pytest.mark.slow
def test_stop_rule_defaults_agree(make_napari_viewer):
    """EDS-STEM and HEBT stop by the same rule in the widget (default), on the command line
    without --iterations and in core/stopping.py; the widget's command parses back to it."""
    import numpy as np

    from napari_atomtomo._layers import image_layer_data
    from napari_atomtomo._widgets._base import add_or_replace_layers
    from napari_atomtomo._widgets.sirt_hebt import RULE
    from napari_atomtomo.cli._eds import stop_params
    from napari_atomtomo.core.stopping import HEBT_STOP, StopParams

    eds_args = build_parser().parse_args(MINIMAL_ARGV["eds"])
    assert stop_params(eds_args) == StopParams()  # --stop-rule update, --max-iterations 300
    assert (StopParams().rule, StopParams().tol, StopParams().max_iterations) == (
        "update", 1e-4, 300)
    assert (HEBT_STOP.rule, HEBT_STOP.tol, HEBT_STOP.max_iterations) == ("update", 3e-5, 1500)
    viewer = make_napari_viewer()
    sh = _widget(viewer, "SIRT / HEBT")
    angles = np.linspace(-60, 60, 5)
    add_or_replace_layers(viewer, [image_layer_data(
        np.ones((5, 1, 8), np.float32), 1.0, name, "sample", {}, kind="tilt_series",
        angles_deg=angles, element=el) for name, el in (("haadf", None), ("eds_Ag", "Ag"))])
    for mode, rule in ((HEBT, HEBT_STOP), (EDS, StopParams())):
        sh.mode.value = mode
        assert sh.stop.value == RULE and sh.gather(arrays=False)["stop"] == rule
        args = build_parser().parse_args(sh.command_line().split()[1:])
        assert args.iterations is None  # the CLI decides by its rule
        if mode == EDS:
            assert stop_params(args) == rule
    sh.mode.value = SIRT
    assert sh.gather(arrays=False)["stop"] is None


def test_trace_command_parses_back(make_napari_viewer):
    """Non-default values typed in the Trace atoms widget come back from its command line."""
    import shlex

    import numpy as np

    from napari_atomtomo._layers import image_layer_data
    from napari_atomtomo._widgets._base import add_or_replace_layers

    viewer = make_napari_viewer()
    trace = _widget(viewer, "Trace atoms")
    add_or_replace_layers(viewer, image_layer_data(
        np.ones((8, 8, 8), np.float32), 0.5, "vol", "sample", {}, kind="volume"))
    trace.volume.value = viewer.layers["vol"]
    cls = ALGORITHM_PARAMS["trace_atoms"]
    for name, (spec, _) in param_specs(cls).items():  # labels and choices from the specs
        widget = {"min_distance_A": trace.min_distance, "split": trace.split}.get(
            name, getattr(trace, name, None))
        assert widget is not None and widget.label.startswith(spec.label), name
    trace.elements.value, trace.min_distance.value = "Au,Ag", "2.5"
    trace.noise_floor.value, trace.split.value = "0.125", "3.5"
    trace.refine.value, trace.connectivity.value = "quadratic", 26
    trace.classify.value = "none"
    params = trace.params()
    assert params != cls()
    args = build_parser().parse_args(shlex.split(trace.command_line())[1:])
    assert read_params(cls, args) == params
    assert command_options(read_params(cls, args)) == command_options(params)


@pytest.mark.slow
def test_quantify_command_parses_back(make_napari_viewer):
    """Kind and smoothing set in the Quantify widget come back from its command line."""
    import shlex

    import numpy as np

    from napari_atomtomo._layers import image_layer_data
    from napari_atomtomo._widgets._base import add_or_replace_layers

    viewer = make_napari_viewer()
    add_or_replace_layers(viewer, [image_layer_data(
        np.ones((6, 6, 6), np.float32), 1.0, f"map_{el}", "eds", {}, [f"eds_{el}"], element=el)
        for el in ("Ag", "Au")])
    quantify = _widget(viewer, "Quantify (ESF threshold)")
    quantify.maps.value = [viewer.layers["map_Ag"], viewer.layers["map_Au"]]
    cls = ALGORITHM_PARAMS["quantify"]
    for name, (spec, _) in param_specs(cls).items():
        widget = {"kind": quantify.kind, "smooth_voxels": quantify.smooth,
                  "region_margin": quantify.margin}.get(name)
        assert widget is None or widget.label == spec.label, name
    quantify.kind.value, quantify.smooth.value = "hebt", "0.75"
    params = cls("hebt", smooth_voxels=0.75)
    assert "--region-margin" not in quantify.command_line()  # only with --regions
    add_or_replace_layers(viewer, [(np.ones((6, 6, 6), np.int32), {"name": "painted"}, "labels")])
    quantify.regions.value = viewer.layers["painted"]
    quantify.margin.value = "3"
    params = cls("hebt", smooth_voxels=0.75, region_margin=3.0)
    args = build_parser().parse_args(shlex.split(quantify.command_line())[1:])
    assert read_params(cls, args) == params
    assert command_options(read_params(cls, args)) == command_options(params)


def test_simulate_commands_parse_back(make_napari_viewer):
    """Non-default values set in the Simulate widget come back from its command lines, and
    its inputs carry the specs' labels and ranges."""
    import shlex

    from napari_atomtomo._widgets.simulate import AGAU

    viewer = make_napari_viewer()
    sim = _widget(viewer, "Simulate tilt series")
    cls = ALGORITHM_PARAMS["simulate.silica"]
    for name, widget in sim.haadf_inputs.items():
        spec, _ = param_specs(cls)[name]
        assert widget.label.startswith(spec.label) and (widget.min, widget.max) == spec.range
    sim.pixel_size.value, sim.n_pixels.value, sim.probe.value = 0.45, 120, 0.9
    sim.drift.value, sim.shifts.value, sim.seed.value = -0.3, 1.5, 7
    sim.noise.value = ("r_noise", None)
    sim.r_noise.value = 0.3
    params = sim.haadf_params()
    assert params != cls(r_noise=0.3)
    args = build_parser().parse_args(shlex.split(sim.command_line())[1:])
    assert read_params(cls, args, dose=args.dose, r_noise=args.r_noise) == params
    sim.kind.value = AGAU
    sim.solid_angle.value = 1.25
    args = build_parser().parse_args(shlex.split(sim.command_line())[1:])
    agau = read_params(ALGORITHM_PARAMS["simulate.agau"], args)
    assert agau.solid_angle_sr == sim.agau_params().solid_angle_sr == 1.25
