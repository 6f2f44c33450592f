"""napari-atomtomo: atomic-resolution and quantitative electron tomography.

The science lives in :mod:`napari_atomtomo.core` (pure numpy/numba, no Qt); file
formats in :mod:`napari_atomtomo.io`; the ``atomtomo`` command in
:mod:`napari_atomtomo.cli`; the napari dock widgets in :mod:`napari_atomtomo._widgets`.
"""

#: The one version source: pyproject.toml reads it (``[tool.setuptools.dynamic]``); bump it
#: together with a new section in CHANGELOG.md.
__version__ = "0.1.0"
