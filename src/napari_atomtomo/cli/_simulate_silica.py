"""``atomtomo simulate silica-structure`` and ``atomtomo simulate silica`` (paper 000)."""

from __future__ import annotations

from pathlib import Path

from ..core.simulate.haadf import HaadfParams
from ..io._paths import shipped_structure_path
from ._common import Outputs, add_force, add_quiet, progress_printer, write_json
from ._params import add_param_options, read_params


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "silica-structure",
        help="generate an amorphous SiO2 particle (334 Si + 668 O, 24.7 Å cube) as XYZ",
        description=(
            "Amorphous SiO2 by a BKS melt-and-quench molecular-dynamics run in the periodic "
            "24.7 Å cube (about a minute on 2 cores); written in the reconstruction frame of an "
            "N³ volume of PIXEL Å voxels (Z^1.8-weighted centre of mass at its centre)."
        ),
    )
    p.add_argument("out", metavar="OUT.xyz", help="output XYZ file")
    p.add_argument("--seed", type=int, default=0, help="seed of the MD run (default 0)")
    # the frame: the volume the simulated series will be reconstructed into
    add_param_options(p, HaadfParams, only=("pixel_size", "n_pixels"))
    add_quiet(p)
    add_force(p)
    p.set_defaults(func=run_structure)

    q = subparsers.add_parser(
        "silica",
        help="simulate a HAADF tilt series of the silica particle (paper 000)",
        description=(
            "Linear HAADF projections (Z^1.8, 0.8 Å probe, 0.5 Å pixels) at the 55 equally "
            "sloped angles of ±72.6°, with a 0-0.5° tilt drift, random image shifts and "
            "Poisson noise. Writes OUT_DIR/haadf.mrc, angles.tlt (nominal), atoms_true.xyz "
            "and truth.json."
        ),
    )
    q.add_argument("out_dir", metavar="OUT_DIR", help="output folder (created if missing)")
    q.add_argument("--structure", default=None, metavar="XYZ",
                   help="atom model (default: the shipped 1002-atom particle)")
    noise = q.add_mutually_exclusive_group()
    noise.add_argument("--dose", type=float, default=None, metavar="E_PER_A2",
                       help="total series dose in e/Å² (paper: 2.2e6, 1.43e6, 5.5e5, 3.0e5)")
    noise.add_argument("--r-noise", type=float, default=None, metavar="FRACTION",
                       help="target R_noise (Eq. 2), e.g. 0.25; the dose is solved for")
    noise.add_argument("--preset", type=int, choices=(10, 12, 20, 25), default=None,
                       help="R_noise preset in percent (the paper's four noise levels)")
    add_param_options(q, HaadfParams)
    add_force(q)
    q.set_defaults(func=run_series)


def run_structure(args) -> int:
    from .. import io
    from ..core.simulate.haadf import centre_atoms
    from ..core.simulate.silica_structure import generate_silica

    params = HaadfParams(pixel_size=args.pixel_size, n_pixels=args.n_pixels)
    outs = Outputs(args.force)
    out = outs.file(args.out, "OUT.xyz", suffix=".xyz")
    report = progress_printer("silica-structure: MD steps", quiet=args.quiet)
    atoms = centre_atoms(generate_silica(seed=args.seed, callback=lambda d, t: report(d, t)),
                         params.n_pixels, params.pixel_size)
    with outs.writing() as stage:
        io.write_xyz(stage(out), atoms, comment=_frame_comment(args.seed, params))
    return 0


def _frame_comment(seed, params) -> str:
    return (
        f"amorphous SiO2, napari-atomtomo generate_silica seed={seed}; frame: origin at voxel "
        f"(0,0,0) centre of a {params.n_pixels}^3 volume of {params.pixel_size} A voxels"
    )


def run_series(args) -> int:
    from .. import io
    from ..core.geometry import equally_sloped_angles
    from ..core.memory import check_memory
    from ..core.simulate.haadf import R_NOISE_PRESETS, simulate_haadf_series

    r_noise = args.r_noise if args.preset is None else R_NOISE_PRESETS[args.preset]
    params = read_params(HaadfParams, args, dose=args.dose, r_noise=r_noise)
    n_img = equally_sloped_angles(32, 72.6).size
    # float64 projections, their Poisson counts (int64), float32 clean and noisy stacks
    check_memory(24.0 * n_img * params.n_pixels**2,
                 f"simulating {n_img} images of {params.n_pixels}×{params.n_pixels} px",
                 "use fewer pixels (--n-pixels) or a larger --pixel-size")
    structure = shipped_structure_path() if args.structure is None else Path(args.structure)
    atoms = io.read_xyz(structure)
    outs = Outputs(args.force, (structure,))
    out_dir = outs.folder(args.out_dir, "OUT_DIR")
    names = ("haadf.mrc", "angles.tlt", "atoms_true.xyz", "truth.json")
    paths = {name: outs.file(out_dir / name, own=True) for name in names}
    sim = simulate_haadf_series(atoms, params)
    truth = sim.truth_dict()
    truth["structure"] = str(structure)
    truth["n_pixels"] = params.n_pixels
    with outs.writing() as stage:
        io.write_mrc(stage(paths["haadf.mrc"]), sim.stack_noisy, sim.pixel_size, kind="stack")
        io.write_tlt(stage(paths["angles.tlt"]), sim.angles_nominal)
        io.write_xyz(stage(paths["atoms_true.xyz"]), sim.atoms,
                     comment=f"truth of {out_dir.name}: reconstruction frame, "
                             f"{params.n_pixels}^3 voxels of {params.pixel_size} A")
        write_json(stage(paths["truth.json"]), truth)
    r = "noise-free" if sim.r_noise is None else f"R_noise {sim.r_noise:.3f}, dose {sim.dose:.4g} e/Å²"
    print(f"wrote {out_dir}: {sim.stack_noisy.shape[0]} images of "
          f"{sim.stack_noisy.shape[1]}×{sim.stack_noisy.shape[2]} px, {r}")
    return 0
