"""Figures of results, drawn once for report files and for the docks (matplotlib, no Qt).

``core`` returns data and draws nothing; every figure lives here and takes a
:class:`Theme`: :data:`PAPER` (white, for the PNG files of the command line and the
pipelines) or :data:`DOCK` (napari's dark theme, for the plots in the widgets). A function
draws on ``ax`` when given, else on a new ``matplotlib.figure.Figure`` (no pyplot, no GUI
backend), and returns the figure.

* :func:`plot_peak_intensities`: sorted peak intensities of a tracing (paper 000, Fig. 3);
* :func:`plot_deviations`: deviation of every traced atom from its match (Fig. 5);
* :func:`plot_esf`: the particle volume V(t), its ESF fit and the threshold (paper 002).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._colors import element_color

__all__ = ["Theme", "PAPER", "DOCK", "style_axes", "element_legend", "plot_peak_intensities",
           "plot_deviations", "plot_esf"]


@dataclass(frozen=True)
class Theme:
    """Colours and sizes of one kind of figure."""

    face: str
    foreground: str
    line: str
    mark: str
    guide: str
    font_size: float
    figsize: tuple[float, float] = (6.0, 3.2)


#: Report figures (files): white, black text.
PAPER = Theme(face="white", foreground="black", line="#0060c0", mark="#d04020", guide="0.4",
              font_size=10)
#: Dock figures: napari's dark theme.
DOCK = Theme(face="#262930", foreground="#d0d0d0", line="#00a0ff", mark="#ff6040", guide="0.6",
             font_size=8)


def style_axes(ax, theme: Theme = DOCK) -> None:
    """Face, ticks, spines and labels of ``ax`` in ``theme``'s colours."""
    ax.set_facecolor(theme.face)
    ax.tick_params(colors=theme.foreground, labelsize=theme.font_size)
    for spine in ax.spines.values():
        spine.set_color(theme.foreground)
    ax.xaxis.label.set_color(theme.foreground)
    ax.yaxis.label.set_color(theme.foreground)
    ax.title.set_color(theme.foreground)


def element_legend(ax, elements, element_order, extra=(), theme: Theme = DOCK,
                   loc: str = "upper right") -> None:
    """A legend with one marker per element of ``element_order`` (with its count in
    ``elements``) followed by the ``extra`` handles.
    """
    from matplotlib.lines import Line2D

    els = np.asarray(elements, dtype=str)
    handles = [Line2D([], [], ls="", marker="o", ms=5, mfc=element_color(e), mec="k", mew=0.3,
                      label=f"{e} ({int(np.sum(els == e))})") for e in element_order]
    ax.legend(handles=handles + list(extra), fontsize=7, loc=loc, facecolor=theme.face,
              edgecolor=theme.foreground, labelcolor=theme.foreground)


def _figure_and_axes(ax, theme: Theme):
    from matplotlib.figure import Figure

    fig = ax.figure if ax is not None else Figure(figsize=theme.figsize, layout="constrained",
                                                  facecolor=theme.face)
    ax = ax if ax is not None else fig.add_subplot()
    style_axes(ax, theme)
    return fig, ax


def _title(ax, title, theme: Theme) -> None:
    if title:
        ax.set_title(title, fontsize=theme.font_size + 1, color=theme.foreground)


def plot_peak_intensities(result, ax=None, title: str | None = None, theme: Theme = PAPER):
    """Sorted peak intensities of a :class:`~napari_atomtomo.core.trace.TraceResult`,
    coloured by element (paper 000, Fig. 3); thresholds dashed, noise floor dotted.
    """
    from matplotlib.lines import Line2D

    fig, ax = _figure_and_axes(ax, theme)
    inten = np.asarray(result.sorted_intensities)
    els = result.atoms.elements
    rank = np.arange(1, inten.size + 1)
    for el in result.params.elements:
        sel = els == el
        if sel.any():
            ax.scatter(rank[sel], inten[sel], s=6, color=element_color(el), edgecolors="k",
                       linewidths=0.2)
    extra = []
    for i, t in enumerate(result.split_thresholds):
        if np.isfinite(t):
            ax.axhline(t, color=theme.guide, ls="--", lw=0.8)
            if i == 0:
                extra.append(Line2D([], [], color=theme.guide, ls="--", label="threshold"))
    ax.axhline(result.noise_floor, color=theme.guide, ls=":", lw=0.8)
    extra.append(Line2D([], [], color=theme.guide, ls=":", label="noise floor"))
    ax.set_xlabel("peak (atom) number, brightest first", fontsize=theme.font_size)
    ax.set_ylabel("peak intensity", fontsize=theme.font_size)
    ax.set_xlim(0, max(inten.size, 1) + 1)
    present = [e for e in result.params.elements if np.any(els == e)]
    element_legend(ax, els, present, extra, theme)
    _title(ax, title, theme)
    return fig


def plot_deviations(result, ax=None, title: str | None = None, theme: Theme = PAPER,
                    element_order=None):
    """Deviation (Å) of every traced atom of a
    :class:`~napari_atomtomo.core.compare.ComparisonResult` against its index (Fig. 5):
    coloured by traced element, misplaced atoms ringed, the resolution dashed.
    """
    from matplotlib.lines import Line2D

    fig, ax = _figure_and_axes(ax, theme)
    dev = result.deviation_A
    idx = np.arange(dev.size)
    ok = result.matched
    ax.scatter(idx[ok], dev[ok], s=8, c=[element_color(e) for e in result.traced_elements[ok]],
               edgecolors="k", linewidths=0.2)
    mis = result.misplaced
    ax.scatter(idx[mis], dev[mis], s=40, facecolors="none", edgecolors=theme.foreground,
               linewidths=0.8)
    ax.axhline(result.resolution_A, color=theme.guide, ls="--", lw=0.8)
    ax.set_xlabel("traced atom (index, brightest first)", fontsize=theme.font_size)
    ax.set_ylabel("deviation (Å)", fontsize=theme.font_size)
    ax.set_xlim(-1, max(dev.size, 1))
    top = np.nanmax(dev, initial=0.0)
    ax.set_ylim(0, max(top, result.resolution_A) * 1.1)
    extra = [
        Line2D([], [], ls="", marker="o", ms=7, mfc="none", mec=theme.foreground,
               label=f"misplaced ({int(mis.sum())})"),
        Line2D([], [], color=theme.guide, ls="--", label=f"resolution {result.resolution_A:g} Å"),
    ]
    order = (list(dict.fromkeys(result.traced_elements.tolist())) if element_order is None
             else element_order)
    element_legend(ax, result.traced_elements, order, extra, theme, loc="upper left")
    _title(ax, title, theme)
    return fig


def plot_esf(picker, ax=None, theme: Theme = DOCK):
    """V(t) measured, its ESF fit and the automatic threshold of a
    :class:`~napari_atomtomo.core.quantify.ThresholdPicker` (paper 002, Eq. 18).
    """
    from .core.quantify import factor_kind

    fig, ax = _figure_and_axes(ax, theme)
    esf = picker.esf
    ax.plot(esf.thresholds, esf.volumes, ".", color=theme.line, ms=3, label="V(t) measured")
    ax.plot(esf.thresholds, esf.fit, "-", color=theme.foreground, lw=1,
            label=f"ESF fit ({esf.fit_params.get('n_levels', 1)} level(s))")
    ax.axvline(esf.threshold, color="#80e080" if not esf.fallback else theme.mark, lw=1, ls=":",
               label="ESF threshold" if not esf.fallback else "Otsu threshold (fallback)")
    ax.set_xlabel(f"threshold t on Σ X/{factor_kind(picker.kind)} (map units)")
    ax.set_ylabel("V(t) (voxels)")
    ax.legend(fontsize=7, facecolor=theme.face, labelcolor=theme.foreground, framealpha=0.6)
    return fig
