"""The studio's fixtures: publishable keys, partner sites on other origins, a fake camera made
from a real clip, and Debian's headless Chromium driven by Selenium."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
import imageio_ffmpeg
import pytest

from scripts.stack import Stack
from tests.conftest import auth, free_port
from tryon.v1 import key_service_pb2, key_service_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "out" / "web"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@dataclass(frozen=True)
class PartnerSite:
    """A retailer's product pages on its own origin (a local server in a thread)."""

    origin: str
    root: Path

    def page(self, name: str, html: str) -> str:
        (self.root / name).write_text(html)
        return f"{self.origin}/{name}"


def _serve(root: Path, host: str) -> tuple[ThreadingHTTPServer, str]:
    port = free_port()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{port}"


@pytest.fixture(scope="session")
def partner_sites(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[PartnerSite, PartnerSite]]:
    """(allowed, other): the allowed partner is on http://localhost:P, another origin than the
    studio's http://127.0.0.1:W; the other site is on 127.0.0.1 with a third port."""
    allowed_root = tmp_path_factory.mktemp("partner-allowed")
    other_root = tmp_path_factory.mktemp("partner-other")
    allowed_server, allowed_origin = _serve(allowed_root, "localhost")
    other_server, other_origin = _serve(other_root, "127.0.0.1")
    try:
        yield PartnerSite(allowed_origin, allowed_root), PartnerSite(other_origin, other_root)
    finally:
        allowed_server.shutdown()
        other_server.shutdown()


@pytest.fixture(scope="session")
def keys_stub(channel: grpc.Channel) -> key_service_pb2_grpc.KeyServiceStub:
    return key_service_pb2_grpc.KeyServiceStub(channel)


@pytest.fixture(scope="session")
def make_key(
    keys_stub: key_service_pb2_grpc.KeyServiceStub,
) -> Callable[..., key_service_pb2.PublishableKey]:
    def make(*origins: str, rpm: int = 0, tenant: str = "alpha") -> key_service_pb2.PublishableKey:
        return keys_stub.CreatePublishableKey(
            key_service_pb2.CreatePublishableKeyRequest(
                allowed_origins=list(origins), requests_per_minute=rpm, label="tests/web"
            ),
            metadata=auth(tenant),
        )

    return make


@pytest.fixture(scope="session")
def studio_key(
    make_key: Callable[..., key_service_pb2.PublishableKey],
    partner_sites: tuple[PartnerSite, PartnerSite],
) -> str:
    """The browser tests' key: the allowed partner's origin only (the studio's own origin is
    always allowed for its own page)."""
    return make_key(partner_sites[0].origin, rpm=100_000).key


@pytest.fixture(scope="session")
def fake_camera(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real clip d0.mp4 as Chromium's fake camera: 640x480 (the face scaled, not stretched,
    and centred), y4m, made now."""
    return make_fake_camera(shared_data / "video" / "d0.mp4",
                            tmp_path_factory.mktemp("camera") / "d0.y4m")  # fmt: skip


def make_fake_camera(clip: Path, out: Path) -> Path:
    """A 512x512 clip as a 640x480 30 fps y4m (scaled, centred, never stretched)."""
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", str(clip),
         "-vf", "scale=480:480,pad=640:480:80:0", "-pix_fmt", "yuv420p", "-r", "30", str(out)],
        check=True,
    )  # fmt: skip
    return out


def chrome_options(  # type: ignore[no-untyped-def]
    fake_camera: Path, width: int = 1280, height: int = 900, downloads: Path | None = None
):
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        f"--window-size={width},{height}",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={fake_camera}",
        "--autoplay-policy=no-user-gesture-required",
    ):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if downloads is not None:
        options.add_experimental_option(
            "prefs",
            {"download.default_directory": str(downloads), "download.prompt_for_download": False},
        )
    return options


@pytest.fixture(scope="session")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="session")
def browser(fake_camera: Path, downloads: Path) -> Iterator[object]:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("Chromium and ChromeDriver are missing: run `make browser` (Debian packages)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver = webdriver.Chrome(
        options=chrome_options(fake_camera, downloads=downloads), service=Service(CHROMEDRIVER)
    )
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver, name: str) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def console_errors(driver, own_origin: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    """The console's errors, except images a partner hosts elsewhere (a partner's swatch URL
    on the internet, which this machine cannot reach)."""
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return [
        m for m in errors
        if not (own_origin and m.startswith("https://") and "Failed to load resource" in m)
    ]  # fmt: skip


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.body)  # type: ignore[no-any-return]


def http(
    stack: Stack,
    path: str,
    *,
    key: str | None = None,
    origin: str | None = None,
    body: bytes | None = None,
    content_type: str | None = None,
    method: str | None = None,
) -> HttpReply:
    headers = {}
    if key:
        headers["X-Tryon-Key"] = key
    if origin:
        headers["Origin"] = origin
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(
        stack.web_url + path, data=body, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return HttpReply(reply.status, dict(reply.headers), reply.read())
    except urllib.error.HTTPError as exc:
        return HttpReply(exc.code, dict(exc.headers), exc.read())
