"""`make demo`: a real portrait through the running stack, like a partner would.

Reconstruct (out/reconstruct.json, out/mesh.png), then a foundation shade match and skin-aware
picks per category (Recommend), a full look of those picks on the face (TryOn: out/look.png,
before | after), recommendations for the shopper (out/recommendations.json), and the same look
on a video clip through live try-on (StreamTryOn: out/stream.mp4, out/stream_contact_sheet.png)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import cv2
import grpc
import imageio_ffmpeg
import numpy as np
from google.protobuf.json_format import MessageToDict

from tryon import Client, VideoWriter, geometry_to_dict, read_video
from tryon.drawing import draw_face_mesh
from tryon.v1 import types_pb2

ROOT = Path(__file__).resolve().parents[1]
PORTRAIT = ROOT / "tests" / "data" / "obama.jpg"
OUT = ROOT / "out"
SHARED_DATA = Path(os.environ.get("TRYON_SHARED_DATA") or ROOT.parent / "shared" / "data")
CLIP = SHARED_DATA / "video" / "d0.mp4"
# The look, in paint order: base first, then cheeks, eyes, brows, lips.
LOOK = (
    ("foundation", 0.8),
    ("blush", 0.8),
    ("eyeshadow", 0.9),
    ("eyeliner", 1.0),
    ("mascara", 1.0),
    ("brow", 0.6),
    ("lipstick", 1.0),
)


def category(name: str) -> int:
    return types_pb2.ProductCategory.Value(f"PRODUCT_CATEGORY_{name.upper()}")


def try_on_full_look(client: Client, face_id: str) -> list[types_pb2.Application]:
    """Picks each product by Recommend (skin-aware), paints them all with TryOn; returns the
    look (the stream step wears it too)."""
    look, lines = [], []
    for name, intensity in LOOK:
        (pick,) = client.recommend(
            face_id=face_id, categories=[category(name)], k=1
        ).recommendations
        shade = next(s for s in pick.product.shades if s.shade_id == pick.shade_id)
        look.append(
            types_pb2.Application(
                product_id=pick.product.product_id, shade_id=pick.shade_id, intensity=intensity
            )
        )
        lines.append(
            f"  {name:<10} {pick.product.brand} {pick.product.name}, {shade.name} "
            f"{shade.hex} ({pick.reason})"
        )
    begin = time.perf_counter()
    response = client.try_on(
        face_id=face_id, look=look, output_content_type="image/png", side_by_side=True
    )
    took_ms = (time.perf_counter() - begin) * 1000
    (OUT / "look.png").write_bytes(response.image.data)
    print(
        f"\nTryOn, a {len(look)}-product look picked for this face ({took_ms:.0f} ms, "
        "no second reconstruction):"
    )
    print("\n".join(lines))
    print(f"  wrote {OUT / 'look.png'} (before | after)")
    return look


def recommendations(client: Client, face_id: str) -> None:
    matches = client.recommend(face_id=face_id, categories=[category("foundation")], k=5)
    print("\nFoundation shade match (CIEDE2000 to the measured skin, across brands):")
    for m in matches.recommendations:
        shade = next(s for s in m.product.shades if s.shade_id == m.shade_id)
        print(
            f"  ΔE {m.delta_e:4.2f}  {m.product.brand} {m.product.name}, {shade.name} {shade.hex}"
        )
    picks = client.recommend(face_id=face_id, k=8)
    print(f"\nRecommended for this shopper (model {picks.model_version}):")
    for r in picks.recommendations:
        print(f"  {r.score:.2f}  {r.product.brand} {r.product.name}: {r.reason}")
    doc = {
        "shade_match": MessageToDict(matches, preserving_proto_field_name=True),
        "recommendations": MessageToDict(picks, preserving_proto_field_name=True),
    }
    (OUT / "recommendations.json").write_text(json.dumps(doc, indent=1))
    print(f"  wrote {OUT / 'recommendations.json'}\n")


def main() -> int:
    image_path = Path(sys.argv[1]) if len(sys.argv) > 1 else PORTRAIT
    api_key = (ROOT / "var" / "demo_api_key").read_text().strip()
    OUT.mkdir(exist_ok=True)
    with Client(api_key=api_key) as client:
        begin = time.perf_counter()
        geometry = client.reconstruct(image_path)
        first_ms = (time.perf_counter() - begin) * 1000
        begin = time.perf_counter()
        client.reconstruct(image_path)  # same selfie again: served from the face cache
        cached_ms = (time.perf_counter() - begin) * 1000
        report_geometry(image_path, geometry, first_ms, cached_ms)
        if geometry.faces:
            look = try_on_full_look(client, geometry.face_id)
            recommendations(client, geometry.face_id)
            ask_the_advisor(client, geometry.face_id)
            # The foundation was matched to the portrait's skin, not the clip's: leave it out.
            stream_video(client, look[1:])
        print_studio_url(client, look[-1] if geometry.faces else None)
    return 0


QUESTIONS = (
    ("advice_zh.png", "想要一支适合约会的豆沙色口红，不要太亮"),
    ("advice_en.png", "a natural office look, nothing shimmery, lipstick under $30"),
)


def ask_the_advisor(client: Client, face_id: str) -> None:
    """The beauty advisor (Advise): a question in each language, the answer painted on the
    portrait (out/advice_*.png), and a follow-up that refines the first."""
    for name, question in QUESTIONS:
        answer = client.advise(question, face_id=face_id, render=True, k=3)
        print(f"\nAdvise: {question}\n  {answer.reply}")
        if answer.image.data:
            (OUT / name).write_bytes(answer.image.data)
            print(f"  wrote {OUT / name}")
    follow = client.advise("换个哑光的", history=[("shopper", QUESTIONS[0][1])], k=3)
    print(f"\nAdvise (follow-up): 换个哑光的\n  {follow.reply}")


def print_studio_url(client: Client, product: types_pb2.Application | None) -> None:
    """The web studio's address for this tenant: a publishable key bound to the studio's own
    origin (kept in var/ and reused while it is live; the secret key never leaves this script)."""
    web = f"http://{os.environ.get('TRYON_WEB_ADDR', '127.0.0.1:8080')}"
    key_path = ROOT / "var" / "demo_publishable_key"
    key = key_path.read_text().strip() if key_path.exists() else ""
    if key:
        try:
            with Client(api_key=key) as browser_like:
                if web not in browser_like.describe_publishable_key().allowed_origins:
                    key = ""
        except grpc.RpcError:
            key = ""  # revoked, or another database
    if not key:
        key = client.create_publishable_key([web], label="make demo").key
        key_path.write_text(key)
        key_path.chmod(0o600)
    query = f"key={key}" + (f"&product={product.product_id}&shade={product.shade_id}"
                            if product else "")  # fmt: skip
    print(f"\nWeb studio (live camera, photo, catalog, shade finder, recommendations):\n"
          f"  {web}/studio?{query}")  # fmt: skip
    print(f'  embed on a product page: <script src="{web}/embed.js" data-key="{key}" '
          f'data-product="PRODUCT_ID" async></script>  (origins: tryon keys create --origin)')


def report_geometry(image_path: Path, geometry, first_ms: float, cached_ms: float) -> None:  # type: ignore[no-untyped-def]
    doc = geometry_to_dict(geometry)
    (OUT / "reconstruct.json").write_text(json.dumps(doc))
    bgr = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
    for face in doc["faces"]:
        bgr = draw_face_mesh(bgr, np.asarray(face["landmarks"], dtype=np.float32))
    cv2.imwrite(str(OUT / "mesh.png"), bgr)

    print(
        f"\nReconstruct {image_path.name} ({doc['image_width']}x{doc['image_height']}): "
        f"{len(doc['faces'])} face(s) in {first_ms:.0f} ms, {cached_ms:.0f} ms cached"
    )
    for i, face in enumerate(doc["faces"]):
        tone, pose = face["skin_tone"], face["pose"]
        print(
            f"  face {i}: {len(face['landmarks'])} landmarks, confidence {face['confidence']:.2f}, "
            f"yaw {pose['yaw']:+.1f} pitch {pose['pitch']:+.1f} roll {pose['roll']:+.1f} deg"
        )
        print(
            f"          skin {tone['hex']}  ITA {tone['ita_degrees']:.1f} deg  "
            f"Monk {tone['monk_bucket']}  undertone {tone['undertone']}"
        )
    print(f"  wrote {OUT / 'mesh.png'} and {OUT / 'reconstruct.json'}")


def stream_video(client: Client, look: list[types_pb2.Application], sheet_frames: int = 5) -> None:
    """The clip through StreamTryOn wearing the look, frame by frame like a camera app would,
    with flow control so nothing is dropped: out/stream.mp4 (H.264, plays in browsers) and a
    contact sheet (before on top, after below) of frames spread over the clip."""
    if not CLIP.is_file():
        print(f"StreamTryOn: skipped, no clip at {CLIP} (set TRYON_SHARED_DATA)")
        return
    frames, fps, (width, height) = read_video(CLIP)
    total = imageio_ffmpeg.count_frames_and_secs(str(CLIP))[0]
    picked = {round(i * (total - 1) / (sheet_frames - 1)) for i in range(sheet_frames)}
    originals: dict[int, np.ndarray] = {}  # sent, not yet written
    sent_at: dict[int, float] = {}

    def jpegs():  # type: ignore[no-untyped-def]
        for i, rgb in enumerate(frames):
            originals[i] = rgb
            bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
            data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
            sent_at[i] = time.perf_counter()
            yield data

    before: dict[int, np.ndarray] = {}
    after: dict[int, np.ndarray] = {}
    latencies: list[float] = []
    dropped = failed = written = 0
    previous: np.ndarray | None = None
    begin = time.perf_counter()
    with VideoWriter(OUT / "stream.mp4", fps, (width, height)) as writer:
        for reply in client.stream_try_on(jpegs(), look, fps=fps, window=2):
            latencies.append((time.perf_counter() - sent_at.pop(reply.sequence)) * 1000)
            dropped += reply.dropped_before
            made_up = None
            if reply.HasField("error"):
                failed += 1
                print(f"  frame {reply.sequence}: {reply.error.message}")
            else:
                bgr = cv2.imdecode(np.frombuffer(reply.image.data, np.uint8), cv2.IMREAD_COLOR)
                made_up = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            # Frames skipped or failed repeat the previous made-up one: the clip keeps its timing.
            while written <= reply.sequence:
                original = originals.pop(written)
                shown = made_up if written == reply.sequence and made_up is not None else previous
                shown = original if shown is None else shown
                writer.write(shown)
                if written in picked:
                    before[written], after[written] = original, shown
                written += 1
            previous = made_up if made_up is not None else previous
    elapsed = time.perf_counter() - begin
    if before:
        order = sorted(before)
        sheet = contact_sheet([before[i] for i in order], [after[i] for i in order])
        cv2.imwrite(str(OUT / "stream_contact_sheet.png"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    latencies.sort()
    p50 = latencies[len(latencies) // 2] if latencies else 0.0
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0
    print(
        f"\nStreamTryOn {CLIP.name} ({width}x{height}, {total} frames at {fps:g} fps) wearing "
        f"the {len(look)}-product look: {len(latencies) / elapsed:.1f} fps, latency p50 "
        f"{p50:.0f} ms p99 {p99:.0f} ms (send to reply), {dropped} dropped, {failed} failed"
    )
    print(f"  wrote {OUT / 'stream.mp4'} (H.264) and {OUT / 'stream_contact_sheet.png'}")


def contact_sheet(top: list[np.ndarray], bottom: list[np.ndarray], height: int = 200) -> np.ndarray:
    """Frames side by side, `top` row over `bottom` row, each scaled to `height` pixels."""

    def row(frames: list[np.ndarray]) -> np.ndarray:
        scaled = [
            cv2.resize(f, (round(f.shape[1] * height / f.shape[0]), height),
                       interpolation=cv2.INTER_AREA)
            for f in frames
        ]  # fmt: skip
        return np.hstack(scaled)

    return np.vstack([row(top), row(bottom)])


if __name__ == "__main__":
    sys.exit(main())
