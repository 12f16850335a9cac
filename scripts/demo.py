"""`make demo`: a real portrait through the running stack's Reconstruct, like a partner would.
Writes out/reconstruct.json and out/mesh.png and prints a summary."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from tryon import Client, geometry_to_dict
from tryon.drawing import draw_face_mesh

ROOT = Path(__file__).resolve().parents[1]
PORTRAIT = ROOT / "tests" / "data" / "obama.jpg"
OUT = ROOT / "out"


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
    print(f"  wrote {OUT / 'mesh.png'} and {OUT / 'reconstruct.json'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
