"""Open an OME-Zarr volume in napari (hidden viewer) and print the time and the peak RSS.

Usage: ``xvfb-run -a .venv/bin/python benchmarks/open_zarr_in_napari.py VOLUME.zarr``
(bench_chunked_1024.py writes one); docs/performance.md "Chunked 1024³" quotes it.
"""

import resource
import sys
import time

import napari

v = napari.Viewer(show=False)
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
t0 = time.perf_counter()
layers = v.open(sys.argv[1], plugin="napari-atomtomo")
t1 = time.perf_counter() - t0
L = layers[0]
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(f"viewer.open: {t1:.2f} s, multiscale={L.multiscale}, levels={len(L.data)}, "
      f"type={type(L.data[0]).__name__}, peak RSS before {rss0:.2f} GiB after {rss1:.2f} GiB")
v.close()
