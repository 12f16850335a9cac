"""Code shared by every service: settings, the Celery app, task payloads, Redis key layout,
image decoding, colour science and metrics plumbing. Nothing service-specific lives here."""
