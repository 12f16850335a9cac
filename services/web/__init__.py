"""The try-on studio in the browser: a web service that serves the studio page, a small JSON
API and a WebSocket for live frames, and reaches the platform only as a gRPC client of the
gateway, with the browser's publishable key (API.md)."""

from services.web.app import create_app
from services.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
