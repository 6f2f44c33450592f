"""napari dock widgets (Qt side). One module per widget, one shared job runner.

* :mod:`._runner` – :class:`JobRunner`, the single-flight generator job runner;
* :mod:`._base` – :class:`JobDockWidget` (Run disabled with the reason shown, Copy as
  command), :func:`add_or_replace_layers`, :func:`format_command`;
* :mod:`.loader` – :class:`DatasetLoaderWidget`.
"""
