"""Render service: try-on and the catalog it owns.

`TryOnEngine` (engine.py) is the one owner of try-on in process: decode, faces (recon's cache,
detection, or tracking from the previous frame, smoothed), paint, encode. The photo task
(`render.try_on`), the stream worker (stream_worker.py) and the benchmarks call it. Catalog
re-renders run on the low-priority `batch` queue.
"""
