"""The npe2 manifest validates (with imports); the core stays free of Qt/napari, and the
package keeps its layer order core → io → jobs/pipelines → cli/_widgets."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import napari_atomtomo

PACKAGE = Path(napari_atomtomo.__file__).parent
FORBIDDEN = ("qtpy", "napari", "magicgui", "PyQt5", "PyQt6", "PySide2", "PySide6", "superqt",
             "vispy")


@pytest.mark.slow
def test_manifest_validates_with_imports():
    proc = subprocess.run(
        [sys.executable, "-m", "npe2", "validate", "napari-atomtomo", "--imports"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "valid" in proc.stdout


def test_manifest_ships_inside_the_package():
    shipped = PACKAGE / "napari.yaml"
    assert shipped.is_file()
    assert shipped.read_text() == (PACKAGE.parent.parent / "napari.yaml").read_text()


def test_manifest_contributions_are_registered():
    from npe2 import PluginManager

    pm = PluginManager.instance()
    pm.discover()
    manifest = pm.get_manifest("napari-atomtomo")
    contrib = manifest.contributions
    assert "Load data set" in [w.display_name for w in contrib.widgets]
    assert "blob_tilt_series" in [s.key for s in contrib.sample_data]
    assert {tuple(w.layer_types) for w in contrib.writers} == {("image",), ("points",)}
    assert len(contrib.readers) == 6  # OME-Zarr, MRC, folders, atoms, DM3, MATLAB


def _imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module", "__import__"
        ) and node.args and isinstance(node.args[0], ast.Constant):
            roots.add(str(node.args[0].value).split(".")[0])
    return roots


def test_import_scanner_sees_every_import_form():
    src = "import qtpy.QtCore\nfrom napari.layers import Image\nimportlib.import_module('magicgui')\n"
    assert _imported_roots(src) == {"qtpy", "napari", "magicgui"}


CORE_FILES = sorted((PACKAGE / "core").rglob("*.py"))


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_does_not_import_gui_packages(path):
    bad = _imported_roots(path.read_text(encoding="utf-8")) & set(FORBIDDEN)
    assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}; core must stay Qt-free"


@pytest.mark.slow
def test_core_imports_without_gui_packages():
    """Importing every core module in a fresh interpreter loads no GUI package."""
    modules = sorted(
        "napari_atomtomo." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts)
        for p in CORE_FILES
        if p.name != "__init__.py"
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted(r for r in {FORBIDDEN!r} if r in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# ----------------------------------------------------------------------- layer order
#: Layer of each top-level part of the package; a module may import only its own layer
#: and those below. ``_colors`` and ``plots`` are Qt-free helpers the jobs, the command
#: line and the widgets share; ``_layers`` (napari layer data) sits with the widgets and
#: the napari entry points.
LAYERS = {
    "core": 0,
    "io": 1,
    "_colors": 2, "plots": 2, "jobs": 2, "pipelines": 2, "scale": 2,
    "cli": 3,
    "_widgets": 4, "_layers": 4, "_atoms_layers": 4, "_reader": 4, "_writer": 4, "_sample_data": 4,
    "_sample_silica": 4,
}
#: Parts that must not import a GUI package (the widgets and napari entry points may).
QT_FREE = {"core", "io", "_colors", "plots", "jobs", "pipelines", "scale", "cli"}


def _internal_imports(path: Path) -> set[str]:
    """Top-level parts of ``napari_atomtomo`` that ``path`` imports (relative or absolute)."""
    rel = path.relative_to(PACKAGE)
    package = ["napari_atomtomo", *rel.parent.parts]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = (package[: len(package) - node.level + 1] if node.level
                    else (node.module or "").split(".")[:1])
            target = [*base, *((node.module or "").split(".") if node.level else
                               (node.module or "").split(".")[1:])]
            target = [t for t in target if t]
            if target[:1] != ["napari_atomtomo"]:
                continue
            if len(target) == 1:  # from napari_atomtomo import io / from .. import io
                found.update(a.name for a in node.names)
            else:
                found.add(target[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "napari_atomtomo" and len(parts) > 1:
                    found.add(parts[1])
    return found


def test_internal_import_scanner_resolves_relative_imports():
    path = PACKAGE / "jobs" / "sweep.py"
    assert {"core"} <= _internal_imports(path) <= set(LAYERS)
    assert "_widgets" in _internal_imports(PACKAGE / "_widgets" / "sirt_hebt.py")


ALL_FILES = sorted(p for p in PACKAGE.rglob("*.py"))


def _part(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


@pytest.mark.parametrize("path", [p for p in ALL_FILES if _part(p) in LAYERS],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layer_order(path):
    part = _part(path)
    above = sorted(t for t in _internal_imports(path) if LAYERS.get(t, -1) > LAYERS[part])
    assert not above, (f"{path.relative_to(PACKAGE)} ({part}, layer {LAYERS[part]}) imports "
                       f"{above} from a layer above it")
    if part in QT_FREE:
        bad = _imported_roots(path.read_text(encoding="utf-8")) & set(FORBIDDEN)
        assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}; {part} is Qt-free"


def test_every_part_has_a_layer():
    parts = {_part(p) for p in ALL_FILES} - {"__init__", "__main__"}
    assert parts <= set(LAYERS), f"give {sorted(parts - set(LAYERS))} a layer in LAYERS"
