"""The widgets napari lists under its Layers menus (the manifest's ``menus``)."""

from __future__ import annotations

import pytest
from napari._app_model import get_app_model
from napari._app_model.constants import MenuId

from napari_atomtomo._widgets.align import AlignWidget

EXPECTED = {
    MenuId.FILE_IO_UTILITIES: [
        "Load data set (AtomTomo)",
        "Save AtomTomo session (layers, metadata, dock parameters) to a folder (AtomTomo)",
        "Open an AtomTomo session folder (AtomTomo)"],
    MenuId.LAYERS_REGISTER: ["Align tilt series (AtomTomo)"],
    MenuId.LAYERS_MEASURE: ["Trace atoms (AtomTomo)", "Quantify (ESF threshold) (AtomTomo)"],
}


def _ours(menu_id):
    return [item.command for item in get_app_model().menus.get_menu(menu_id)
            if getattr(item, "command", None) is not None
            and item.command.id.startswith("napari-atomtomo.")]


@pytest.mark.parametrize("menu_id", list(EXPECTED), ids=lambda m: m.value)
def test_widgets_are_listed_under_the_layer_menus_where_they_fit(make_napari_viewer, menu_id):
    make_napari_viewer()
    assert sorted(command.title for command in _ours(menu_id)) == sorted(EXPECTED[menu_id])


def test_the_register_menu_item_docks_the_align_widget(make_napari_viewer):
    viewer = make_napari_viewer()
    (command,) = _ours(MenuId.LAYERS_REGISTER)
    get_app_model().commands.execute_command(command.id).result()
    assert isinstance(viewer.window.dock_widgets["Align tilt series (AtomTomo)"], AlignWidget)


def test_plugins_menu_lists_the_docks_in_workflow_order(make_napari_viewer):
    from npe2 import PluginManager  # noqa: PLC0415

    make_napari_viewer()
    manifest = PluginManager.instance().get_manifest("napari-atomtomo")
    names = [w.display_name for w in manifest.contributions.widgets]
    assert names == ["Load data set", "Simulate tilt series", "Preprocess tilt series",
                     "Align tilt series", "SIRT / HEBT", "EST reconstruction", "Trace atoms",
                     "Quantify (ESF threshold)"]
    plugin_items = [item.command.title for item in get_app_model().menus.get_menu(
        "napari/plugins/napari-atomtomo") if getattr(item, "command", None) is not None]
    # napari's own Plugins ▸ AtomTomo submenu follows the manifest's order
    assert [t.removesuffix(" (AtomTomo)") for t in plugin_items] == names


def test_docks_scroll_instead_of_growing_the_window(make_napari_viewer):
    viewer = make_napari_viewer()
    _, dock = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Trace atoms")
    content = dock.scroll_area.widget()
    assert dock.inputs.native.parent() is content  # the inputs live in the scrolled area
    tall = content.sizeHint().height()
    assert tall > 400 and dock.minimumSizeHint().height() <= 150  # may shrink: it scrolls
    assert dock.minimumSizeHint().width() >= content.minimumSizeHint().width()  # not cut
