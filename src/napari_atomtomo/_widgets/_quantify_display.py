"""How the Quantify dock shows weight fractions on the canvas: colour bars (ticked by
default; napari makes each bar's visual and redraws the canvas, 0.1-0.3 s of the GUI
thread per new ``wt_`` layer) and hiding the maps the ``wt_`` layers were computed from."""

from __future__ import annotations

__all__ = ["hide_maps_under_fractions", "set_fraction_bars", "show_fraction_bar"]


def show_fraction_bar(layer) -> None:
    """A colour bar (0-1 weight fraction, in the element's colour) on the canvas for a
    ``wt_`` layer, in the lower right corner (the atoms' legend takes the upper one)."""
    bar = layer.colorbar
    bar.position, bar.font_size, bar.visible = "bottom_right", 10, True


def set_fraction_bars(viewer, names, on: bool) -> None:
    """Show (``on``) or hide the colour bars of the ``wt_`` layers ``names`` still there."""
    for name in names:
        if name in viewer.layers:
            if on:
                show_fraction_bar(viewer.layers[name])
            else:
                viewer.layers[name].colorbar.visible = False


def hide_maps_under_fractions(viewer, names) -> list[str]:
    """Hide the element maps the ``wt_`` layers were computed from: added over them
    (additive blending) both would blend into a washed-out disc. Returns the names hidden."""
    hidden = [n for n in names if n in viewer.layers and viewer.layers[n].visible]
    for name in hidden:
        viewer.layers[name].visible = False
    return hidden
