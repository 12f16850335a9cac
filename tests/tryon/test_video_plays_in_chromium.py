"""An MP4 from tryon.video plays in a real browser: headless Chromium loads it over HTTP, plays
it and reports size, duration, readiness and whether playback advanced (`make browser`)."""

from __future__ import annotations

import functools
import html
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from tryon.video import VideoWriter

CHROMIUM = "/usr/bin/chromium"

PAGE = """<!doctype html>
<html><body>
<video id="v" src="clip.mp4" muted playsinline preload="auto"></video>
<pre id="result">pending</pre>
<script>
const v = document.getElementById("v");
const out = document.getElementById("result");
let done = false;
function report(advanced, error) {
  if (done) return;
  done = true;
  out.textContent = JSON.stringify({
    videoWidth: v.videoWidth, videoHeight: v.videoHeight, duration: v.duration,
    readyState: v.readyState, currentTime: v.currentTime, advanced: advanced,
    error: error || (v.error ? "media error " + v.error.code : null),
  });
}
v.addEventListener("error", () => report(false));
v.addEventListener("loadeddata", () => {
  const start = v.currentTime;
  v.play().catch((e) => report(false, String(e)));
  const poll = () => (v.currentTime > start + 0.1 ? report(true) : setTimeout(poll, 50));
  poll();
});
setTimeout(() => report(false, "timed out"), 4500);
</script>
</body></html>
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A throwaway HTTP server on 127.0.0.1 serving tmp_path/site."""
    site = tmp_path / "site"
    site.mkdir()
    handler = functools.partial(QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", site
    finally:
        server.shutdown()
        server.server_close()


def test_written_mp4_plays_in_headless_chromium(served: tuple[str, Path], tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run `make browser` (Debian's chromium package)")
    base, site = served
    y, x = np.mgrid[0:120, 0:160]
    with VideoWriter(site / "clip.mp4", fps=25) as writer:
        for i in range(50):  # 2 s
            rgb = np.stack([x + i, y + 2 * i, np.full_like(x, 128)], axis=-1).astype(np.uint8)
            writer.write(rgb)
    (site / "index.html").write_text(PAGE)

    profile = tmp_path / "profile"
    result = subprocess.run(
        [
            shutil.which(CHROMIUM) or CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--autoplay-policy=no-user-gesture-required",
            "--dump-dom",
            "--virtual-time-budget=5000",
            f"{base}/index.html",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    match = re.search(r'<pre id="result">(.*?)</pre>', result.stdout, re.S)
    assert match, f"no result in the DOM (rc {result.returncode}):\n{result.stderr[-3000:]}"
    report = json.loads(html.unescape(match.group(1)))
    assert report["error"] is None, report
    assert report["videoWidth"] == 160 and report["videoHeight"] == 120, report
    assert report["duration"] == pytest.approx(2.0, abs=0.1), report
    assert report["readyState"] >= 2, report  # HAVE_CURRENT_DATA: a frame was decoded
    assert report["advanced"] is True, report
