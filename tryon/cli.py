"""`tryon` command-line tool: talks to the gateway like any partner would."""

from __future__ import annotations

import argparse
import json
import math
import mimetypes
import sys
import time
from pathlib import Path

import grpc
from google.protobuf.json_format import MessageToDict

from tryon._client import Client, geometry_to_dict, undertone_name
from tryon.v1 import types_pb2

CATEGORIES = [
    name.removeprefix("PRODUCT_CATEGORY_").lower()
    for name in types_pb2.ProductCategory.keys()
    if name != "PRODUCT_CATEGORY_UNSPECIFIED"
]
JOB_STATES = {v: k.removeprefix("JOB_STATE_").lower() for k, v in types_pb2.JobState.items()}
TERMINAL = {
    types_pb2.JOB_STATE_SUCCEEDED,
    types_pb2.JOB_STATE_FAILED,
    types_pb2.JOB_STATE_CANCELLED,
}


def _category(name: str) -> int:
    return types_pb2.ProductCategory.Value(f"PRODUCT_CATEGORY_{name.upper()}")


def parse_application(spec: str) -> types_pb2.Application:
    """ID[:SHADE][@INTENSITY], e.g. `ysl-rouge-pur-couture:1966@0.8`."""
    spec, _, intensity = spec.partition("@")
    product_id, _, shade_id = spec.partition(":")
    if not product_id:
        raise argparse.ArgumentTypeError(f"{spec!r}: expected ID[:SHADE][@INTENSITY]")
    try:
        value = float(intensity) if intensity else 1.0
    except ValueError:
        raise argparse.ArgumentTypeError(f"intensity {intensity!r} is not a number") from None
    return types_pb2.Application(product_id=product_id, shade_id=shade_id, intensity=value)


def _reconstruct(client: Client, args: argparse.Namespace) -> int:
    geometry = client.reconstruct(args.image, max_faces=args.max_faces)
    if args.json:
        json.dump(geometry_to_dict(geometry), sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(
        f"{args.image}: {geometry.image_width}x{geometry.image_height}, "
        f"{len(geometry.faces)} face(s), face_id {geometry.face_id} "
        f"(expires in {geometry.expires_in_seconds} s)"
    )
    if not geometry.faces:
        print("  no face found: use a photo where the whole face is visible and lit")
    for i, face in enumerate(geometry.faces):
        b, p, t = face.box, face.pose, face.skin_tone
        print(
            f"  face {i}: box {b.width:.0f}x{b.height:.0f} at ({b.x_min:.0f},{b.y_min:.0f}), "
            f"confidence {face.confidence:.2f}, {len(face.landmarks)} landmarks"
        )
        print(f"          pose pitch {p.pitch:+.1f} yaw {p.yaw:+.1f} roll {p.roll:+.1f} deg")
        print(
            f"          skin {t.hex} L*a*b* ({t.lab_l:.1f}, {t.lab_a:.1f}, {t.lab_b:.1f}), "
            f"ITA {t.ita_degrees:.1f} deg, Monk {t.monk_bucket}, "
            f"undertone {undertone_name(t.undertone)}"
        )
    return 0


def _try_on(client: Client, args: argparse.Namespace) -> int:
    content_type = mimetypes.guess_type(args.out)[0] or "image/jpeg"
    source = {"face_id": args.image} if args.face_id else {"image": args.image}
    response = client.try_on(
        look=args.product, output_content_type=content_type, side_by_side=args.side_by_side,
        face_index=args.face_index, user_id=args.user_id, **source,
    )  # fmt: skip
    Path(args.out).write_bytes(response.image.data)
    geometry = response.geometry
    print(f"wrote {args.out} ({response.image.content_type}, {len(response.image.data)} bytes): "
          f"{len(args.product)} product(s) on {len(geometry.faces)} face(s); "
          f"face_id {geometry.face_id} for further try-ons")  # fmt: skip
    return 0


def _products(client: Client, args: argparse.Namespace) -> int:
    filters: dict[str, object] = {"page_size": args.limit}
    if args.brand:
        filters["brand"] = args.brand
    if args.category:
        filters["category"] = _category(args.category)
    if args.colour:
        filters["colour_family"] = args.colour
    if args.query:
        filters["query"] = args.query
    response = client.list_products(**filters)
    if args.json:
        json.dump([MessageToDict(p, preserving_proto_field_name=True) for p in response.products],
                  sys.stdout)  # fmt: skip
        sys.stdout.write("\n")
        return 0
    for p in response.products:
        shades = ", ".join(f"{s.shade_id} {s.hex}" for s in p.shades[:4])
        more = f" (+{len(p.shades) - 4})" if len(p.shades) > 4 else ""
        category = types_pb2.ProductCategory.Name(p.category).removeprefix("PRODUCT_CATEGORY_")
        print(f"{p.product_id:50s} {category.lower():11s} {p.brand[:20]:20s} {shades}{more}")
    if response.next_page_token:
        print("... more: raise --limit (max 500) or filter by --brand/--category")
    return 0


def _progress_bar(job: types_pb2.Job, width: int = 40) -> str:
    finished = job.done + job.failed
    fraction = finished / job.total if job.total else 1.0
    filled = int(round(width * fraction))
    return (f"\r[{'#' * filled}{'.' * (width - filled)}] {finished}/{job.total} "
            f"({job.failed} failed) {JOB_STATES[job.state]:9s}")  # fmt: skip


def _rerender(client: Client, args: argparse.Namespace) -> int:
    if args.cancel:
        job = client.cancel_job(args.cancel)
        print(f"job {job.job_id}: {JOB_STATES[job.state]}")
        return 0
    job = client.rerender_catalog(
        brands=args.brand, categories=[_category(c) for c in args.category],
        product_ids=args.product, reference_face_ids=args.reference_face_id,
    )  # fmt: skip
    print(f"job {job.job_id}: outputs in {job.output_uri or '(pending)'}")
    if args.no_wait:
        return 0
    while True:
        sys.stderr.write(_progress_bar(job))
        sys.stderr.flush()
        if job.state in TERMINAL:
            sys.stderr.write("\n")
            break
        time.sleep(0.5)
        job = client.get_job(job.job_id)
    if job.output_uri:
        print(f"outputs: {job.output_uri}")
    return 0 if job.state == types_pb2.JOB_STATE_SUCCEEDED else 1


def _print_recommendations(response, as_json: bool, show_delta_e: bool) -> None:  # type: ignore[no-untyped-def]
    if as_json:
        json.dump(MessageToDict(response, preserving_proto_field_name=True), sys.stdout)
        sys.stdout.write("\n")
        return
    print(f"model {response.model_version}")
    for i, rec in enumerate(response.recommendations, 1):
        shade = next((s for s in rec.product.shades if s.shade_id == rec.shade_id), None)
        colour = f" {shade.hex} {shade.name}" if shade else ""
        delta = f"  ΔE {rec.delta_e:.1f}" if show_delta_e else ""
        print(
            f"{i:3d}. {rec.product.brand} {rec.product.name} [{rec.product.product_id}:"
            f"{rec.shade_id}]{colour}{delta}  score {rec.score:.3f}\n       {rec.reason}"
        )


def _recommend(client: Client, args: argparse.Namespace) -> int:
    face_id = client.reconstruct(args.image).face_id if args.image else ""
    categories = [_category(c) for c in args.category]
    response = client.recommend(user_id=args.user or "", face_id=face_id,
                                categories=categories, k=args.k)  # fmt: skip
    _print_recommendations(response, args.json, show_delta_e=False)
    return 0


def _ask(client: Client, args: argparse.Namespace) -> int:
    """One question to the advisor; --image paints the answer on that selfie."""
    face_id = client.reconstruct(args.image).face_id if args.image else ""
    history = [("shopper", text) for text in args.before]
    render = bool(face_id and args.out)
    response = client.advise(args.message, face_id=face_id, user_id=args.user or "",
                             history=history, render=render, k=args.k)  # fmt: skip
    if args.out and response.image.data:
        Path(args.out).write_bytes(response.image.data)
    if args.json:
        doc = MessageToDict(response, preserving_proto_field_name=True)
        doc.pop("image", None)
        json.dump(doc, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    print(response.reply)
    for r in response.products:
        shade = next((s for s in r.product.shades if s.shade_id == r.shade_id), None)
        print(f"  {r.product.brand} {r.product.name}"
              + (f", {shade.name} {shade.hex}" if shade else "") + f": {r.reason}")  # fmt: skip
    if args.out and response.image.data:
        print(f"wrote {args.out}")
    return 0


def _shade_match(client: Client, args: argparse.Namespace) -> int:
    geometry = client.reconstruct(args.image)
    if not geometry.faces:
        print("no face found: use a photo where the whole face is visible and lit")
        return 1
    category = [_category(args.category)]
    response = client.recommend(face_id=geometry.face_id, categories=category, k=args.k)
    if not args.json:
        tone = geometry.faces[0].skin_tone
        print(f"skin {tone.hex} (L* {tone.lab_l:.1f} a* {tone.lab_a:.1f} b* {tone.lab_b:.1f}), "
              f"Monk {tone.monk_bucket}, {undertone_name(tone.undertone)} undertone")  # fmt: skip
    _print_recommendations(response, args.json, show_delta_e=True)
    return 0


def _print_key(key) -> None:  # type: ignore[no-untyped-def]
    created = key.created_at.ToDatetime().strftime("%Y-%m-%d %H:%M")
    state = "active"
    if key.HasField("revoked_at"):
        state = "revoked " + key.revoked_at.ToDatetime().strftime("%Y-%m-%d %H:%M")
    label = f"  {key.label!r}" if key.label else ""
    print(f"{key.key_id}  {state:24s} {key.requests_per_minute:6d}/min  created {created}"
          f"{label}\n    origins: {', '.join(key.allowed_origins)}")  # fmt: skip


def _keys_create(client: Client, args: argparse.Namespace) -> int:
    key = client.create_publishable_key(args.origin, requests_per_minute=args.rpm,
                                        label=args.label)  # fmt: skip
    if args.json:
        json.dump(MessageToDict(key, preserving_proto_field_name=True), sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(f"publishable key: {key.key}")
    print("(shown this once: put it in your web pages; it can only try on, read the catalog, "
          "recommend and record events)")  # fmt: skip
    print(f"key_id: {key.key_id} (to list or revoke it)")
    print(f"origins: {', '.join(key.allowed_origins)}; {key.requests_per_minute} requests/min")
    return 0


def _keys_list(client: Client, args: argparse.Namespace) -> int:
    keys = client.list_publishable_keys()
    if args.json:
        json.dump([MessageToDict(k, preserving_proto_field_name=True) for k in keys], sys.stdout)
        sys.stdout.write("\n")
        return 0
    if not keys:
        print("no publishable keys: create one with `tryon keys create --origin https://...`")
    for key in keys:
        _print_key(key)
    return 0


def _keys_revoke(client: Client, args: argparse.Namespace) -> int:
    key = client.revoke_publishable_key(args.key_id)
    print(f"{key.key_id} revoked (every gateway refuses it within seconds)")
    return 0


def _catalog_import(client: Client | None, args: argparse.Namespace) -> int:
    """A partner's catalog file (CSV or JSON) upserted in batches; every rejected row, why."""
    from tryon.catalog_import import load, new_report, upsert

    parsed = load(args.file)
    report = new_report(parsed, args.file, dry_run=args.dry_run)
    if client is not None and not args.dry_run and parsed.products:
        try:
            upsert(client.upsert_products, parsed, report)
        except grpc.RpcError:
            print(f"tryon: stopped after {report.upserted} of {report.valid} products were "
                  "upserted; importing the file again is safe (unchanged products are skipped)",
                  file=sys.stderr)  # fmt: skip
            raise
    if args.json:
        json.dump(report.to_dict(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 1 if report.rejected else 0
    unit = "rows" if report.format == "csv" else "products"
    print(f"{args.file}: {report.format.upper()}, {report.rows} {unit}, {report.products} "
          f"products: {report.valid} valid, {len(report.rejected)} {unit} rejected")  # fmt: skip
    if args.dry_run:
        print(f"dry run: {report.valid} products would be upserted; nothing was sent")
    elif report.valid:
        print(f"upserted {report.upserted} products in {report.calls} call(s): "
              f"{report.created} created, {report.updated} updated, "
              f"{report.unchanged} unchanged")  # fmt: skip
    for r in report.rejected:
        print(f"  {r.where:<12s} {r.product_id or '-'}: {r.reason}")
    return 1 if report.rejected else 0


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


TIMING_FIELDS = ("decode", "detect", "landmarks", "smooth", "render", "encode", "worker", "total")


def _stream(client: Client, args: argparse.Namespace) -> int:
    """A video file through StreamTryOn, written back as an H.264 MP4 at the source rate."""
    import cv2
    import numpy as np

    from tryon.video import VideoWriter, read_video

    frames, fps, (width, height) = read_video(args.video)
    originals: dict[int, np.ndarray] = {}  # frames sent and not yet written
    sent_at: dict[int, float] = {}
    sent = 0

    def source():  # type: ignore[no-untyped-def]
        # Runs on gRPC's sending thread; the client pulls a frame only when it may send it.
        nonlocal sent
        begin = time.perf_counter()
        for i, rgb in enumerate(frames):
            if args.realtime:  # a camera: frame i exists at i / fps, whatever the server does
                delay = begin + i / fps - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            originals[i] = rgb
            if args.raw:
                payload: np.ndarray | bytes = rgb
            else:
                bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
                payload = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
            sent_at[i] = time.perf_counter()
            sent += 1
            yield payload

    latencies: list[float] = []
    timings: dict[str, list[float]] = {name: [] for name in TIMING_FIELDS}
    received = failed = tracked = 0
    last_made_up: np.ndarray | None = None
    next_to_write = 0
    begin = time.perf_counter()
    out_size = (width * 2 if args.side_by_side else width, height)
    with VideoWriter(args.out, fps, out_size) as writer:

        def emit(upto: int, made_up: np.ndarray | None) -> None:
            # Writes frames next_to_write..upto: skipped ones repeat the last made-up frame
            # (the original before there is one) so the video keeps its timing.
            nonlocal next_to_write
            while next_to_write <= upto:
                original = originals.pop(next_to_write)
                shown = made_up if next_to_write == upto and made_up is not None else last_made_up
                shown = original if shown is None else shown
                writer.write(np.hstack([original, shown]) if args.side_by_side else shown)
                next_to_write += 1

        replies = client.stream_try_on(
            source(), args.product, max_faces=args.max_faces, fps=fps,
            window=None if args.realtime else 2,
        )  # fmt: skip
        for reply in replies:
            now = time.perf_counter()
            received += 1
            latencies.append((now - sent_at.pop(reply.sequence, now)) * 1000)
            for stale in [s for s in sent_at if s < reply.sequence]:
                del sent_at[stale]
            made_up = None
            if reply.HasField("error"):
                failed += 1
                print(f"frame {reply.sequence}: {reply.error.message}", file=sys.stderr)
            else:
                tracked += reply.tracked
                for name in TIMING_FIELDS:
                    timings[name].append(getattr(reply.timings, f"{name}_ms"))
                data = np.frombuffer(reply.image.data, dtype=np.uint8)
                bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
                if bgr is not None:
                    if bgr.shape[:2] != (height, width):
                        bgr = cv2.resize(bgr, (width, height), interpolation=cv2.INTER_AREA)
                    made_up = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            emit(reply.sequence, made_up)
            if made_up is not None:
                last_made_up = made_up
        elapsed = time.perf_counter() - begin
        emit(sent - 1, None)  # frames after the last reply were dropped too
    stats = {
        "out": str(args.out),
        "fps_source": fps,
        "frames_sent": sent,
        "frames_received": received,
        "frames_dropped": sent - received,
        "frames_failed": failed,
        "frames_tracked": tracked,
        "throughput_fps": received / elapsed if elapsed > 0 else 0.0,
        "latency_ms": {"p50": _percentile(latencies, 50), "p99": _percentile(latencies, 99)},
        "server_mean_ms": {name: (sum(v) / len(v) if v else 0.0) for name, v in timings.items()},
    }
    if args.json:
        json.dump(stats, sys.stdout)
        sys.stdout.write("\n")
    else:
        lat, mean = stats["latency_ms"], stats["server_mean_ms"]
        print(f"wrote {args.out} ({width * (2 if args.side_by_side else 1)}x{height}, "
              f"{next_to_write} frames at {fps:g} fps, H.264)")  # fmt: skip
        print(f"frames: {sent} sent, {received} received, {sent - received} dropped, "
              f"{failed} failed, {tracked} tracked (no detector)")  # fmt: skip
        print(f"throughput {stats['throughput_fps']:.1f} fps, latency p50 {lat['p50']:.0f} ms "
              f"p99 {lat['p99']:.0f} ms (send to reply)")  # fmt: skip
        print("server mean ms: " + ", ".join(f"{k} {v:.1f}" for k, v in mean.items()))
    return 0 if received > failed or sent == 0 else 1


def _add_look(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--product",
        "-p",
        action="append",
        type=parse_application,
        required=True,
        metavar="ID[:SHADE][@INTENSITY]",
        help="repeat for a look, painted in order",
    )


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

    tri = sub.add_parser("try-on", help="render products on a selfie")
    tri.add_argument("image", help="the selfie (or a face_id with --face-id)")
    _add_look(tri)
    tri.add_argument("--out", "-o", required=True, help="output file (.jpg, .png or .webp)")
    tri.add_argument("--face-id", action="store_true", help="IMAGE is a face_id")
    tri.add_argument("--side-by-side", action="store_true", help="original | result")
    tri.add_argument("--face-index", type=int, help="only this face (largest first)")
    tri.add_argument("--user-id", default="", help="record a try-on event for this shopper")
    tri.set_defaults(run=_try_on)

    stream = sub.add_parser("stream", help="a video through live try-on (StreamTryOn)")
    stream.add_argument("video", help="the clip (anything ffmpeg reads: MP4, MOV, WebM...)")
    _add_look(stream)
    stream.add_argument("--out", "-o", required=True, help="made-up video (H.264 MP4)")
    stream.add_argument("--max-faces", type=int, default=0, help="0: server default")
    stream.add_argument(
        "--realtime",
        action="store_true",
        help="send at the video's frame rate like a camera (the server may drop frames; a "
        "dropped frame repeats the previous made-up one); default: as fast as the server "
        "renders, nothing dropped",
    )
    stream.add_argument("--side-by-side", action="store_true", help="original | made-up")
    stream.add_argument("--raw", action="store_true", help="send raw RGB frames, not JPEG q90")
    stream.add_argument("--json", action="store_true", help="print the figures as one JSON")
    stream.set_defaults(run=_stream)

    prod = sub.add_parser("products", help="list catalog products")
    prod.add_argument("--brand")
    prod.add_argument("--category", choices=CATEGORIES)
    prod.add_argument("--colour", help="colour family, e.g. red, nude, pink, deep")
    prod.add_argument(
        "--query", "-q", help="words that must all appear in the brand, name or a shade name"
    )
    prod.add_argument("--limit", type=int, default=50)
    prod.add_argument("--json", action="store_true")
    prod.set_defaults(run=_products)

    rer = sub.add_parser("rerender", help="re-render catalog products on reference faces")
    rer.add_argument("--brand", action="append", default=[])
    rer.add_argument("--category", action="append", default=[], choices=CATEGORIES)
    rer.add_argument("--product", action="append", default=[], metavar="ID")
    rer.add_argument("--reference-face-id", action="append", default=[])
    rer.add_argument("--no-wait", action="store_true", help="print the job id and return")
    rer.add_argument("--cancel", metavar="JOB_ID", help="cancel a running job")
    rer.set_defaults(run=_rerender)

    recm = sub.add_parser("recommend", help="what to buy, for a shopper or a selfie")
    who = recm.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="a shopper id your events use")
    who.add_argument("--image", help="a selfie (cold start: skin-aware picks)")
    recm.add_argument("--category", action="append", default=[], choices=CATEGORIES)
    recm.add_argument("-k", type=int, default=10)
    recm.add_argument("--json", action="store_true")
    recm.set_defaults(run=_recommend)

    shade = sub.add_parser("shade-match", help="nearest foundation shades to a selfie's skin")
    shade.add_argument("image")
    shade.add_argument("-k", type=int, default=5)
    shade.add_argument("--category", default="foundation", choices=["foundation", "concealer"])
    shade.add_argument("--json", action="store_true")
    shade.set_defaults(run=_shade_match)

    ask = sub.add_parser("ask", help="the beauty advisor: a question in Chinese or English")
    ask.add_argument("message", help='e.g. "a natural office look, nothing shimmery"')
    ask.add_argument("--image", help="a selfie: products matched to its skin")
    ask.add_argument("--out", help="write the advised look on the selfie here (needs --image)")
    ask.add_argument("--before", action="append", default=[], metavar="MESSAGE",
                     help="an earlier message of the conversation (repeat, oldest first)")
    ask.add_argument("--user", help="a known shopper id")
    ask.add_argument("-k", type=int, default=0, help="products (1..12, default 6)")
    ask.add_argument("--json", action="store_true", help="the whole answer as JSON")
    ask.set_defaults(run=_ask)

    keys = sub.add_parser("keys", help="publishable keys for web pages (needs your secret key)")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="a new publishable key (printed once)")
    create.add_argument("--origin", action="append", required=True, metavar="URL",
                        help="web origin allowed to use it, e.g. https://shop.example.com "
                        "(repeat, at most 20)")  # fmt: skip
    create.add_argument("--rpm", type=int, default=0, metavar="N",
                        help="requests per minute, 1..100000 (default 0: 600)")  # fmt: skip
    create.add_argument("--label", default="", metavar="TEXT", help="a note for your records")
    create.add_argument("--json", action="store_true")
    create.set_defaults(run=_keys_create)
    listing = keys_sub.add_parser("list", help="your publishable keys (ids, never the keys)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=_keys_list)
    revoke = keys_sub.add_parser("revoke", help="stop a publishable key on every gateway")
    revoke.add_argument("key_id", metavar="KEY_ID", help="pkid_... (from create or list)")
    revoke.set_defaults(run=_keys_revoke)

    catalog = sub.add_parser("catalog", help="your catalog: import a partner file")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True)
    imp = catalog_sub.add_parser(
        "import", help="upsert products from a CSV (one row a shade) or JSON file",
        description="Schema: README, 'Importing a catalog'. Exit 0: all imported; 1: some "
        "rows rejected (each listed with its line and reason); 2: the file is unreadable.",
    )  # fmt: skip
    imp.add_argument("file", metavar="FILE", help=".csv or .json (else sniffed)")
    imp.add_argument("--dry-run", action="store_true", help="check only; needs no server")
    imp.add_argument("--json", action="store_true", help="print the report as one JSON")
    imp.set_defaults(run=_catalog_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "catalog" and args.dry_run:  # a file check: no server, no key
            return args.run(None, args)
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
