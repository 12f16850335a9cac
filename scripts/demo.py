"""`make demo`: a real portrait through the running stack, like a partner would.

Reconstruct (out/reconstruct.json, out/mesh.png), then a foundation shade match and skin-aware
picks per category (Recommend), a full look of those picks on the face (TryOn: out/look.png,
before | after), and recommendations for the shopper (out/recommendations.json)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from google.protobuf.json_format import MessageToDict

from tryon import Client, geometry_to_dict
from tryon.drawing import draw_face_mesh
from tryon.v1 import types_pb2

ROOT = Path(__file__).resolve().parents[1]
PORTRAIT = ROOT / "tests" / "data" / "obama.jpg"
OUT = ROOT / "out"
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


def try_on_full_look(client: Client, face_id: str) -> None:
    """Picks each product by Recommend (skin-aware), paints them all with TryOn."""
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
            try_on_full_look(client, geometry.face_id)
            recommendations(client, geometry.face_id)
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
