"""The web studio in a real browser: Debian's headless Chromium (Selenium) with the real clip
d0.mp4 as its camera (640x480, 30 fps), on a private stack with the web service.

    .venv/bin/python -m bench.bench_studio

Figures, measured by the page itself (window.tryonStats): time from navigation start to the
first made-up frame drawn (the page opens on a product with ?autostart=1: camera, WebSocket,
first reply), then for 10 s the replies drawn per second and the latency of each frame (the
page's send -> the reply drawn: JPEG encode in the browser, WebSocket, web -> gateway gRPC
stream, the render-stream worker, and back). Page weight: the HTML, scripts and styles as
served (no images). Reference, same run, same stack and frames: a Python grpc.aio StreamTryOn
client paced at 30 fps straight to the gateway (bench_stream's camera-paced row): the browser
path's cost is the difference. Prints; never asserts."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

import grpc

from bench.bench_stream import clip_frames, run_stream
from bench.stack_load import AUTH, pct, private_stack
from services.render.catalog import CatalogStore
from services.render.catalog.seed import seed
from tests.conftest import shared_data_dir
from tests.web.conftest import make_fake_camera
from tryon.v1 import key_service_pb2, key_service_pb2_grpc, types_pb2
from tryon.v1 import tryon_service_pb2_grpc as pb_grpc

GOAL_FPS = 25.0
GOAL_P99_MS = 150.0
GOAL_FIRST_FRAME_MS = 1500.0
GOAL_PAGE_KB = 300.0
DURATION_S = 10.0
PAGE_FILES = ("/static/studio.js", "/static/studio.css", "/static/i18n.js")


def browser(camera: Path):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from tests.web.conftest import CHROMEDRIVER, chrome_options

    return webdriver.Chrome(options=chrome_options(camera), service=Service(CHROMEDRIVER))


def page_weight(web_url: str, key: str) -> dict[str, int]:
    sizes = {}
    for path in ("/studio?key=" + key, *PAGE_FILES):
        with urllib.request.urlopen(web_url + path, timeout=10) as reply:
            sizes[path.split("?")[0]] = len(reply.read())
    return sizes


def studio_run(driver, url: str) -> tuple[float, float, list[float], int]:  # type: ignore[no-untyped-def]
    """(first made-up frame ms after navigation start, fps, latencies ms, frames)."""
    driver.get(url)
    deadline = time.monotonic() + 60
    first = None
    while time.monotonic() < deadline and first is None:
        first = driver.execute_script(
            "return window.tryonStats && window.tryonStats.firstMadeUpFrameAt"
        )
        time.sleep(0.05)
    if first is None:
        raise RuntimeError("no made-up frame within 60 s")
    time.sleep(2)  # past the first detection and the JIT warm-up
    start = driver.execute_script("return [performance.now(), window.tryonStats.framesReceived]")
    time.sleep(DURATION_S)
    end = driver.execute_script(
        "const s = window.tryonStats; return [performance.now(), s.framesReceived, s.latenciesMs]"
    )
    frames = end[1] - start[1]
    fps = frames / ((end[0] - start[0]) / 1000)
    return float(first), fps, list(end[2])[-frames:], frames


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'catalog.db'}"
        store = CatalogStore(database_url)
        try:
            seed(store, shared_data_dir())
            (lipstick,), _ = store.list_products("bench", category="lipstick", page_size=1)
        finally:
            store.dispose()
        camera = make_fake_camera(shared_data_dir() / "video" / "d0.mp4", Path(tmp) / "d0.y4m")
        services = ("recon", "render", "render-stream", "recsys")
        with private_stack(services, {"DATABASE_URL": database_url}, timeout_s=180,
                           with_web=True) as stack:  # fmt: skip
            with grpc.insecure_channel(stack.grpc_addr) as channel:
                key = key_service_pb2_grpc.KeyServiceStub(channel).CreatePublishableKey(
                    key_service_pb2.CreatePublishableKeyRequest(
                        allowed_origins=["https://shop.example"], requests_per_minute=100_000
                    ),
                    metadata=AUTH,
                ).key
            shade = lipstick.shades[0].shade_id
            url = (f"{stack.web_url}/studio?key={key}&autostart=1&lang=en"
                   f"&product={lipstick.product_id}&shade={shade}")  # fmt: skip
            weight = page_weight(stack.web_url, key)
            driver = browser(camera)
            try:
                studio_run(driver, url)  # a first visit: the page and models warm up
                runs = [studio_run(driver, url) for _ in range(2)]
            finally:
                driver.quit()
            look = types_pb2.Look(
                applications=[types_pb2.Application(product_id=lipstick.product_id)]
            )
            frames = clip_frames((640, 480))

            async def reference():  # type: ignore[no-untyped-def]
                async with grpc.aio.insecure_channel(stack.grpc_addr) as channel:
                    return await run_stream(pb_grpc.TryOnServiceStub(channel), frames, look,
                                            DURATION_S, paced=True)  # fmt: skip

            ref = asyncio.run(reference())

    firsts = [r[0] for r in runs]
    latencies = [x / 1000 for r in runs for x in r[2]]  # the page measures ms; pct takes s
    fps = statistics.fmean(r[1] for r in runs)
    total_kb = sum(weight.values()) / 1024
    print(f"{'figure':44s} {'studio (Chromium)':>18s} {'reference':>12s} {'goal':>10s}")
    print(f"{'first made-up frame after page open (ms)':44s} {statistics.median(firsts):18.0f} "
          f"{'':>12s} {'<= ' + str(int(GOAL_FIRST_FRAME_MS)):>10s}")
    print(f"{'frames per second, 640x480 camera at 30':44s} {fps:18.1f} {ref.fps:12.1f} "
          f"{'>= ' + str(int(GOAL_FPS)):>10s}")
    print(f"{'frame latency p50 (ms)':44s} {pct(latencies, 50):18.1f} "
          f"{ref.p(50):12.1f} {'':>10s}")
    print(f"{'frame latency p99 (ms)':44s} {pct(latencies, 99):18.1f} "
          f"{ref.p(99):12.1f} {'<= ' + str(int(GOAL_P99_MS)):>10s}")
    print(f"{'page weight: HTML + scripts + styles (KB)':44s} {total_kb:18.1f} {'':>12s} "
          f"{'< ' + str(int(GOAL_PAGE_KB)):>10s}")
    print("  " + ", ".join(f"{path} {size / 1024:.1f} KB" for path, size in weight.items()))
    print(f"  first frame per visit (ms): {', '.join(f'{f:.0f}' for f in firsts)}; "
          f"{sum(r[3] for r in runs)} frames measured over {len(runs)} visits of "
          f"{DURATION_S:.0f} s; reference: Python grpc.aio StreamTryOn to the gateway, "
          f"camera-paced, same frames and look")


if __name__ == "__main__":
    main()
