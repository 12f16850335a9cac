"""The recon pipeline on real portraits: detection, landmarks, head pose, runtime, models.

Needs `make models` (fails, never skips, without it) and the shared data set
(TRYON_SHARED_DATA, default ../shared/data). Accuracy against MediaPipe itself is in
test_accuracy_vs_mediapipe.py; these tests check the geometry our own way.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from face_topology import load_canonical_face_model
from services.recon.face_detector import FaceDetector, letterbox_matrix, weighted_nms
from services.recon.face_landmarker import (
    INPUT_NAME,
    NUM_LANDMARKS,
    OUTPUT_LANDMARKS,
    OUTPUT_PRESENCE,
    FaceLandmarker,
    FaceLandmarks,
    crop_faces,
    roi_from_detection,
)
from services.recon.head_pose import euler_from_rotation
from services.recon.runtime import FACE_DETECTOR, FACE_LANDMARKS_DETECTOR, default_model_dir
from services.recon.runtime.onnx_runtime import ModelNotFoundError, OnnxRuntime
from services.recon.ssd_anchors import generate_anchors

# Face-mesh landmark ids (subject's right = image left for a face looking at the camera).
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263
RIGHT_IRIS_CENTER, LEFT_IRIS_CENTER = 468, 473
NOSE_TIP, CHIN, FOREHEAD = 1, 152, 10
UPPER_LIP, LOWER_LIP = 13, 14


@pytest.fixture(scope="module")
def runtime() -> Iterator[OnnxRuntime]:
    rt = OnnxRuntime(default_model_dir(), threads=1)
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def landmarker(runtime: OnnxRuntime) -> FaceLandmarker:
    return FaceLandmarker(runtime)


@pytest.fixture(scope="module")
def portraits(shared_data: Path) -> Path:
    return shared_data / "faces" / "portraits"


def load_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, f"cannot read {path}"
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def inter_ocular(face: FaceLandmarks) -> float:
    points = face.landmarks
    return float(np.linalg.norm(points[RIGHT_EYE_OUTER, :2] - points[LEFT_EYE_OUTER, :2]))


def assert_face_shape(face: FaceLandmarks, width: int, height: int) -> None:
    """Anatomy that any correct 478-point result of an upright face must satisfy."""
    points = face.landmarks
    assert points.shape == (NUM_LANDMARKS, 3) and points.dtype == np.float32
    assert np.isfinite(points).all()
    assert 0.5 <= face.confidence <= 1.0
    # Box is the landmarks' extent, and the face lies (mostly) in the image.
    x_min, y_min, box_w, box_h = face.box
    assert x_min == pytest.approx(points[:, 0].min(), abs=1e-3)
    assert y_min + box_h == pytest.approx(points[:, 1].max(), abs=1e-3)
    assert -0.1 * box_w <= x_min and x_min + box_w <= width + 0.1 * box_w
    assert -0.1 * box_h <= y_min and y_min + box_h <= height + 0.1 * box_h
    # Upright face seen from the front: subject's right eye on the image left, forehead above
    # the nose above the lips above the chin, irises between the eye corners.
    assert points[RIGHT_EYE_OUTER, 0] < points[NOSE_TIP, 0] < points[LEFT_EYE_OUTER, 0]
    ys = points[[FOREHEAD, NOSE_TIP, UPPER_LIP, CHIN], 1]
    assert np.all(np.diff(ys) > 0), ys
    # Inner lip midpoints: equal when the mouth is closed, never far inverted.
    assert points[UPPER_LIP, 1] <= points[LOWER_LIP, 1] + 0.02 * inter_ocular(face)
    right_iris, left_iris = points[RIGHT_IRIS_CENTER, 0], points[LEFT_IRIS_CENTER, 0]
    assert points[RIGHT_EYE_OUTER, 0] < right_iris < points[NOSE_TIP, 0] < left_iris
    assert left_iris < points[LEFT_EYE_OUTER, 0]
    # The nose tip sticks out towards the camera: smaller z than the face's outline.
    assert points[NOSE_TIP, 2] < points[[RIGHT_EYE_OUTER, LEFT_EYE_OUTER, CHIN], 2].min()


# --- runtime and models ----------------------------------------------------------------------


def test_runtime_without_models_says_how_to_build_them(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="make models"):
        OnnxRuntime(tmp_path)


def test_models_take_any_batch_size(runtime: OnnxRuntime) -> None:
    rng = np.random.default_rng(0)
    det = runtime.infer(
        FACE_DETECTOR, {"image": rng.uniform(-1, 1, (3, 128, 128, 3)).astype(np.float32)}
    )
    assert det["regressors"].shape == (3, 896, 16)
    assert det["classificators"].shape == (3, 896, 1)
    lmk = runtime.infer(
        FACE_LANDMARKS_DETECTOR, {INPUT_NAME: rng.random((2, 256, 256, 3), dtype=np.float32)}
    )
    assert lmk[OUTPUT_LANDMARKS].shape == (2, 1, 1, NUM_LANDMARKS * 3)
    assert lmk[OUTPUT_PRESENCE].shape == (2, 1, 1, 1)


def test_batched_landmarks_equal_one_by_one(
    runtime: OnnxRuntime, landmarker: FaceLandmarker, portraits: Path
) -> None:
    image = load_rgb(portraits / "two_people.jpg")
    detections = landmarker.detector.detect(image)
    assert len(detections) == 2
    crops = crop_faces(image, [roi_from_detection(d) for d in detections])
    batched = runtime.infer(FACE_LANDMARKS_DETECTOR, {INPUT_NAME: crops})
    for i in range(len(crops)):
        single = runtime.infer(FACE_LANDMARKS_DETECTOR, {INPUT_NAME: crops[i : i + 1]})
        for name in (OUTPUT_LANDMARKS, OUTPUT_PRESENCE):
            np.testing.assert_allclose(batched[name][i], single[name][0], atol=1e-3)
    # Two different faces: different landmarks.
    assert np.abs(batched[OUTPUT_LANDMARKS][0] - batched[OUTPUT_LANDMARKS][1]).max() > 1.0


def test_detector_batch_dimension_is_really_dynamic(runtime: OnnxRuntime) -> None:
    """The SSD head's Reshape [1, -1, k] became [0, -1, k]: batch item i must not mix with j."""
    rng = np.random.default_rng(1)
    batch = rng.uniform(-1, 1, (2, 128, 128, 3)).astype(np.float32)
    both = runtime.infer(FACE_DETECTOR, {"image": batch})
    second = runtime.infer(FACE_DETECTOR, {"image": batch[1:]})
    np.testing.assert_allclose(both["regressors"][1], second["regressors"][0], atol=1e-4)


def test_ssd_anchors_are_blazeface_short_range() -> None:
    anchors = generate_anchors()
    assert anchors.shape == (896, 4)
    assert np.all(anchors[:, 2:] == 1.0)  # fixed anchor size
    # 16x16 grid, 2 per cell, then 8x8, 6 per cell; centres at cell middles.
    np.testing.assert_allclose(anchors[0, :2], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(anchors[1, :2], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(anchors[2, :2], [1.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(anchors[511, :2], [15.5 / 16, 15.5 / 16])
    np.testing.assert_allclose(anchors[512, :2], [0.5 / 8, 0.5 / 8])
    np.testing.assert_allclose(anchors[895, :2], [7.5 / 8, 7.5 / 8])


def test_weighted_nms_merges_overlaps_and_keeps_separate_faces() -> None:
    boxes = np.array([[0.0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]])
    keypoints = np.zeros((3, 6, 2))
    keypoints[:, 0] = [[2, 2], [4, 4], [55, 55]]
    scores = np.array([0.9, 0.6, 0.8])
    merged = weighted_nms(boxes, keypoints, scores, 0.3)
    assert len(merged) == 2
    box, points, score = merged[0]
    assert score == pytest.approx(0.9)
    np.testing.assert_allclose(box, (boxes[0] * 0.9 + boxes[1] * 0.6) / 1.5)
    np.testing.assert_allclose(points[0], (np.array([2, 2]) * 0.9 + np.array([4, 4]) * 0.6) / 1.5)
    np.testing.assert_allclose(merged[1][0], boxes[2])


def test_letterbox_matrix_centres_the_image() -> None:
    matrix = letterbox_matrix(200, 100, 128)
    corners = np.array([[0, 0, 1], [200, 100, 1]], float) @ matrix.T
    np.testing.assert_allclose(corners, [[0, 32], [128, 96]])


# --- detection and landmarks -------------------------------------------------------------------


def test_one_face_in_obama(landmarker: FaceLandmarker, portraits: Path) -> None:
    image = load_rgb(portraits / "obama.jpg")
    faces = landmarker.detect(image, max_faces=4)
    assert len(faces) == 1
    face = faces[0]
    assert face.confidence > 0.9
    assert_face_shape(face, image.shape[1], image.shape[0])
    assert 60 < inter_ocular(face) < 400


def test_every_single_portrait_yields_a_sane_face(
    landmarker: FaceLandmarker, portraits: Path
) -> None:
    names = sorted(
        p.name
        for p in portraits.iterdir()
        if p.suffix in (".jpg", ".png") and p.name != "two_people.jpg"
    )
    assert len(names) >= 10
    for name in names:
        image = load_rgb(portraits / name)
        faces = landmarker.detect(image, max_faces=4)
        assert len(faces) == 1, name
        if "partial" not in name:  # half a face: its outline may leave the image
            assert_face_shape(faces[0], image.shape[1], image.shape[0])


def test_two_people_largest_first(landmarker: FaceLandmarker, portraits: Path) -> None:
    image = load_rgb(portraits / "two_people.jpg")
    faces = landmarker.detect(image, max_faces=4)
    assert len(faces) == 2
    # Largest first: ordered by the detector's box, which the landmarks' box follows here.
    areas = [f.box[2] * f.box[3] for f in faces]
    assert areas[0] >= 0.9 * areas[1]
    for face in faces:
        assert_face_shape(face, image.shape[1], image.shape[0])
    # Two separate people: boxes do not overlap.
    (ax, ay, aw, ah), (bx, by, bw, bh) = faces[0].box, faces[1].box
    assert ax + aw < bx or bx + bw < ax or ay + ah < by or by + bh < ay
    # max_faces=1 keeps the largest one, with the same landmarks.
    only = landmarker.detect(image, max_faces=1)
    assert len(only) == 1
    np.testing.assert_allclose(only[0].landmarks, faces[0].landmarks, atol=1e-3)


@pytest.mark.parametrize("kind", ["black", "grey", "noise", "gradient"])
def test_no_face_in_blank_images(landmarker: FaceLandmarker, kind: str) -> None:
    rng = np.random.default_rng(7)
    image = {
        "black": np.zeros((480, 640, 3), np.uint8),
        "grey": np.full((480, 640, 3), 128, np.uint8),
        "noise": rng.integers(0, 256, (480, 640, 3), dtype=np.uint8),
        "gradient": np.repeat(
            np.linspace(0, 255, 640, dtype=np.uint8)[None, :, None].repeat(480, 0), 3, axis=2
        ),
    }[kind]
    assert landmarker.detect(image, max_faces=4) == []


def test_landmarks_stay_inside_the_roi_they_were_read_from(
    landmarker: FaceLandmarker, portraits: Path
) -> None:
    image = load_rgb(portraits / "obama2.jpg")
    (detection,) = landmarker.detector.detect(image)
    roi = roi_from_detection(detection)
    (face,) = landmarker.detect(image)
    # Into ROI coordinates: un-rotate around the centre; inside the half extents.
    cos, sin = math.cos(roi.rotation), math.sin(roi.rotation)
    dx = face.landmarks[:, 0] - roi.center_x
    dy = face.landmarks[:, 1] - roi.center_y
    local_x, local_y = cos * dx + sin * dy, -sin * dx + cos * dy
    assert np.abs(local_x).max() < roi.width / 2
    assert np.abs(local_y).max() < roi.height / 2
    # and the face fills a good part of it (scale 1.5 around the detector's box).
    assert np.ptp(local_x) > 0.4 * roi.width


@pytest.mark.parametrize("turns", [1, 3])
def test_rotated_image_gives_rotated_landmarks(
    landmarker: FaceLandmarker, portraits: Path, turns: int
) -> None:
    image = load_rgb(portraits / "obama.jpg")
    height, width = image.shape[:2]
    (upright,) = landmarker.detect(image)
    (turned,) = landmarker.detect(np.ascontiguousarray(np.rot90(image, turns)))
    x, y = turned.landmarks[:, 0].astype(np.float64), turned.landmarks[:, 1].astype(np.float64)
    # np.rot90 turns counter-clockwise: undo it pixel for pixel.
    back = np.stack([width - 1 - y, x], 1) if turns == 1 else np.stack([y, height - 1 - x], 1)
    error = np.linalg.norm(back - upright.landmarks[:, :2], axis=1) / inter_ocular(upright)
    # The rotated detector box gives a slightly different crop: a few % of the eye distance.
    assert error.mean() < 0.04, error.mean()
    assert np.percentile(error, 95) < 0.08
    # The pose's roll follows the turn: +90 degrees counter-clockwise.
    expected_roll = upright.pose.roll + (90.0 if turns == 1 else -90.0)
    assert abs((turned.pose.roll - expected_roll + 180) % 360 - 180) < 10


def test_large_image_is_shrunk_and_mapped_back(landmarker: FaceLandmarker, portraits: Path) -> None:
    image = load_rgb(portraits / "obama.jpg")  # 910 x 1137
    (small,) = landmarker.detect(image)
    big = cv2.resize(image, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)  # long side 3411
    (large,) = landmarker.detect(big)
    # Pixel centres: original pixel i covers big pixels 3i .. 3i+2, centre 3i + 1.
    expected = small.landmarks[:, :2] * 3 + 1
    error = np.linalg.norm(large.landmarks[:, :2] - expected, axis=1) / inter_ocular(large)
    assert error.mean() < 0.02, error.mean()
    assert large.landmarks[:, 2] == pytest.approx(
        small.landmarks[:, 2] * 3, abs=0.05 * 3 * inter_ocular(small)
    )


def test_rejects_non_rgb_input(landmarker: FaceLandmarker) -> None:
    with pytest.raises(ValueError):
        landmarker.detect(np.zeros((100, 100), np.uint8))
    with pytest.raises(ValueError):
        landmarker.detect(np.zeros((100, 100, 3), np.float32))
    with pytest.raises(ValueError):
        landmarker.detect(np.zeros((100, 100, 3), np.uint8), max_faces=0)


# --- head pose and canonical model --------------------------------------------------------------


def test_head_pose_of_a_frontal_face(landmarker: FaceLandmarker, portraits: Path) -> None:
    image = load_rgb(portraits / "obama_small.jpg")
    (face,) = landmarker.detect(image)
    pose = face.pose
    assert pose.matrix.shape == (4, 4)
    np.testing.assert_allclose(pose.matrix[3], [0, 0, 0, 1])
    rotation = pose.rotation
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-6)
    assert np.linalg.det(rotation) == pytest.approx(1.0, abs=1e-6)
    assert max(abs(pose.pitch), abs(pose.yaw), abs(pose.roll)) < 15
    assert pose.translation_cm[2] < -10  # in front of the camera (OpenGL: looking down -z)
    assert euler_from_rotation(rotation) == pytest.approx((pose.pitch, pose.yaw, pose.roll))
    # The canonical face through the pose and the documented camera (OpenGL axes, vertical
    # FOV 63 degrees, centred) lands on the observed landmarks, up to how much this face
    # differs from the canonical one (~5% of the eye distance here).
    model = load_canonical_face_model()
    cam = (pose.matrix @ np.c_[model.vertices, np.ones(len(model.vertices))].T)[:3]
    assert np.all(cam[2] < 0)
    focal = (image.shape[0] / 2) / math.tan(math.radians(63 / 2))
    u = image.shape[1] / 2 + focal * cam[0] / -cam[2]
    v = image.shape[0] / 2 - focal * cam[1] / -cam[2]
    ids = model.procrustes_landmark_ids
    error = np.hypot(u - face.landmarks[:468, 0], v - face.landmarks[:468, 1])[ids]
    assert error.mean() < 0.12 * inter_ocular(face)


def test_mirrored_face_mirrors_yaw_and_roll(landmarker: FaceLandmarker, portraits: Path) -> None:
    image = load_rgb(portraits / "two_people.jpg")
    faces = landmarker.detect(image, max_faces=2)
    mirrored = landmarker.detect(np.ascontiguousarray(image[:, ::-1]), max_faces=2)
    assert len(faces) == len(mirrored) == 2
    width = image.shape[1]
    for face in faces:
        # Its twin: the mirrored face whose mirrored-back nose is nearest.
        twin = min(
            mirrored,
            key=lambda m: abs(width - 1 - m.landmarks[NOSE_TIP, 0] - face.landmarks[NOSE_TIP, 0]),
        )
        assert twin.pose.yaw == pytest.approx(-face.pose.yaw, abs=4)
        assert twin.pose.roll == pytest.approx(-face.pose.roll, abs=4)
        assert twin.pose.pitch == pytest.approx(face.pose.pitch, abs=4)
    assert max(abs(f.pose.yaw) for f in faces) > 10  # a turned head: the sign is informative


def test_yaw_sign_convention(landmarker: FaceLandmarker, portraits: Path) -> None:
    """yaw > 0 when the face turns towards the image right: the nose tip then sits right of
    the midpoint of the outer eye corners."""
    image = load_rgb(portraits / "two_people.jpg")
    for face in landmarker.detect(image, max_faces=2):
        points = face.landmarks
        offset = points[NOSE_TIP, 0] - (points[RIGHT_EYE_OUTER, 0] + points[LEFT_EYE_OUTER, 0]) / 2
        if abs(face.pose.yaw) > 8:
            assert np.sign(offset) == np.sign(face.pose.yaw)


def test_canonical_face_model() -> None:
    model = load_canonical_face_model()
    assert model.vertices.shape == (468, 3) and model.vertices.dtype == np.float32
    assert model.uv.shape == (468, 2) and model.uv.dtype == np.float32
    assert model.triangles.shape == (898, 3) and model.triangles.dtype == np.int32
    assert model.triangles.min() == 0 and model.triangles.max() == 467
    assert len(np.unique(model.triangles)) == 468  # every vertex is used
    assert model.uv.min() >= 0 and model.uv.max() <= 1
    # v grows downward: forehead above nose above chin in the texture.
    assert model.uv[FOREHEAD, 1] < model.uv[NOSE_TIP, 1] < model.uv[CHIN, 1]
    # x to the image right, y up, z towards the viewer; about 15 cm wide.
    assert model.vertices[RIGHT_EYE_OUTER, 0] < 0 < model.vertices[LEFT_EYE_OUTER, 0]
    assert model.vertices[FOREHEAD, 1] > model.vertices[CHIN, 1]
    assert model.vertices[NOSE_TIP, 2] > model.vertices[:, 2].max() - 0.2  # nose: frontmost
    assert 12 < np.ptp(model.vertices[:, 0]) < 20
    assert len(model.procrustes_landmark_ids) == len(model.procrustes_landmark_weights) > 10
    assert np.all(model.procrustes_landmark_weights > 0)


def test_detector_threshold_is_respected(runtime: OnnxRuntime, portraits: Path) -> None:
    image = load_rgb(portraits / "two_people.jpg")
    strict = FaceDetector(runtime, min_detection_confidence=0.99).detect(image)
    loose = FaceDetector(runtime, min_detection_confidence=0.5).detect(image)
    assert all(d.score >= 0.99 for d in strict)
    assert len(strict) <= len(loose) == 2
    for detection in loose:
        assert detection.keypoints.shape == (6, 2)
        x, y, w, h = detection.box
        inside = (
            (detection.keypoints[:4, 0] >= x)
            & (detection.keypoints[:4, 0] <= x + w)
            & (detection.keypoints[:4, 1] >= y)
            & (detection.keypoints[:4, 1] <= y + h)
        )
        assert inside.all()  # eyes, nose, mouth inside the box
