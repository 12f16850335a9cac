"""`tryon` command-line tool: talks to the gateway like any partner would."""

from __future__ import annotations

import argparse
import json
import sys

import grpc

from tryon._client import Client, geometry_to_dict, undertone_name


def _reconstruct(client: Client, args: argparse.Namespace) -> int:
    geometry = client.reconstruct(args.image, max_faces=args.max_faces)
    if args.json:
        json.dump(geometry_to_dict(geometry), sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(f"{args.image}: {geometry.image_width}x{geometry.image_height}, "
          f"{len(geometry.faces)} face(s), face_id {geometry.face_id} "
          f"(expires in {geometry.expires_in_seconds} s)")
    if not geometry.faces:
        print("  no face found: use a photo where the whole face is visible and lit")
    for i, face in enumerate(geometry.faces):
        b, p, t = face.box, face.pose, face.skin_tone
        print(f"  face {i}: box {b.width:.0f}x{b.height:.0f} at ({b.x_min:.0f},{b.y_min:.0f}), "
              f"confidence {face.confidence:.2f}, {len(face.landmarks)} landmarks")
        print(f"          pose pitch {p.pitch:+.1f} yaw {p.yaw:+.1f} roll {p.roll:+.1f} deg")
        print(f"          skin {t.hex} L*a*b* ({t.lab_l:.1f}, {t.lab_a:.1f}, {t.lab_b:.1f}), "
              f"ITA {t.ita_degrees:.1f} deg, Monk {t.monk_bucket}, "
              f"undertone {undertone_name(t.undertone)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tryon", description="tryon API client")
    parser.add_argument("--addr", help="gateway host:port (env TRYON_GRPC_ADDR)")
    parser.add_argument("--api-key", help="API key (env TRYON_API_KEY)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("reconstruct", help="faces, 478 3D landmarks, pose and skin tone")
    rec.add_argument("image")
    rec.add_argument("--max-faces", type=int, default=0, help="0: server default")
    rec.add_argument("--json", action="store_true", help="print one JSON object")
    rec.set_defaults(run=_reconstruct)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with Client(args.addr, args.api_key, timeout=args.timeout) as client:
            return args.run(client, args)
    except grpc.RpcError as exc:
        print(f"tryon: {exc.code().name}: {exc.details()}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:
        print(f"tryon: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
