"""The studio's web service on the real stack, without a browser: its pages' security headers,
the JSON API, swatches, the live-frame WebSocket, and every kind of bad input the issue lists
(frames that are not images, oversized frames, a disallowed origin, revoked or wrong keys, a
flood from one browser, a tab closed mid-stream)."""

from __future__ import annotations

import contextlib
import json
import re
import struct
import time
import urllib.request
from collections.abc import Callable
from http.client import HTTPConnection

import cv2
import numpy as np
import pytest
import redis
from sqlalchemy import create_engine, text
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from scripts.stack import Stack
from services.common.redis_keys import tenant_streams_key
from tests.conftest import API_KEYS, TEST_DATA, auth
from tests.web.conftest import HttpReply, PartnerSite, http
from tryon.v1 import key_service_pb2

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _jpeg(rgb: np.ndarray, quality: int = 85) -> bytes:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, quality])  # fmt: skip
    assert ok
    return data.tobytes()


@pytest.fixture(scope="module")
def face_jpeg() -> bytes:
    rgb = cv2.cvtColor(cv2.imread(str(TEST_DATA / "obama.jpg")), cv2.COLOR_BGR2RGB)
    return _jpeg(cv2.resize(rgb, (640, 480)))


@pytest.fixture(scope="module")
def lipstick(stack: Stack, studio_key: str) -> dict:  # type: ignore[type-arg]
    reply = http(stack, "/api/v1/products?category=lipstick&page_size=1", key=studio_key)
    assert reply.status == 200, reply.body
    return reply.json()["products"][0]  # type: ignore[no-any-return]


def post_json(stack: Stack, path: str, key: str, payload: object) -> HttpReply:
    body = json.dumps(payload).encode()
    return http(stack, path, key=key, content_type="application/json", body=body)


def ws_url(stack: Stack, key: str) -> str:
    return f"ws://{stack.web_addr}/api/v1/stream?key={key}"


def open_stream(stack: Stack, key: str, origin: str | None = None) -> ClientConnection:
    return connect(ws_url(stack, key), origin=origin, open_timeout=10,  # type: ignore[arg-type]
                   max_size=16 << 20)  # fmt: skip


def frame(sequence: int, data: bytes) -> bytes:
    return struct.pack(">I", sequence) + data


def next_message(ws: ClientConnection, timeout: float = 20) -> str | bytes:
    return ws.recv(timeout=timeout)


def parse_reply(message: bytes) -> tuple[int, dict, bytes]:  # type: ignore[type-arg]
    sequence, length = struct.unpack_from(">II", message)
    header = json.loads(message[8 : 8 + length])
    return sequence, header, message[8 + length :]


def close_of(ws: ClientConnection, timeout: float = 20) -> tuple[int, str]:
    """Reads until the server closes; returns its close code and reason."""
    deadline = time.monotonic() + timeout
    with pytest.raises(ConnectionClosed) as closed:
        while time.monotonic() < deadline:
            ws.recv(timeout=timeout)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


# --- pages ---------------------------------------------------------------------------------


def test_studio_page_is_served_with_a_strict_policy(
    stack: Stack, studio_key: str, partner_sites: tuple[PartnerSite, PartnerSite]
) -> None:
    allowed, other = partner_sites
    reply = http(stack, f"/studio?key={studio_key}")
    assert reply.status == 200 and b"/static/studio.js" in reply.body
    csp = reply.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'none'"
    assert "unsafe" not in csp
    assert directives["frame-ancestors"].split() == ["'self'", allowed.origin]
    assert other.origin not in csp
    assert reply.headers["cache-control"] == "no-store"
    # No inline code for the policy to block: every script and style is a file.
    html = reply.body.decode()
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html and " style=" not in html and " onclick=" not in html
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert http(stack, asset).status == 200, asset


def test_the_studio_refuses_a_missing_or_secret_key(stack: Stack) -> None:
    missing = http(stack, "/studio")
    assert missing.status == 401 and b"publishable key" in missing.body
    secret = http(stack, f"/studio?key={API_KEYS['alpha']}")
    assert secret.status == 401 and b"never put your secret key in a web page" in secret.body
    api = http(stack, "/api/v1/products", key=API_KEYS["alpha"])
    assert api.status == 401 and api.json()["error"]["code"] == "UNAUTHENTICATED"


def test_catalog_search_facets_and_real_swatches(
    stack: Stack, studio_key: str, lipstick: dict  # type: ignore[type-arg]
) -> None:
    assert lipstick["category"] == "lipstick" and lipstick["shades"]
    assert re.fullmatch(r"#[0-9a-f]{6}", lipstick["shades"][0]["hex"])
    swatch = http(stack, lipstick["swatch_url"])
    assert swatch.status == 200 and swatch.headers["content-type"] == "image/png"
    assert swatch.body.startswith(PNG_SIGNATURE)
    image = cv2.imdecode(np.frombuffer(swatch.body, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and min(image.shape[:2]) >= 16

    facets = http(stack, "/api/v1/facets?category=lipstick", key=studio_key).json()
    assert lipstick["brand"] in facets["brands"] and facets["colour_families"]
    word = lipstick["brand"].split()[0]
    found = http(stack, f"/api/v1/products?category=lipstick&q={word}", key=studio_key).json()
    texts = [" ".join([p["brand"], p["name"], *(s["name"] for s in p["shades"])]).lower()
             for p in found["products"]]  # fmt: skip
    assert texts and all(word.lower() in t for t in texts)
    family = facets["colour_families"][0]
    in_family = http(stack, f"/api/v1/products?category=lipstick&family={family}&page_size=5",
                     key=studio_key).json()  # fmt: skip
    assert in_family["products"]
    bad = http(stack, "/api/v1/products?category=lip_paint", key=studio_key)
    assert bad.status == 400 and "unknown category" in bad.json()["error"]["message"]


def test_origins_are_checked_on_every_call(
    stack: Stack, studio_key: str, partner_sites: tuple[PartnerSite, PartnerSite]
) -> None:
    allowed, other = partner_sites
    ok = http(stack, "/api/v1/products?page_size=1", key=studio_key, origin=allowed.origin)
    assert ok.status == 200 and ok.headers["access-control-allow-origin"] == allowed.origin
    own = http(stack, "/api/v1/products?page_size=1", key=studio_key, origin=stack.web_url)
    assert own.status == 200 and "access-control-allow-origin" not in own.headers
    refused = http(stack, "/api/v1/products?page_size=1", key=studio_key, origin=other.origin)
    assert refused.status == 403
    assert other.origin in refused.json()["error"]["message"]
    assert "access-control-allow-origin" not in refused.headers

    with open_stream(stack, studio_key, origin=other.origin) as ws:
        code, reason = close_of(ws)
    assert code == 4403 and "origin" in reason


# --- photo, try-on, recommendations, events --------------------------------------------------


def test_photo_try_on_shade_match_and_events(
    stack: Stack, studio_key: str, lipstick: dict, database_url: str  # type: ignore[type-arg]
) -> None:
    photo = http(stack, "/api/v1/photo", key=studio_key, content_type="image/jpeg",
                 body=(TEST_DATA / "obama.jpg").read_bytes())  # fmt: skip
    assert photo.status == 200, photo.body
    face = photo.json()
    assert face["faces"] and face["faces"][0]["skin_tone"]["hex"].startswith("#")
    shade = lipstick["shades"][0]
    look = [{"product_id": lipstick["product_id"], "shade_id": shade["shade_id"], "intensity": 1}]
    made_up = post_json(stack, "/api/v1/tryon", studio_key, {"face_id": face["face_id"],
                                                             "look": look})  # fmt: skip
    assert made_up.status == 200 and made_up.headers["content-type"] == "image/jpeg"
    assert cv2.imdecode(np.frombuffer(made_up.body, np.uint8), cv2.IMREAD_COLOR).shape[:2] == (
        face["height"], face["width"]
    )

    matches = post_json(stack, "/api/v1/recommendations", studio_key, {
        "face_id": face["face_id"], "user_id": "web-shopper-1", "categories": ["foundation"], "k": 3
    }).json()  # fmt: skip
    assert len(matches["recommendations"]) == 3
    assert all(r["delta_e"] > 0 and r["reason"] for r in matches["recommendations"])
    assert matches["recommendations"][0]["product"]["category"] == "foundation"

    event = {"user_id": "web-shopper-1", "type": "add_to_bag",
             "product_id": lipstick["product_id"], "shade_id": shade["shade_id"],
             "event_id": "web-test-event-1"}  # fmt: skip
    for created in (True, False):  # the same event twice is recorded once
        reply = http(stack, "/api/v1/events", key=studio_key, content_type="application/json",
                     body=json.dumps(event).encode())  # fmt: skip
        assert reply.status == 200 and reply.json() == {"created": created}
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT tenant, type, product_id FROM recsys_events WHERE event_id = :e"
        ), {"e": "web-test-event-1"}).all()  # fmt: skip
    engine.dispose()
    assert [tuple(r) for r in rows] == [("alpha", "add_to_cart", lipstick["product_id"])]


def test_bad_photos_and_bodies_get_clear_errors(
    stack: Stack, studio_key: str, lipstick: dict  # type: ignore[type-arg]
) -> None:
    not_image = http(stack, "/api/v1/photo", key=studio_key, content_type="image/jpeg",
                     body=b"this is not a picture" * 10)  # fmt: skip
    assert not_image.status == 400 and not_image.json()["error"]["code"] == "INVALID_ARGUMENT"
    too_big = _declare_only(stack, "/api/v1/photo", studio_key, 8 * 1024 * 1024 + 1)
    assert too_big.status == 413 and "smaller" in too_big.json()["error"]["message"]
    wrong_type = http(stack, "/api/v1/photo", key=studio_key, content_type="text/plain",
                      body=b"hello")  # fmt: skip
    assert wrong_type.status == 400 and "image/jpeg" in wrong_type.json()["error"]["message"]
    bad_json = http(stack, "/api/v1/tryon", key=studio_key, content_type="application/json",
                    body=b"{not json")  # fmt: skip
    assert bad_json.status == 400
    expired = http(stack, "/api/v1/tryon", key=studio_key, content_type="application/json",
                   body=json.dumps({"face_id": "0" * 32, "look": [
                       {"product_id": lipstick["product_id"]}]}).encode())  # fmt: skip
    assert expired.status == 404 and expired.json()["error"]["message"]
    bad_event = http(stack, "/api/v1/events", key=studio_key, content_type="application/json",
                     body=json.dumps({"user_id": "u", "type": "like", "product_id": "p"}).encode())
    assert bad_event.status == 400 and "add_to_bag" in bad_event.json()["error"]["message"]


# --- live frames -----------------------------------------------------------------------------


def test_stream_answers_good_frames_and_explains_bad_ones(
    stack: Stack, studio_key: str, lipstick: dict, face_jpeg: bytes  # type: ignore[type-arg]
) -> None:
    look = [{"product_id": lipstick["product_id"], "intensity": 1}]
    with open_stream(stack, studio_key) as ws:
        ws.send(json.dumps({"type": "config", "look": look}))
        ws.send(frame(1, b"this is not an image"))
        error = json.loads(next_message(ws))
        assert error["type"] == "error" and error["sequence"] == 1
        assert error["code"] == "INVALID_ARGUMENT" and error["message"]

        ws.send(frame(2, b"\xff\xd8" + b"\0" * (4 * 1024 * 1024)))
        error = json.loads(next_message(ws))
        assert (error["sequence"], error["code"]) == (2, "RESOURCE_EXHAUSTED")
        assert "KB" in error["message"]

        huge = _jpeg(np.full((2400, 4000, 3), 128, np.uint8), 50)  # small file, too many pixels
        ws.send(frame(3, huge))
        error = json.loads(next_message(ws))
        assert (error["sequence"], error["code"]) == (3, "INVALID_ARGUMENT")
        assert "4000x2400" in error["message"], error["message"]

        ws.send(frame(4, face_jpeg))
        reply = next_message(ws)
        assert isinstance(reply, bytes)
        sequence, header, jpeg = parse_reply(reply)
        assert sequence == 4 and header["sequence"] == 4 and len(header["faces"]) == 1
        made_up = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert made_up.shape[:2] == (480, 640)
        assert header["timings"]["worker_ms"] > 0

        ws.send(json.dumps({"type": "config", "look": "red"}))  # a bad config mid-stream
        error = json.loads(next_message(ws))
        assert error["code"] == "INVALID_ARGUMENT" and "look" in error["message"]
        ws.send(frame(5, face_jpeg))  # ... and the stream goes on
        assert parse_reply(next_message(ws))[0] == 5  # type: ignore[arg-type]


def test_a_stream_must_start_with_a_config(stack: Stack, studio_key: str) -> None:
    with open_stream(stack, studio_key) as ws:
        ws.send(frame(1, b"\xff\xd8"))
        code, reason = close_of(ws)
    assert code == 4400 and "config" in reason


def _declare_only(stack: Stack, path: str, key: str, length: int) -> HttpReply:
    """Announces a body of `length` bytes and sends none: refused before it is read."""
    host, port = stack.web_addr.rsplit(":", 1)
    conn = HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest("POST", path)
        for name, value in (("X-Tryon-Key", key), ("Content-Type", "image/jpeg"),
                            ("Content-Length", str(length))):  # fmt: skip
            conn.putheader(name, value)
        conn.endheaders()
        reply = conn.getresponse()
        return HttpReply(reply.status, dict(reply.headers), reply.read())
    finally:
        conn.close()


def _gauge(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        body = reply.read().decode()
    match = re.search(rf"^{name} (\S+)$", body, re.M)
    assert match, name
    return float(match.group(1))


def test_a_tab_closed_mid_stream_frees_everything(
    stack: Stack, studio_key: str, lipstick: dict, face_jpeg: bytes, redis_url: str  # type: ignore[type-arg]
) -> None:
    ws = open_stream(stack, studio_key)
    ws.send(json.dumps({"type": "config", "look": [{"product_id": lipstick["product_id"]}]}))
    ws.send(frame(1, face_jpeg))
    ws.send(frame(2, face_jpeg))
    assert isinstance(next_message(ws), bytes)
    assert _gauge(stack.web_metrics_port, "tryon_web_streams_active") == 1
    assert _gauge(stack.gateway_metrics_port, "tryon_streams_active") == 1
    ws.socket.close()  # the tab is gone: no close handshake, frame 2 may be in flight
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = (
            _gauge(stack.web_metrics_port, "tryon_web_streams_active"),
            _gauge(stack.gateway_metrics_port, "tryon_streams_active"),
            client.zcard(tenant_streams_key("alpha")),
        )
        if state == (0, 0, 0):
            break
        time.sleep(0.2)
    assert state == (0, 0, 0), "web stream, gateway stream or the tenant's stream slot left"


# --- keys and limits -------------------------------------------------------------------------


def test_revoked_unknown_and_secret_keys_are_refused(
    stack: Stack, make_key: Callable[..., key_service_pb2.PublishableKey], keys_stub
) -> None:  # type: ignore[no-untyped-def]
    key = make_key("https://shop.example")
    assert http(stack, "/api/v1/products?page_size=1", key=key.key).status == 200
    keys_stub.RevokePublishableKey(
        key_service_pb2.RevokePublishableKeyRequest(key_id=key.key_id), metadata=auth("alpha")
    )
    deadline = time.monotonic() + 10  # the web and gateway caches hold a key ~1 s in tests
    while time.monotonic() < deadline:
        reply = http(stack, "/api/v1/products?page_size=1", key=key.key)
        if reply.status != 200:
            break
        time.sleep(0.25)
    assert reply.status == 401 and reply.json()["error"]["code"] == "UNAUTHENTICATED"
    with open_stream(stack, key.key) as ws:
        with contextlib.suppress(ConnectionClosed):  # refused at once, or once the gateway is asked
            ws.send(json.dumps({"type": "config", "look": []}))
        assert close_of(ws)[0] == 4401
    unknown = http(stack, "/api/v1/products", key="pk_" + "x" * 32)
    assert unknown.status == 401
    with open_stream(stack, API_KEYS["alpha"]) as ws:  # a secret key in a browser
        code, reason = close_of(ws)
    assert code == 4401 and "publishable" in reason


def _get_from(stack: Stack, source: str, path: str, key: str) -> int:
    """One request from another local address: another browser, as the web service sees it."""
    host, port = stack.web_addr.rsplit(":", 1)
    conn = HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", path, headers={"X-Tryon-Key": key})
        reply = conn.getresponse()
        reply.read()
        return reply.status
    finally:
        conn.close()


def test_a_flooding_browser_is_limited_and_others_are_not(
    stack: Stack, make_key: Callable[..., key_service_pb2.PublishableKey]
) -> None:
    from tests.conftest import TEST_WEB_REQUESTS_PER_MINUTE as limit

    key = make_key("https://shop.example", rpm=100_000).key
    statuses = []
    for _ in range(2 * limit + 1):  # over the limit in some one-minute window, whatever the clock
        reply = http(stack, "/api/v1/key", key=key)
        statuses.append(reply.status)
        if reply.status == 429:
            break
    assert statuses[-1] == 429, "never limited"
    message = reply.json()["error"]["message"]
    assert f"limit is {limit} a minute" in message and re.search(r"retry in \d+ s", message)
    assert _get_from(stack, "127.0.0.2", "/api/v1/key", key) == 200  # another browser


def test_the_gateway_limit_of_a_key_reaches_the_browser(
    stack: Stack, make_key: Callable[..., key_service_pb2.PublishableKey]
) -> None:
    key = make_key("https://shop.example", rpm=4).key
    statuses = [http(stack, "/api/v1/products?page_size=1", key=key).status for _ in range(6)]
    assert statuses[0] == 200 and statuses[-1] == 429, statuses
    reply = http(stack, "/api/v1/products?page_size=1", key=key)
    assert "4 requests per minute" in reply.json()["error"]["message"]


def test_healthz_and_no_secret_in_pages(stack: Stack) -> None:
    assert http(stack, "/healthz").json() == {"gateway": "SERVING"}
    for path in ("/static/studio.js", "/static/i18n.js", "/embed.js"):
        body = http(stack, path).body
        for secret in API_KEYS.values():
            assert secret.encode() not in body
