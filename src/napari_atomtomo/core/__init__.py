"""Pure numpy/numba algorithms (no Qt, no napari)."""
