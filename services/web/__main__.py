"""python -m services.web: the studio on uvicorn (TRYON_WEB_ADDR, default 127.0.0.1:8080)."""

from __future__ import annotations

import logging
import os

import uvicorn
from prometheus_client import start_http_server

from services.web import WebSettings, create_app

METRICS_PORT = 9106


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("TRYON_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = WebSettings.from_env()
    start_http_server(
        int(os.environ.get("TRYON_METRICS_PORT", METRICS_PORT)),
        addr=os.environ.get("TRYON_METRICS_ADDR", "127.0.0.1"),
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        # Access logs would hold the page URL, which carries the (publishable) key.
        access_log=False,
        ws_max_size=settings.max_frame_bytes * 2,
        proxy_headers=True,
        log_level=os.environ.get("TRYON_LOG_LEVEL", "info").lower(),
    )


if __name__ == "__main__":
    main()
