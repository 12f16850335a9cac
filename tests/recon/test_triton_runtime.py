"""`TritonRuntime` against a REAL Triton server (2.51, CPU, Python backend, from the
nvidia-pytriton wheel) and against in-process `OnnxRuntime`: same tensors, same numbers.

The server serves the committed deploy/triton/python_backend configs and model.py on the ONNX
files in models/ (symlinked into a temp repository, so a stale copy can never be tested).
Needs `make models` and `make triton` first; it fails, never skips, when they did not run.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import cv2
import numpy as np
import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from services.recon.face_landmarker import FaceLandmarker
from services.recon.runtime import (
    FACE_DETECTOR,
    FACE_LANDMARKS_DETECTOR,
    MODEL_NAMES,
    create_runtime,
    default_model_dir,
)
from services.recon.runtime.onnx_runtime import OnnxRuntime
from services.recon.runtime.triton_runtime import TritonRuntime, TritonUnavailableError
from services.recon.runtime.triton_server import (
    TritonServer,
    free_ports,
)

ROOT = Path(__file__).resolve().parents[2]
TRITON_DIR = ROOT / "deploy" / "triton"
# Same ONNX file and onnxruntime version on both sides: differences come only from thread
# scheduling of float sums, far below this.
ATOL = 1e-4

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="session")
def triton(triton_server: TritonServer) -> Iterator[TritonRuntime]:
    runtime = TritonRuntime(triton_server.grpc_url)
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def onnx() -> Iterator[OnnxRuntime]:
    runtime = OnnxRuntime(default_model_dir(), threads=1)
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def face_rgb(shared_data: Path) -> np.ndarray:
    path = shared_data / "faces" / "portraits" / "obama.jpg"
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, f"cannot read {path}"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def letterbox(image: np.ndarray) -> np.ndarray:
    """Pads to a square with black borders, as the detector expects (no distortion)."""
    h, w = image.shape[:2]
    side = max(h, w)
    canvas = np.zeros((side, side, 3), image.dtype)
    canvas[(side - h) // 2 : (side - h) // 2 + h, (side - w) // 2 : (side - w) // 2 + w] = image
    return canvas


def anchor_centers() -> np.ndarray:
    """Centres (x, y) in [0, 1] of the short-range detector's 896 anchors (16x16x2, 8x8x6)."""
    centers = []
    for grid, per_cell in ((16, 2), (8, 6)):
        ys, xs = np.meshgrid((np.arange(grid) + 0.5) / grid, (np.arange(grid) + 0.5) / grid,
                             indexing="ij")  # fmt: skip
        centers.append(np.repeat(np.stack([xs.ravel(), ys.ravel()], axis=1), per_cell, axis=0))
    return np.concatenate(centers)


def detector_input(image: np.ndarray) -> np.ndarray:
    square = cv2.resize(letterbox(image), (128, 128), interpolation=cv2.INTER_AREA)
    return square.astype(np.float32) / 127.5 - 1.0


def landmarks_input(image: np.ndarray, runtime: OnnxRuntime) -> np.ndarray:
    """Axis-aligned crop around the best detection, 1.5x its box: a real face crop, without
    the rotation of the full pipeline (not needed to compare two runtimes)."""
    out = runtime.infer(FACE_DETECTOR, {"image": detector_input(image)[None]})
    best = int(np.argmax(out["classificators"].reshape(-1)))
    box = out["regressors"].reshape(-1, 16)[best]
    cx, cy = anchor_centers()[best] + box[:2] / 128.0
    half = float(box[2:4].max()) / 128.0 * 1.5 / 2
    canvas = letterbox(image)
    side = canvas.shape[0]
    x0, x1, y0, y1 = (int(round(v * side)) for v in (cx - half, cx + half, cy - half, cy + half))
    padded = np.pad(canvas, ((side, side), (side, side), (0, 0)))
    crop = padded[y0 + side : y1 + side, x0 + side : x1 + side]
    return cv2.resize(crop, (256, 256), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


@pytest.fixture(scope="session")
def model_inputs(face_rgb: np.ndarray, onnx: OnnxRuntime) -> dict[str, np.ndarray]:
    """Per model, a batch of 3 real, different images (face, mirrored face, darker face)."""
    mirrored = np.ascontiguousarray(face_rgb[:, ::-1])
    variants = [face_rgb, mirrored, (face_rgb * 0.6).astype(np.uint8)]
    return {
        FACE_DETECTOR: np.stack([detector_input(v) for v in variants]),
        FACE_LANDMARKS_DETECTOR: np.stack([landmarks_input(v, onnx) for v in variants]),
    }


def assert_same(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert set(got) == set(want)
    for name in want:
        assert got[name].shape == want[name].shape, name
        assert got[name].dtype == want[name].dtype, name
        np.testing.assert_allclose(got[name], want[name], rtol=0, atol=ATOL, err_msg=name)


@pytest.mark.parametrize("model", MODEL_NAMES)
@pytest.mark.parametrize("batch", [1, 3])
def test_triton_matches_onnxruntime(
    triton: TritonRuntime,
    onnx: OnnxRuntime,
    model_inputs: dict[str, np.ndarray],
    model: str,
    batch: int,
) -> None:
    inputs = {"image": np.ascontiguousarray(model_inputs[model][:batch])}
    want = onnx.infer(model, inputs)
    got = triton.infer(model, inputs)
    assert_same(got, want)
    # Batch rows are independent: row i of a batch equals a batch of just row i.
    if batch > 1:
        single = triton.infer(model, {"image": inputs["image"][1:2]})
        for name in got:
            np.testing.assert_allclose(got[name][1:2], single[name], rtol=0, atol=ATOL)


def test_outputs_are_plausible(triton: TritonRuntime, model_inputs: dict[str, np.ndarray]) -> None:
    """Guards against matching garbage: the face is found and its landmarks lie in the crop."""
    det = triton.infer(FACE_DETECTOR, {"image": model_inputs[FACE_DETECTOR][:1]})
    assert float(det["classificators"].max()) > 0.0  # logit > 0: probability > 0.5
    out = triton.infer(
        FACE_LANDMARKS_DETECTOR, {"image": model_inputs[FACE_LANDMARKS_DETECTOR][:1]}
    )
    points = out["landmarks"].reshape(478, 3)
    assert float(out["presence_logit"].ravel()[0]) > 0.0
    assert points[:, :2].min() > 0 and points[:, :2].max() < 256


def test_concurrent_requests_are_batched_and_split_back(
    triton_server: TritonServer,
    onnx: OnnxRuntime,
    model_inputs: dict[str, np.ndarray],
) -> None:
    """Many single-image requests at once: the dynamic batcher merges them into one
    execute(), model.py runs them as one batch, and every caller still gets its own rows."""
    model = FACE_LANDMARKS_DETECTOR
    rng = np.random.default_rng(7)
    base = model_inputs[model]
    images = [
        np.clip(base[i % len(base)] + rng.normal(0, 0.02, base.shape[1:]), 0, 1).astype(np.float32)
        for i in range(12)
    ]
    # One client per thread, as separate pipeline workers would have, all connected and
    # metadata-primed first; the barrier then releases every request at once.
    runtimes = [TritonRuntime(triton_server.grpc_url) for _ in images]
    for runtime in runtimes:
        runtime.infer(model, {"image": images[0][None]})

    def call(runtime: TritonRuntime, image: np.ndarray, barrier: Barrier) -> dict[str, np.ndarray]:
        barrier.wait(timeout=30)
        return runtime.infer(model, {"image": image[None]})

    # Whether requests coincide within the batcher's 200 µs window depends on the machine's
    # load at that instant: up to three bursts, and one must have been batched.
    bursts = []
    for _ in range(3):
        stats_before = _execution_counts(triton_server, model)
        barrier = Barrier(len(images))
        with ThreadPoolExecutor(max_workers=len(images)) as pool:
            results = list(pool.map(call, runtimes, images, [barrier] * len(images)))
        for image, got in zip(images, results, strict=True):
            assert_same(got, onnx.infer(model, {"image": image[None]}))
        inferences, executions = (
            after - before
            for after, before in zip(_execution_counts(triton_server, model), stats_before,
                                     strict=True)
        )  # fmt: skip
        assert inferences == len(images)
        bursts.append((inferences, executions))
        # Fewer model executions than inferences: requests really were batched together.
        if executions < inferences:
            break
    for runtime in runtimes:
        runtime.close()
    assert bursts[-1][1] < bursts[-1][0], bursts


def _execution_counts(server: TritonServer, model: str) -> tuple[int, int]:
    import tritonclient.grpc as grpcclient

    with grpcclient.InferenceServerClient(server.grpc_url) as client:
        stats = client.get_inference_statistics(model, as_json=True)["model_stats"][0]
    return int(stats.get("inference_count", 0)), int(stats.get("execution_count", 0))


def test_unreachable_url_gives_clear_error() -> None:
    url = f"127.0.0.1:{free_ports(1)[0]}"  # nothing listens there
    with pytest.raises(TritonUnavailableError, match=rf"Triton at {url} is not reachable"):
        TritonRuntime(url, timeout_s=2.0)


def test_unknown_model_gives_clear_error(triton: TritonRuntime) -> None:
    with pytest.raises(TritonUnavailableError, match="cannot serve model 'no_such_model'"):
        triton.infer("no_such_model", {"image": np.zeros((1, 4), np.float32)})


def test_wrong_inputs_are_rejected(triton: TritonRuntime) -> None:
    with pytest.raises(ValueError, match="takes inputs"):
        triton.infer(FACE_DETECTOR, {"pixels": np.zeros((1, 128, 128, 3), np.float32)})
    with pytest.raises(ValueError, match="expected float32"):
        triton.infer(FACE_DETECTOR, {"image": np.zeros((1, 128, 128, 3), np.float64)})


def test_create_runtime_picks_triton_when_url_set(
    triton_server: TritonServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRITON_URL", triton_server.grpc_url)
    runtime = create_runtime()
    try:
        assert isinstance(runtime, TritonRuntime)
    finally:
        runtime.close()


# --- the full recon pipeline --------------------------------------------------------------


@pytest.mark.parametrize(("image_name", "faces"), [("obama.jpg", 1), ("two_people.jpg", 2)])
def test_face_landmarker_through_triton_matches_onnxruntime(
    triton: TritonRuntime, onnx: OnnxRuntime, shared_data: Path, image_name: str, faces: int
) -> None:
    """The whole pipeline (detect, rotate-crop, landmarks, project back) cannot tell the two
    runtimes apart; two faces go to the landmarks model as one batch of 2."""
    image = cv2.cvtColor(
        cv2.imread(str(shared_data / "faces" / "portraits" / image_name), cv2.IMREAD_COLOR),
        cv2.COLOR_BGR2RGB,
    )
    want = FaceLandmarker(onnx).detect(image, max_faces=4)
    got = FaceLandmarker(triton).detect(image, max_faces=4)
    assert len(want) == faces
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.landmarks.shape == (478, 3)
        # Pixels of the input image: 1e-3 px is float noise, far below any visible effect.
        np.testing.assert_allclose(g.landmarks, w.landmarks, rtol=0, atol=1e-3)
        assert g.confidence == pytest.approx(w.confidence, abs=1e-5)


# --- the committed model repositories -------------------------------------------------------


def load_config(path: Path) -> model_config_pb2.ModelConfig:
    return text_format.Parse(path.read_text(), model_config_pb2.ModelConfig())


def tensor_spec(tensors: object) -> list[tuple[str, int, list[int]]]:
    return [(t.name, t.data_type, list(t.dims)) for t in tensors]  # type: ignore[attr-defined]


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_repository_configs_match_onnx(onnx: OnnxRuntime, model: str) -> None:
    """Both repositories declare the ONNX file's exact tensors (batch dim excluded), and the
    same batching; they differ only in backend and device."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(default_model_dir() / f"{model}.onnx"))
    onnx_to_triton = {"tensor(float)": model_config_pb2.TYPE_FP32}
    want_in = [(i.name, onnx_to_triton[i.type], list(i.shape[1:])) for i in session.get_inputs()]
    want_out = [(o.name, onnx_to_triton[o.type], list(o.shape[1:])) for o in session.get_outputs()]

    gpu = load_config(TRITON_DIR / "model_repository" / model / "config.pbtxt")
    cpu = load_config(TRITON_DIR / "python_backend" / model / "config.pbtxt")
    for config in (gpu, cpu):
        assert config.name == model
        assert tensor_spec(config.input) == want_in
        assert tensor_spec(config.output) == want_out
        assert config.max_batch_size >= 8
        assert config.HasField("dynamic_batching")
    assert gpu.backend == "onnxruntime" and cpu.backend == "python"
    assert [g.kind for g in gpu.instance_group] == [model_config_pb2.ModelInstanceGroup.KIND_GPU]
    assert [g.kind for g in cpu.instance_group] == [model_config_pb2.ModelInstanceGroup.KIND_CPU]
    assert gpu.max_batch_size == cpu.max_batch_size
    assert (
        gpu.dynamic_batching.max_queue_delay_microseconds
        == cpu.dynamic_batching.max_queue_delay_microseconds
    )


def test_python_backend_model_files_are_identical() -> None:
    """One model.py serves every model; the copies must not drift apart."""
    repo = TRITON_DIR / "python_backend"
    sources = {(repo / m / "1" / "model.py").read_text() for m in MODEL_NAMES}
    assert len(sources) == 1
