"""``atomtomo project``: forward-project a volume into a tilt series."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.memory import check_memory
from ..core.plausibility import check_angles
from ..core.projectors import forward_project
from ._common import Outputs, add_force, output_path, warn


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "project",
        help="forward-project a volume (z, y, x) into a tilt series (angle, y, x)",
        description=(
            "Parallel-beam projection about the y axis (CONVENTIONS.md). Writes STACK.mrc "
            "with the volume's voxel size, and STACK.tlt with the angles next to it."
        ),
    )
    p.add_argument("volume", metavar="VOLUME.mrc", help="volume (z, y, x), MRC")
    p.add_argument("--angles", required=True, metavar="ANGLES.tlt", help="tilt angles, degrees")
    p.add_argument("--out", required=True, metavar="STACK.mrc", help="output tilt series")
    p.add_argument("--n-u", type=int, default=None, metavar="N",
                   help="detector columns (default: the volume's x size)")
    p.add_argument("--shifts", default=None, metavar="SHIFTS.json",
                   help='per-image (dy, dx) shifts in pixels: {"shifts_px": [[dy, dx], ...]}')
    add_force(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import io

    out = output_path(args.out, ".mrc")
    tlt_out = out.with_suffix(".tlt")
    inputs = (args.volume, args.angles, args.shifts)
    if args.n_u is not None and args.n_u < 1:
        raise ValueError(f"--n-u must be a positive number of detector columns, got {args.n_u}")
    header = io.read_mrc_header(args.volume)
    if header.is_image_stack:
        raise ValueError(
            f"{args.volume} is an image stack (a tilt series), not a volume; project a "
            "reconstruction (z, y, x)"
        )
    angles = io.read_tlt(args.angles)
    warn("project", check_angles(angles, expect_range=False))
    n_z, n_y, n_x = header.shape
    n_u = args.n_u if args.n_u is not None else n_x
    # the float32 stack, its internal (transposed) copy and two copies of the volume
    check_memory(8.0 * angles.size * n_y * n_u + 8.0 * n_z * n_y * n_x,
                 f"projecting to {angles.size} images of {n_y}×{n_u} px",
                 "use fewer detector columns (--n-u) or a binned volume")
    shifts = None if args.shifts is None else io.read_shifts(args.shifts, n_images=angles.size)
    # Check every output before the heavy work.
    outs = Outputs(args.force, inputs)
    outs.file(out, "--out")
    write_tlt = True
    same_as_input = Path(args.angles).exists() and tlt_out.resolve() == Path(args.angles).resolve()
    if tlt_out.exists() and not same_as_input:
        same = False
        try:
            old = io.read_tlt(tlt_out)
            same = old.shape == angles.shape and np.allclose(old, angles, atol=1e-4)
        except ValueError:
            pass
        if same:
            write_tlt = False
        elif not args.force:
            raise FileExistsError(
                f"{tlt_out} exists with other angles; pass --force to overwrite it"
            )
        else:
            outs.file(tlt_out, "angle file")
    elif not tlt_out.exists():
        outs.file(tlt_out, "angle file")
    elif tlt_out.exists():
        write_tlt = False  # the angle file given is already the output's sibling
    volume, voxel_size = io.read_mrc(args.volume)
    stack = forward_project(volume, angles, n_u=args.n_u, shifts=shifts)
    with outs.writing() as stage:
        io.write_mrc(stage(out), stack, voxel_size, kind="stack",
                     label=f"projection of {Path(args.volume).name}"[:80])
        if write_tlt:
            io.write_tlt(stage(tlt_out), angles)
    print(f"wrote {out} {stack.shape} (angle, y, x), voxel size {voxel_size:g} Å"
          + (f", and {tlt_out}" if write_tlt else ""))
    return 0
