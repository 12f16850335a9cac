"""Render service: makeup compositing on the face geometry from recon (catalog re-renders on
the low-priority `batch` queue)."""
