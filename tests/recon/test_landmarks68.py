"""Our mesh, mapped to the iBUG 300-W 68 points (face_topology/ibug68.py), against the
68-point annotations of the shared data: NME normalised by the inter-ocular distance (outer eye
corners, the 300-W convention).

* faces/landmarks68/mexopencv/*.pts: two 320x240 webcam frames, one face each.
* faces/landmarks68/dlib/*_with_face_landmarks.xml: PASCAL VOC group photos, 43 faces of 37-100
  px. Their points come from dlib's own 68-point model (pseudo ground truth), and MediaPipe's
  short-range detector (128x128 input) misses most faces that small: we report how many were
  found and the NME over those matched (68-point bounding boxes, IoU >= 0.3, one to one).

MediaPipe's own landmarks go through the same mapping, in the same run, as a yardstick: it
separates the mapping's error (mesh vs iBUG definitions, the jaw above all) from ours.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from face_topology.ibug68 import IBUG68_REGIONS, interocular, mesh_to_ibug68
from tests.reference import mediapipe_landmarks as ref

MAX_FACES = 30  # group photos: let every face through
MIN_IOU = 0.3
# Bounds, set from what was measured (see the report printed by the test) with margin:
# MediaPipe itself, through this mapping, scores mean NME 6.0% over 13 matched faces (one of
# them a 22% failure on a half-occluded 26 px face); a faithful replica lands on the same.
MEAN_NME_BOUND = 0.08
MEDIAN_NME_BOUND = 0.065
MEXOPENCV_NME_BOUND = 0.07  # each of the two webcam frames (MediaPipe: 5.6%, 4.9%)
MIN_MATCHED_FACES = 11  # of 45 annotated; MediaPipe matches 13


@dataclass
class Annotated:
    image: Path
    faces: list[np.ndarray] = field(default_factory=list)  # (68, 2) each


def _read_pts(path: Path) -> np.ndarray:
    # iBUG .pts: "version: 1 / n_points: 68 / { x y ... }"
    body = path.read_text().split("{", 1)[1].split("}", 1)[0]
    pts = np.array(body.split(), dtype=np.float64).reshape(-1, 2)
    assert pts.shape == (68, 2), path
    return pts


def _read_dlib_xml(path: Path) -> list[Annotated]:
    out = []
    for image in ET.parse(path).getroot().iter("image"):
        item = Annotated(path.parent / image.attrib["file"])
        for box in image.iter("box"):
            pts = np.full((68, 2), np.nan)
            for part in box.iter("part"):
                pts[int(part.attrib["name"])] = float(part.attrib["x"]), float(part.attrib["y"])
            assert not np.isnan(pts).any(), f"{path}: a box without 68 parts"
            item.faces.append(pts)
        out.append(item)
    return out


def _datasets() -> dict[str, list[Annotated]]:
    root = ref.shared_data_dir() / "faces" / "landmarks68"
    mex = [
        Annotated(p.with_suffix(".jpg"), [_read_pts(p)])
        for p in sorted((root / "mexopencv").glob("*.pts"))
    ]
    dlib = [
        a
        for x in sorted((root / "dlib").glob("*_with_face_landmarks.xml"))
        for a in _read_dlib_xml(x)
    ]
    assert len(mex) == 2 and sum(len(a.faces) for a in dlib) == 43, "landmarks68 data changed"
    return {"mexopencv": mex, "dlib": dlib}


def _box(points: np.ndarray) -> tuple[float, float, float, float]:
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ax0, ay0, ax1, ay1 = _box(a)
    bx0, by0, bx1, by1 = _box(b)
    inter = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return inter / union if union > 0 else 0.0


def _match(truth: list[np.ndarray], pred: list[np.ndarray]) -> list[int | None]:
    """Annotated face -> predicted face, by IoU of the 68-point boxes (the same definition on
    both sides; dlib's detector boxes would not compare with a mesh box), greedy one to one."""
    pairs = sorted(
        ((_iou(t, p), i, j) for i, t in enumerate(truth) for j, p in enumerate(pred)), reverse=True
    )
    match: list[int | None] = [None] * len(truth)
    used: set[int] = set()
    for iou, i, j in pairs:
        if iou >= MIN_IOU and match[i] is None and j not in used:
            match[i] = j
            used.add(j)
    return match


@dataclass
class Score:
    set_name: str
    image: str
    iod: float
    nme: float
    regions: dict[str, float]


def _score(
    datasets: dict[str, list[Annotated]], predict: dict[Path, list[np.ndarray]]
) -> tuple[list[Score], int]:
    scores, total = [], 0
    for set_name, items in datasets.items():
        for item in items:
            pred = [mesh_to_ibug68(lm[:, :2]) for lm in predict[item.image]]
            for truth, j in zip(item.faces, _match(item.faces, pred), strict=True):
                total += 1
                if j is None:
                    continue
                err = np.linalg.norm(pred[j] - truth, axis=1) / interocular(truth)
                regions = {k: float(err[list(r)].mean()) for k, r in IBUG68_REGIONS.items()}
                scores.append(
                    Score(set_name, item.image.name, interocular(truth), float(err.mean()), regions)
                )
    return scores, total


@pytest.fixture(scope="module")
def datasets() -> dict[str, list[Annotated]]:
    return _datasets()


@pytest.fixture(scope="module")
def mediapipe_68(
    datasets: dict[str, list[Annotated]], tmp_path_factory: pytest.TempPathFactory
) -> dict[Path, list[np.ndarray]]:
    images = sorted({a.image for items in datasets.values() for a in items})
    out = tmp_path_factory.mktemp("mediapipe68") / "landmarks68.json"
    doc = ref.run_reference(images, out, "--num-faces", str(MAX_FACES))
    return {
        Path(i["path"]): [np.asarray(f["landmarks"]) for f in i["faces"]] for i in doc["images"]
    }


@pytest.fixture(scope="module")
def ours_68(datasets: dict[str, list[Annotated]]) -> Iterator[dict[Path, list[np.ndarray]]]:
    from services.recon.face_landmarker import FaceLandmarker
    from services.recon.runtime import create_runtime

    runtime = create_runtime()
    landmarker = FaceLandmarker(runtime)
    images = sorted({a.image for items in datasets.values() for a in items})
    result = {}
    for path in images:
        rgb, _ = ref.load_image(path)
        result[path] = [
            np.asarray(f.landmarks, dtype=np.float64)
            for f in landmarker.detect(rgb, max_faces=MAX_FACES)
        ]
    yield result
    runtime.close()


def _report(label: str, scores: list[Score], total: int) -> None:
    print(f"\n{label}: {len(scores)} of {total} annotated faces matched")
    print(
        f"  {'set':10} {'image':28} {'IOD':>6} {'NME %':>6}  "
        + " ".join(f"{k:>6}" for k in IBUG68_REGIONS)
    )
    for s in scores:
        print(
            f"  {s.set_name:10} {s.image:28} {s.iod:6.1f} {100 * s.nme:6.2f}  "
            + " ".join(f"{100 * v:6.2f}" for v in s.regions.values())
        )
    for set_name in ("mexopencv", "dlib", None):
        sel = [s.nme for s in scores if set_name in (None, s.set_name)]
        if sel:
            print(
                f"  {set_name or 'all':10} mean NME {100 * np.mean(sel):.2f}%  median "
                f"{100 * np.median(sel):.2f}%  over {len(sel)} faces"
            )


def test_mapping_on_mediapipe_landmarks(
    datasets: dict[str, list[Annotated]], mediapipe_68: dict[Path, list[np.ndarray]]
) -> None:
    """The mapping table itself, on MediaPipe's own landmarks: a wrong index shows up here."""
    scores, total = _score(datasets, mediapipe_68)
    _report("MediaPipe 1.2.3 -> ibug68", scores, total)
    assert len(scores) >= MIN_MATCHED_FACES
    assert np.mean([s.nme for s in scores]) <= MEAN_NME_BOUND
    assert np.median([s.nme for s in scores]) <= MEDIAN_NME_BOUND


def test_nme_ours(
    datasets: dict[str, list[Annotated]],
    ours_68: dict[Path, list[np.ndarray]],
    mediapipe_68: dict[Path, list[np.ndarray]],
) -> None:
    scores, total = _score(datasets, ours_68)
    _report("ours -> ibug68", scores, total)
    ref_scores, _ = _score(datasets, mediapipe_68)
    nmes = [s.nme for s in scores]
    print(
        f"  ours mean NME {100 * np.mean(nmes):.2f}% vs MediaPipe "
        f"{100 * np.mean([s.nme for s in ref_scores]):.2f}% ({len(scores)} vs "
        f"{len(ref_scores)} faces)"
    )
    mex = [s for s in scores if s.set_name == "mexopencv"]
    assert len(mex) == 2, "a mexopencv webcam face was not found"
    assert all(s.nme <= MEXOPENCV_NME_BOUND for s in mex), [s.nme for s in mex]
    assert len(scores) >= MIN_MATCHED_FACES, f"only {len(scores)} of {total} faces matched"
    assert np.mean(nmes) <= MEAN_NME_BOUND
    assert np.median(nmes) <= MEDIAN_NME_BOUND
