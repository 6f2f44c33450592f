"""A job's live layers: its output layers, made on the click and filled in place.

Making or removing a napari layer costs the GUI thread 0.1-0.2 s (napari builds or tears
down its vispy node and Qt controls; removal runs ``gc.collect()``), far over the 50 ms
an event loop may stall. So a job's outputs are made once, on the click (or an image
layer of the same name and dimensionality is adopted from an earlier job), and from
then on the runner copies every frame, and finally the result, into arrays that only it
holds (:func:`~._base.add_or_replace_layers` with ``buffers``). These functions keep the
bookkeeping in the job's :class:`~._jobs.JobInfo`; the runner decides when they run.
"""

from __future__ import annotations

from napari.layers import Image

from ..jobs._job_info import JobInfo
from ._layer_updates import _as_tuples, add_or_replace_layers

__all__ = ["layers_to_create", "create_live_layer", "show", "close"]


def layers_to_create(viewer, info: JobInfo, items: list) -> list:
    """Register the live layer data tuples ``items``; return those with no layer to adopt."""
    to_create = []
    for item in items:
        name = item[1]["name"]
        info.live_names.add(name)
        old = viewer.layers[name] if name in viewer.layers else None
        if not (isinstance(old, Image) and old.ndim == len(item[0].shape)):
            to_create.append(item)
    return to_create


def create_live_layer(viewer, info: JobInfo, item) -> None:
    """Make one live layer from ``item`` (its array becomes the runner's buffer)."""
    name = item[1]["name"]
    if name in info.written_names:  # a frame has made it already
        return
    add_or_replace_layers(viewer, [item])
    info.buffers.add(name)  # the caller's fresh array: the runner's from now on
    info.created_names.add(name)


def show(viewer, info: JobInfo, layer_data, *, final: bool) -> list:
    """Frames (``final=False``: data only) or the result into the layers, by name.

    A frame whose array is the one its layer got last is skipped: a job's states repeat
    the newest volume until the next one (the GUI looks at whichever state is newest),
    and copying it again would only cost a repaint. Returns the layers written to.
    """
    items = _as_tuples(layer_data)
    if not final:
        items = [it for it in items if info.last_frames.get(it[1].get("name")) is not it[0]]
        info.last_frames.update((it[1].get("name"), it[0]) for it in items)
    if not items:
        return []
    made = add_or_replace_layers(viewer, items, buffers=info.buffers,
                                 adopt=info.live_names, attributes=final)
    names = {layer.name for layer in made}
    info.written_names |= names & info.live_names
    info.preview_names |= names - info.live_names
    return made


def close(viewer, info: JobInfo, why: str) -> None:
    """After a failed or cancelled job: remove live layers that never got a frame, and
    mark the others ``metadata["atomtomo"]["partial"] = why``."""
    layers = viewer.layers
    for name in info.created_names - info.written_names:
        if name in layers:
            layers.remove(name)
    for name in info.written_names:
        if name in layers:
            layers[name].metadata.setdefault("atomtomo", {})["partial"] = why
