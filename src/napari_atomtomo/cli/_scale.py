"""``--chunks``, ``--scheduler`` and ``--workers`` (sirt, eds, hebt, est), and volume outputs
that may be MRC or OME-Zarr (``.zarr``), written whole or slab by slab."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from ..core.params import auto_or_float

__all__ = ["add_scale_options", "plan_from_args", "volume_writers", "check_volume_output",
           "write_volume", "print_plan", "run_scheduler"]


#: ``--chunks``: "auto" or a slab height in rows (0: in memory).
_chunks = auto_or_float("--chunks", "a number of rows >= 0 (0: in memory)", finite=True,
                        integer=True)


def add_scale_options(parser) -> None:
    g = parser.add_argument_group(
        "large volumes", "reconstruct y-slab by y-slab (rows are independent under one tilt "
                         "axis), on this machine or a dask.distributed cluster; see docs/scale.md")
    g.add_argument("--chunks", default="auto", metavar="N",
                   help="slab height in rows; 0 = in memory; auto (default): in memory when "
                        "the estimate fits the available memory, else slabs")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="dask.distributed scheduler (e.g. tcp://host:8786) to run the slabs on; "
                        "input files must be visible to the workers (default: threads here)")
    g.add_argument("--workers", type=int, default=None, metavar="N",
                   help="slabs at a time on this machine (default 1; numba already uses every "
                        "core inside a slab)")


def plan_from_args(command: str, args, stack_shape, n_vox=None, n_maps: int = 1,
                   estimate=None):
    """The :class:`~napari_atomtomo.scale.ChunkPlan` for these options (``--scheduler``
    alone implies chunks: a cluster gets slabs), said on stderr (:func:`print_plan`)."""
    from ..scale import plan_chunks

    chunks = _chunks(str(args.chunks))
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be ≥ 1, got {args.workers}")
    plan = plan_chunks(stack_shape, n_vox=n_vox, n_maps=n_maps, chunks=chunks,
                       workers=args.workers or 1, estimate=estimate)
    if args.scheduler and not plan.chunked:
        from dataclasses import replace

        slab = min(64, int(stack_shape[1]))
        plan = replace(plan, chunked=True, slab=slab, n_slabs=-(-int(stack_shape[1]) // slab),
                       reason="--scheduler given: slabs of 64 rows on the cluster")
    print_plan(command, plan)
    return plan


@contextlib.contextmanager
def run_scheduler(args):
    """``--scheduler`` for one whole run: ``None`` (threads), or a ``dask.distributed``
    ``Client`` connected once here and shared by every chunked call of the run (each
    element, each resample), closed at the end. A chunked call handed a ``Client`` does not
    close it; handed the address, it would connect (and tear down) once per call.
    """
    if not args.scheduler:
        yield None
        return
    from ..scale import open_scheduler

    sched = open_scheduler(args.scheduler, args.workers)
    try:
        yield sched.client
    finally:
        sched.close()


def print_plan(command: str, plan) -> None:
    """Say on stderr how the reconstruction runs, unless it is the plain default (in
    memory, chosen automatically), which the JSON reports still record."""
    if plan.chunked or not plan.reason.startswith("automatic"):
        print(f"atomtomo {command}: {plan.describe()}", file=sys.stderr)


def check_volume_output(outs, path, option: str = "--out") -> Path:
    """Register an ``.mrc`` file or a ``.zarr`` folder output (checked now)."""
    p = Path(path)
    outs._not_input(p, option)  # first: writing over an input is the error to report
    if p.suffix.lower() == ".zarr":
        if p.exists() and not outs.force:
            raise FileExistsError(f"{p} exists; pass --force to overwrite it")
        if p.exists() and not p.is_dir():
            raise ValueError(f"{option} {p} exists and is not a .zarr folder")
        if not p.absolute().parent.is_dir():
            raise FileNotFoundError(f"folder {p.parent} of {option} {p.name} does not exist")
        return p
    return outs.file(p, option, suffix=".mrc")


def zarr_levels(slab: int) -> int | None:
    """Pyramid levels whose halvings a slab height allows (None: as many as the shape)."""
    tz = (slab & -slab).bit_length() - 1  # trailing zero bits: slab is a multiple of 2**tz
    return 1 + tz


@contextlib.contextmanager
def volume_writers(paths: dict, shape, voxel_size, slab: int, force: bool, attrs=None):
    """``{name: writer}`` with ``write_slab``; all files move into place only if every one
    finished (else all are removed)."""
    from ..io.mrc import MrcSlabWriter
    from ..io.omezarr import OmeZarrWriter, pyramid_levels

    writers = {}
    try:
        for name, p in paths.items():
            if Path(p).suffix.lower() == ".zarr":
                levels = min(pyramid_levels(shape), zarr_levels(slab))
                writers[name] = OmeZarrWriter(p, shape, voxel_size, force=force,
                                              attrs=attrs, levels=levels)
            else:
                writers[name] = MrcSlabWriter(p, shape, voxel_size, force=True)
        yield writers
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    for w in writers.values():
        if hasattr(w, "set_attrs") and attrs:
            w.set_attrs(**attrs)
        w.close()


def write_volume(stage_or_none, path, volume, voxel_size, force: bool, attrs=None) -> None:
    """Write a whole in-memory volume to ``.mrc`` (through ``stage``) or ``.zarr``."""
    from .. import io
    from ..io.omezarr import write_ome_zarr

    p = Path(path)
    if p.suffix.lower() == ".zarr":
        write_ome_zarr(p, volume, voxel_size, force=force, attrs=attrs)
    else:
        io.write_mrc(stage_or_none(p), volume, voxel_size)
