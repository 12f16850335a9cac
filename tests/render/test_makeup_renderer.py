"""The makeup engine on real faces: colour fidelity over the real lipstick catalog, regions
against human face-parsing masks, untouched pixels, teeth and eyeballs left bare, turned heads.

Landmarks come from our own recon pipeline, in process (no stack needed here); pictures to
look at are written to out/render/.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest

from face_topology import LEFT_EYE_LOOP, LIPS_INNER_LOOP, LIPS_OUTER_LOOP, RIGHT_EYE_LOOP
from services.common.color import ciede2000, hex_to_lab, linear_rgb_to_lab
from services.recon.face_landmarker import FaceLandmarker
from services.recon.runtime import create_runtime
from services.render.linear_light import luminance, srgb8_to_linear
from services.render.look import AppliedProduct
from services.render.makeup_renderer import MakeupRenderer
from tests.conftest import ROOT, TEST_DATA, shared_data_dir

OUT = ROOT / "out" / "render"
# MT parsing labels (parsing/mt/SOURCE.md).
SKIN, NOSE, UPPER_LIP, LOWER_LIP, BROWS = (1,), (6,), (7,), (9,), (2, 3)
FULL_LOOK = (
    AppliedProduct.paint("foundation", "#c8916f", coverage=0.6),
    AppliedProduct.paint("blush", "#d9767a", opacity=0.45),
    AppliedProduct.paint("eyeshadow", "#7a4b6e", opacity=0.7),
    AppliedProduct.paint("eyeliner", "#1a1414", opacity=0.95),
    AppliedProduct.paint("lipstick", "#a3263d", finish="satin", opacity=0.9),
)


@pytest.fixture(scope="module")
def renderer() -> MakeupRenderer:
    return MakeupRenderer()


@cache
def _landmarker() -> FaceLandmarker:
    return FaceLandmarker(create_runtime())


def read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, path
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def landmarks_of(rgb: np.ndarray) -> np.ndarray:
    faces = _landmarker().detect(rgb, max_faces=1)
    assert faces, "no face found"
    return faces[0].landmarks


def save(name: str, *images: np.ndarray) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(OUT / name), cv2.cvtColor(np.hstack(images), cv2.COLOR_RGB2BGR))


def mt_pairs() -> list[tuple[Path, Path]]:
    root = shared_data_dir() / "parsing" / "mt"
    pairs = []
    for image in sorted((root / "images").glob("*/*.png")):
        seg = root / "segs" / image.parent.name / image.name
        if seg.is_file():
            pairs.append((image, seg))
    assert len(pairs) >= 15, f"expected the MT parsing set under {root}"
    return pairs


def mt_labels(seg_path: Path, shape: tuple[int, ...]) -> np.ndarray:
    seg = cv2.imread(str(seg_path), cv2.IMREAD_GRAYSCALE)
    return cv2.resize(seg, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


# --- colour fidelity ---------------------------------------------------------------------------


def real_lipstick_hexes() -> list[str]:
    data = json.loads((shared_data_dir() / "catalog/lipstick/lipstick.json").read_text())
    return [
        s["color"] for b in data["brands"] for series in b["series"] for s in series["lipsticks"]
    ]


def test_lip_colour_matches_the_shade_over_the_real_catalog(renderer: MakeupRenderer) -> None:
    """Measurement: a bare, evenly lit MT face; the human-labelled lips, eroded 2 px so no
    edge pixel counts; the face's own shading removed by dividing the output (linear light) by
    the input's luminance relative to its mean over those pixels; the median of that in
    CIELAB against the shade. Matte, opacity 1, intensity 1."""
    image, seg = next((i, s) for i, s in mt_pairs() if i.parent.name == "no_makeup")
    rgb = read_rgb(image)
    labels = mt_labels(seg, rgb.shape)
    lips = np.isin(labels, UPPER_LIP + LOWER_LIP).astype(np.uint8)
    lips = cv2.erode(lips, np.ones((5, 5), np.uint8)).astype(bool)
    assert lips.sum() > 200
    y = luminance(srgb8_to_linear(rgb))[lips]
    shading = (y / y.mean())[:, None]
    hexes = real_lipstick_hexes()
    assert len(hexes) == 287
    looks = [AppliedProduct.paint("lipstick", h, finish="matte", opacity=1.0) for h in hexes]
    outs = renderer.render_many(rgb, landmarks_of(rgb), looks)
    measured = np.array([
        np.median(linear_rgb_to_lab(srgb8_to_linear(out)[lips] / shading), axis=0)
        for out in outs
    ])  # fmt: skip
    delta = ciede2000(measured, hex_to_lab(hexes))
    worst = int(np.argmax(delta))
    print(f"\nlip colour CIEDE2000 over {len(hexes)} real lipstick shades: median "
          f"{np.median(delta):.2f}, p95 {np.percentile(delta, 95):.2f}, max {delta.max():.2f} "
          f"({hexes[worst]})")  # fmt: skip
    save("lip_colour_extremes.png", rgb, outs[int(np.argmin(delta))], outs[worst])
    assert np.median(delta) <= 3.0
    assert np.percentile(delta, 95) <= 3.0


# --- regions -----------------------------------------------------------------------------------


def test_regions_against_human_parsing_masks(renderer: MakeupRenderer) -> None:
    scores: dict[str, list[float]] = {"lips": [], "brows": [], "skin": []}
    for image, seg in mt_pairs():
        rgb = read_rgb(image)
        labels = mt_labels(seg, rgb.shape)
        marks = landmarks_of(rgb)
        ours = {
            "lips": renderer.region_mask(rgb.shape, marks, "lipstick") >= 0.5,
            "brows": renderer.region_mask(rgb.shape, marks, "brow") >= 0.5,
            # Foundation fades out over a wide feather: its region is wherever it lands at all.
            "skin": renderer.region_mask(rgb.shape, marks, "foundation") >= 0.05,
        }
        truth = {
            "lips": np.isin(labels, UPPER_LIP + LOWER_LIP),
            "brows": np.isin(labels, BROWS),
            "skin": np.isin(labels, SKIN + NOSE),
        }
        for name in scores:
            scores[name].append(iou(ours[name], truth[name]))
    means = {name: float(np.mean(v)) for name, v in scores.items()}
    figures = ", ".join(f"{k} {v:.3f}" for k, v in means.items())
    print(f"\nmask IoU vs MT human parsing (mean over {len(scores['lips'])} faces): {figures}")
    assert means["lips"] >= 0.80
    assert means["brows"] >= 0.55
    assert means["skin"] >= 0.75


# --- what must stay untouched ------------------------------------------------------------------


def _polygon(
    shape: tuple[int, ...], marks: np.ndarray, loop: tuple[int, ...], erode: int
) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(marks[list(loop), :2]).astype(np.int32)], 1)
    if erode:
        mask = cv2.erode(mask, np.ones((2 * erode + 1,) * 2, np.uint8))
    return mask.astype(bool)


def test_only_painted_pixels_change_and_teeth_and_eyes_stay_bare(renderer: MakeupRenderer) -> None:
    rgb = read_rgb(TEST_DATA / "obama.jpg")  # a broad smile: teeth show
    marks = landmarks_of(rgb)
    look = [*FULL_LOOK, AppliedProduct.paint("mascara", "#0a0a0a", opacity=0.9)]
    out = renderer.render(rgb, [marks], look)
    save("full_look_obama.png", rgb, out)
    changed = np.any(out != rgb, axis=2)
    painted = np.zeros(rgb.shape[:2], bool)
    for app in look:
        painted |= renderer.region_mask(rgb.shape, marks, app.category, app.zone) > 0
    assert changed.sum() > 5000
    assert not (changed & ~painted).any(), "a pixel outside every product's region changed"
    teeth = _polygon(rgb.shape, marks, LIPS_INNER_LOOP, erode=2)
    assert teeth.sum() > 500, "the test photo must show teeth"
    assert not changed[teeth].any(), "teeth were painted"
    for eye in (LEFT_EYE_LOOP, RIGHT_EYE_LOOP):
        eyeball = _polygon(rgb.shape, marks, eye, erode=2)
        assert eyeball.sum() > 50 and not changed[eyeball].any(), "an eyeball was painted"


def test_intensity_scales_the_effect(renderer: MakeupRenderer) -> None:
    rgb = read_rgb(TEST_DATA / "obama.jpg")
    marks = landmarks_of(rgb)
    lips = _polygon(rgb.shape, marks, LIPS_OUTER_LOOP, erode=3) & ~_polygon(
        rgb.shape, marks, LIPS_INNER_LOOP, erode=-0
    )
    shifts = []
    for intensity in (0.25, 0.5, 1.0):
        out = renderer.render(
            rgb, [marks], [AppliedProduct.paint("lipstick", "#2050c0", intensity=intensity)]
        )
        shifts.append(float(np.abs(out.astype(int) - rgb.astype(int))[lips].mean()))
    assert shifts[0] < shifts[1] < shifts[2]


# --- pose --------------------------------------------------------------------------------------


def visible_change(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > 2


def pose_frames() -> list[tuple[str, np.ndarray]]:
    data = shared_data_dir()
    frames = [(p.stem, read_rgb(p)) for p in sorted((data / "faces/portraits").glob("*"))
              if p.suffix in (".jpg", ".png") and "partial" not in p.stem
              and p.stem not in ("two_people",)]  # fmt: skip
    for clip in ("d3.mp4", "d12.mp4", "s13.mp4"):
        cap = cv2.VideoCapture(str(data / "video" / clip))
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        for index in (count // 4, (3 * count) // 4):
            cap.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, bgr = cap.read()
            if ok:
                frames.append((f"{Path(clip).stem}_{index}", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
        cap.release()
    return frames


def test_look_follows_turned_faces(renderer: MakeupRenderer) -> None:
    """On every real portrait and video frame: the lipstick's changed pixels lie on the lips
    (the landmark lip outline, grown by the feather), the eyeshadow's above the eyes."""
    checked, yaws = 0, []
    for name, rgb in pose_frames():
        faces = _landmarker().detect(rgb, max_faces=1)
        if not faces:
            continue
        marks = faces[0].landmarks
        yaws.append(abs(float(faces[0].pose.yaw)))
        lip_out = renderer.render(
            rgb, [marks], [AppliedProduct.paint("lipstick", "#c0203a", opacity=1.0)]
        )
        # Visible change (> 2 levels): the feather's last faint tail may reach a pixel further.
        changed = visible_change(lip_out, rgb)
        mouth_width = float(np.linalg.norm(marks[61, :2] - marks[291, :2]))
        grow = max(2, round(0.06 * mouth_width))
        lips = cv2.dilate(_polygon(rgb.shape, marks, LIPS_OUTER_LOOP, 0).astype(np.uint8),
                          np.ones((2 * grow + 1,) * 2, np.uint8)).astype(bool)  # fmt: skip
        assert changed.sum() > 30, name
        inside = changed[lips].sum() / changed.sum()
        assert inside >= 0.99, f"{name}: only {inside:.1%} of the lipstick is on the lips"
        shadow_out = renderer.render(
            rgb, [marks], [AppliedProduct.paint("eyeshadow", "#603070", opacity=1.0)]
        )
        changed = visible_change(shadow_out, rgb)
        ys = np.nonzero(changed)[0]
        eye_bottom = max(marks[145, 1], marks[374, 1])
        assert ys.size and np.percentile(ys, 95) <= eye_bottom + 2, f"{name}: shadow below the eyes"
        save(f"pose_{name}.png", rgb, renderer.render(rgb, [marks], FULL_LOOK))
        checked += 1
    print(f"\npose: {checked} faces checked, |yaw| up to {max(yaws):.0f} deg")
    assert checked >= 12 and max(yaws) >= 15
