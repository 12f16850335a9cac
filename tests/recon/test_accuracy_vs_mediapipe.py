"""Our FaceLandmarker against MediaPipe's own (the issue's bound: mean <= 1%, max <= 3% of the
inter-ocular distance per point), on every portrait of the shared data set.

MediaPipe runs once per session in its own venv (tests/reference/mediapipe_landmarks.py via
subprocess; `bash scripts/setup_mediapipe_reference.sh` makes it). Both sides get the same
decoded pixels (the reference reports a hash of them, checked here).

Grayscale inputs: there is no grayscale portrait in the data, so two are derived from colour
ones (an L-mode JPEG and an L-mode PNG). MediaPipe gives no result on them (it rejects GRAY8);
ours must still find the faces. Their 3-channel copies (R=G=B, what our decoder hands the
pipeline) are compared with MediaPipe and printed, but held to the bound only as information:
on grey the detector's scores fall to ~0.6, near its 0.5 threshold, where weighted NMS merges a
different set of anchors on a tiny difference (two_people, grey: our best score 0.614 vs
MediaPipe's 0.617, and an anchor at 0.498 that MediaPipe's cluster evidently takes in: box 157 vs
172 px, so the ROI and then the landmarks move, mean 1.1% / max 4.5%).
The issue's bound is asserted on the data set's portraits. The grey sources are ones where
MediaPipe does find the faces in the R=G=B copy: on grey its detector loses 6 of the 14
portraits (biden, obama-240p/480p/720p/1080p, obama3), so a faithful replica would too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

# The reference script: it imports only numpy + Pillow here; mediapipe only in its own venv.
from tests.reference import mediapipe_landmarks as ref

MAX_FACES = 4  # two_people.jpg has 2; room for a false positive to show up in the table
MEAN_BOUND = 0.01  # of the inter-ocular distance (outer eye corners 33 / 263)
MAX_BOUND = 0.03
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    asserted: bool = True  # held to the bound (False: printed as information)


def _portraits() -> list[Case]:
    folder = ref.shared_data_dir() / "faces" / "portraits"
    cases = [
        Case(p.name, p) for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES
    ]
    assert cases, f"no portraits in {folder} (set TRYON_SHARED_DATA)"
    return cases


def _grayscale_cases(tmp: Path) -> list[Case]:
    """Derived grayscale inputs and their R=G=B copies."""
    folder = ref.shared_data_dir() / "faces" / "portraits"
    out = []
    for src, fmt in (("obama.jpg", "JPEG"), ("two_people.jpg", "PNG")):
        with Image.open(folder / src) as im:
            gray = im.convert("L")
        stem = Path(src).stem
        gray_path = tmp / f"{stem}-gray.{fmt.lower()}"
        gray.save(gray_path, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
        rgb_path = tmp / f"{stem}-gray-as-rgb.png"
        Image.fromarray(ref.load_image(gray_path)[0]).save(rgb_path, "PNG")
        out += [Case(gray_path.name, gray_path), Case(rgb_path.name, rgb_path, asserted=False)]
    return out


@pytest.fixture(scope="session")
def cases(tmp_path_factory: pytest.TempPathFactory) -> list[Case]:
    return _portraits() + _grayscale_cases(tmp_path_factory.mktemp("gray"))


@pytest.fixture(scope="session")
def mediapipe_results(
    cases: list[Case], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """MediaPipe's results per case name: one reference run for the session."""
    out = tmp_path_factory.mktemp("mediapipe") / "portraits.json"
    doc = ref.run_reference([c.path for c in cases], out, "--num-faces", str(MAX_FACES))
    return {Path(item["path"]).name: item for item in doc["images"]}


@pytest.fixture(scope="session")
def landmarker() -> Iterator[Any]:
    from services.recon.face_landmarker import FaceLandmarker
    from services.recon.runtime import create_runtime

    runtime = create_runtime()
    yield FaceLandmarker(runtime)
    runtime.close()


def _box_centre(points: np.ndarray) -> np.ndarray:
    # Same box definition on both sides: the 2D bounding box of the landmarks.
    return (points[:, :2].min(axis=0) + points[:, :2].max(axis=0)) / 2


def _match(ref_faces: list[np.ndarray], ours: list[np.ndarray]) -> list[int | None]:
    """For each reference face, the index of our face with the nearest box centre (within
    half the reference box width), one to one, greedy by distance."""
    pairs = []
    for i, r in enumerate(ref_faces):
        width = float(np.ptp(r[:, 0]))
        for j, o in enumerate(ours):
            d = float(np.linalg.norm(_box_centre(r) - _box_centre(o)))
            if d <= 0.5 * width:
                pairs.append((d, i, j))
    match: list[int | None] = [None] * len(ref_faces)
    used: set[int] = set()
    for _, i, j in sorted(pairs):
        if match[i] is None and j not in used:
            match[i] = j
            used.add(j)
    return match


@dataclass
class Row:
    image: str
    face: int
    iod_px: float
    mean: float
    p95: float
    max: float
    worst_point: int
    mean_px: float
    asserted: bool


def _print_table(rows: list[Row], extras: list[str]) -> None:
    print(
        f"\n{'image':32} {'face':>4} {'IOD px':>7} {'mean %':>7} {'p95 %':>6} {'max %':>6} "
        f"{'worst':>5} {'mean px':>7}"
    )
    for r in rows:
        flag = "" if r.mean <= MEAN_BOUND and r.max <= MAX_BOUND else "  <-- over bound"
        flag += "" if r.asserted else "  (information, not asserted)"
        print(
            f"{r.image:32} {r.face:>4} {r.iod_px:7.1f} {100 * r.mean:7.3f} {100 * r.p95:6.2f} "
            f"{100 * r.max:6.2f} {r.worst_point:>5} {r.mean_px:7.3f}{flag}"
        )
    asserted = [r for r in rows if r.asserted]
    if asserted:
        print(
            f"{'portraits (asserted)':32} {len(asserted):>4} {'':7} "
            f"{100 * np.mean([r.mean for r in asserted]):7.3f} {'':6} "
            f"{100 * max(r.max for r in asserted):6.2f}"
        )
    for line in extras:
        print(line)


def test_landmarks_match_mediapipe(
    cases: list[Case], mediapipe_results: dict[str, Any], landmarker: Any
) -> None:
    rows: list[Row] = []
    problems: list[str] = []
    extras: list[str] = []
    compared = 0
    for case in cases:
        item = mediapipe_results[case.name]
        if item["status"] != "ok":
            continue  # covered by test_ours_finds_faces_where_mediapipe_gives_none
        rgb, _ = ref.load_image(case.path)
        # Same pixels on both sides, or the comparison means nothing.
        assert ref.rgb_sha1(rgb) == item["rgb_sha1"], f"{case.name}: decoded pixels differ"
        ref_faces = [np.asarray(f["landmarks"], dtype=np.float64) for f in item["faces"]]
        ours = [
            np.asarray(f.landmarks, dtype=np.float64)
            for f in landmarker.detect(rgb, max_faces=MAX_FACES)
        ]
        for j in set(range(len(ours))) - set(m for m in _match(ref_faces, ours) if m is not None):
            extras.append(f"{case.name}: our face {j} has no MediaPipe counterpart")
        for i, (r, j) in enumerate(zip(ref_faces, _match(ref_faces, ours), strict=True)):
            if j is None:
                problems.append(f"{case.name} face {i}: MediaPipe found it, we did not")
                continue
            o = ours[j]
            assert o.shape == (478, 3), o.shape
            iod = float(np.linalg.norm(r[RIGHT_EYE_OUTER, :2] - r[LEFT_EYE_OUTER, :2]))
            dist = np.linalg.norm(o[:, :2] - r[:, :2], axis=1)
            err = dist / iod
            rows.append(
                Row(
                    case.name,
                    i,
                    iod,
                    float(err.mean()),
                    float(np.percentile(err, 95)),
                    float(err.max()),
                    int(err.argmax()),
                    float(dist.mean()),
                    case.asserted,
                )
            )
            compared += case.asserted
            if case.asserted and (err.mean() > MEAN_BOUND or err.max() > MAX_BOUND):
                problems.append(
                    f"{case.name} face {i}: mean {100 * err.mean():.3f}% max "
                    f"{100 * err.max():.2f}% (point {int(err.argmax())})"
                )
    _print_table(rows, extras)
    assert compared > 0, "MediaPipe found no face in any portrait: reference broken?"
    assert not problems, "\n".join(problems)


def test_ours_finds_faces_where_mediapipe_gives_none(
    cases: list[Case], mediapipe_results: dict[str, Any], landmarker: Any
) -> None:
    no_result = [c for c in cases if mediapipe_results[c.name]["status"] != "ok"]
    print("\nMediaPipe gave no result on:")
    missed = []
    for case in no_result:
        item = mediapipe_results[case.name]
        rgb, _ = ref.load_image(case.path)
        found = landmarker.detect(rgb, max_faces=MAX_FACES)
        print(f"  {case.name:32} mediapipe: {item['status']:9} ours: {len(found)} face(s)")
        if not found:
            missed.append(case.name)
    # The derived grayscale inputs are always here: the check never runs empty.
    assert any(mediapipe_results[c.name]["status"] == "grayscale" for c in cases)
    assert not missed, f"no face found where MediaPipe gave no result: {missed}"
