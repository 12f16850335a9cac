"""Skin tone through the mesh, checked against real data.

Landmarks come from our own FaceLandmarker at test time (models from `make models`), never from
files: the measurement is tested as the service runs it. The independent reference is the MT
dataset's human face-parsing masks (label 1 = skin): the skin colour computed straight from the
mask must agree with what the mesh sampling measures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from face_topology import mesh as fm
from services.common import color as C
from services.recon import skin_tone as st

ROOT = Path(__file__).resolve().parents[2]
MT_SKIN_LABEL = 1


def shared_data_dir() -> Path:
    path = Path(os.environ.get("TRYON_SHARED_DATA", ROOT.parent / "shared" / "data"))
    assert path.is_dir(), f"shared data not found at {path}: set TRYON_SHARED_DATA"
    return path


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


@pytest.fixture(scope="module")
def landmarker() -> Iterator[object]:
    from services.recon.face_landmarker import FaceLandmarker
    from services.recon.runtime import create_runtime

    runtime = create_runtime()
    yield FaceLandmarker(runtime)
    runtime.close()


def detect_one(landmarker: object, image: np.ndarray) -> np.ndarray:
    faces = landmarker.detect(image, max_faces=1)  # type: ignore[attr-defined]
    assert faces, "no face found"
    lm = faces[0].landmarks
    assert lm.shape == (fm.NUM_LANDMARKS, 3)
    return lm


def ciede(lab1: tuple[float, ...] | np.ndarray, lab2: tuple[float, ...] | np.ndarray) -> float:
    return float(C.ciede2000(np.asarray(lab1, float), np.asarray(lab2, float)))


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


# --- the mesh topology the sampling relies on ---------------------------------------------------


def test_face_mesh_loops_follow_mediapipe_edges() -> None:
    assert len(fm.FACE_MESH_TESSELATION) == 2556
    assert len(set(fm.FACE_MESH_TESSELATION)) == 2556
    assert {v for e in fm.FACE_MESH_TESSELATION for v in e} == set(range(468))
    assert fm.edges_to_loop(fm.FACE_OVAL) == fm.FACE_OVAL_LOOP
    assert fm.edges_to_loop(fm.LEFT_IRIS) == fm.LEFT_IRIS_LOOP
    assert fm.edges_to_loop(fm.RIGHT_IRIS) == fm.RIGHT_IRIS_LOOP

    def undirected(edges: object) -> set[frozenset[int]]:
        return {frozenset(e) for e in edges}  # type: ignore[attr-defined]

    lips = undirected(fm.LIPS)
    for loop in (fm.LIPS_OUTER_LOOP, fm.LIPS_INNER_LOOP):
        assert undirected(fm.loop_to_edges(loop)) <= lips
    assert (
        undirected(fm.loop_to_edges(fm.LIPS_OUTER_LOOP))
        | undirected(fm.loop_to_edges(fm.LIPS_INNER_LOOP))
        == lips
    )
    for loop, edges in ((fm.LEFT_EYE_LOOP, fm.LEFT_EYE), (fm.RIGHT_EYE_LOOP, fm.RIGHT_EYE)):
        assert undirected(fm.loop_to_edges(loop)) == undirected(edges)
    for loop, edges in (
        (fm.LEFT_EYEBROW_LOOP, fm.LEFT_EYEBROW),
        (fm.RIGHT_EYEBROW_LOOP, fm.RIGHT_EYEBROW),
    ):
        # The two open brow chains plus the two closing edges this module adds.
        assert undirected(edges) <= undirected(fm.loop_to_edges(loop))
        assert len(fm.loop_to_edges(loop)) == len(edges) + 2
    assert undirected(fm.loop_to_edges(fm.NOSE_LOWER_LOOP)) <= undirected(fm.NOSE)
    with pytest.raises(ValueError):
        fm.edges_to_loop(fm.LIPS)  # two loops
    # Every sampling polygon uses real mesh vertices, and the mesh edges between them.
    tess = undirected(fm.FACE_MESH_TESSELATION)
    for poly in (st.LEFT_CHEEK_POLYGON, st.RIGHT_CHEEK_POLYGON, st.FOREHEAD_POLYGON):
        assert all(0 <= i < 468 for i in poly)
        assert sum(frozenset(e) in tess for e in fm.loop_to_edges(poly)) >= len(poly) - 2


def test_left_right_and_named_landmarks_on_a_real_face(landmarker: object) -> None:
    image = load_rgb(shared_data_dir() / "faces" / "portraits" / "obama.jpg")
    lm = detect_one(landmarker, image)
    # Subject's left is the image's right in an unmirrored photo.
    assert lm[fm.LEFT_EYE_OUTER_CORNER, 0] > lm[fm.RIGHT_EYE_OUTER_CORNER, 0]
    assert lm[fm.LEFT_IRIS_CENTER, 0] > lm[fm.RIGHT_IRIS_CENTER, 0]
    assert lm[fm.LEFT_MOUTH_CORNER, 0] > lm[fm.RIGHT_MOUTH_CORNER, 0]
    assert lm[fm.LEFT_CHEEK, 0] > lm[fm.RIGHT_CHEEK, 0]
    assert lm[st.LEFT_CHEEK_POLYGON, 0].mean() > lm[st.RIGHT_CHEEK_POLYGON, 0].mean()
    # Top to bottom along the midline.
    ys = lm[
        [
            fm.FOREHEAD_TOP,
            fm.GLABELLA,
            fm.NASION,
            fm.NOSE_TIP,
            fm.SUBNASALE,
            fm.UPPER_LIP_TOP,
            fm.LOWER_LIP_BOTTOM,
            fm.CHIN,
        ],
        1,
    ]
    assert np.all(np.diff(ys) > 0)
    # The nose tip is the point nearest the camera.
    assert int(np.argmin(lm[:468, 2])) in (fm.NOSE_TIP, 1, 5, 45, 275)
    assert lm[fm.NOSE_TIP, 2] <= np.sort(lm[:468, 2])[2]


# --- against human skin masks (MT) ----------------------------------------------------------------


@dataclass(frozen=True)
class MtFace:
    name: str
    image: np.ndarray
    skin: np.ndarray  # bool (H, W), the annotators' skin label


def mt_faces() -> list[MtFace]:
    root = shared_data_dir() / "parsing" / "mt"
    out = []
    for path in sorted((root / "images").glob("*/*.png")):
        rel = path.relative_to(root / "images")
        image = load_rgb(path)
        with Image.open(root / "segs" / rel) as seg_im:
            seg = np.asarray(seg_im)
        h, w = image.shape[:2]
        seg = cv2.resize(seg, (w, h), interpolation=cv2.INTER_NEAREST)
        out.append(MtFace(str(rel), image, seg == MT_SKIN_LABEL))
    assert len(out) == 20, f"expected the 20 MT faces in {root}"
    return out


def mask_skin_lab(face: MtFace) -> np.ndarray:
    """Skin colour straight from the human mask: median CIELAB of its pixels, 2 px in from the
    mask's edge (resizing and annotation edges), clipped and black pixels left out."""
    inner = cv2.erode(face.skin.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    px = face.image[inner]
    hi = px.max(axis=1)
    px = px[(hi < 250) & (hi >= 12)]
    return np.median(C.srgb_to_lab(px), axis=0)


def test_mesh_skin_colour_matches_human_skin_masks(landmarker: object) -> None:
    rows = []
    for face in mt_faces():
        lm = detect_one(landmarker, face.image)
        # White balance off on both sides: this compares where the mesh samples, not the WB.
        tone = st.measure_skin_tone(face.image, lm, white_balance=False)
        ref = mask_skin_lab(face)
        # Where the mesh samples, per the annotators: should be skin nearly everywhere.
        xy = lm[:468, :2].astype(np.float64)
        box = st._region_box(xy, *face.image.shape[:2])
        assert box is not None
        labels, _, _ = st.skin_sample_mask(xy, box)
        sampled = labels > 0
        on_skin = float(face.skin[box[1] : box[3], box[0] : box[2]][sampled].mean())
        rows.append((face.name, ref, np.array(tone.lab), ciede(ref, tone.lab), on_skin, tone))

    print("\nMT face          | mask L*  a*    b*   | mesh L*  a*    b*   | dE00 | on-skin | conf")
    for name, ref, got, de, on_skin, tone in rows:
        print(
            f"{name:16.16s} | {ref[0]:5.1f} {ref[1]:5.1f} {ref[2]:5.1f} | "
            f"{got[0]:5.1f} {got[1]:5.1f} {got[2]:5.1f} | {de:4.2f} | {on_skin:.3f}   | "
            f"{tone.confidence:.2f}"
        )
    ref = np.array([r[1] for r in rows])
    got = np.array([r[2] for r in rows])
    de = np.array([r[3] for r in rows])
    on_skin = np.array([r[4] for r in rows])
    d_ab = np.hypot(*(got[:, 1:] - ref[:, 1:]).T)
    rho = {k: spearman(ref[:, i], got[:, i]) for i, k in enumerate("Lab")}
    rho["ITA"] = spearman(C.ita_degrees(ref), C.ita_degrees(got))
    print(
        f"dE00 median {np.median(de):.2f} mean {de.mean():.2f} max {de.max():.2f}; "
        f"|d(a*,b*)| median {np.median(d_ab):.2f}; mesh L* - mask L* median "
        f"{np.median(got[:, 0] - ref[:, 0]):+.2f}; on-skin fraction min {on_skin.min():.3f}; "
        f"Spearman {', '.join(f'{k} {v:.2f}' for k, v in rho.items())}"
    )

    # The mesh's cheek/forehead samples lie on annotated skin, except where hair really covers
    # it (vRX916's fringe covers ~90% of the forehead band; the occlusion check drops it).
    assert np.median(on_skin) > 0.97 and on_skin.min() > 0.6
    # Colour agreement. The mesh reads the lit cheeks and forehead, the mask also the shaded jaw,
    # temples and sides, so the mesh is lighter (L*); hue and chroma agree closely.
    assert np.median(d_ab) < 4.0
    assert np.median(de) < 6.0 and de.max() < 10.0
    # Across faces the two rank skin the same way.
    assert min(rho.values()) > 0.7


# --- white balance --------------------------------------------------------------------------------


def apply_cast(image: np.ndarray, gains: tuple[float, float, float]) -> np.ndarray:
    return np.clip(image.astype(np.float32) * np.float32(gains), 0, 255).astype(np.uint8)


CASTS = {"warm (1.15, 1, 0.85)": (1.15, 1.0, 0.85), "cool (0.85, 1, 1.15)": (0.85, 1.0, 1.15)}


def test_colour_cast_moves_the_measurement_much_less_with_white_balance(
    landmarker: object,
) -> None:
    """8-bit channel gains on real photos. These portraits keep their skin below the clip level
    under the casts (on lighter, brighter skin a 1.15 red gain saturates the red channel and the
    true colour is gone, whatever the white balance). What remains after correction is the dead
    zone (casts below it are left alone by design) and clipped background highlights."""
    ratios = []
    for portrait in ("biden.jpg", "two_people.jpg", "obama3.jpg"):
        image = load_rgb(shared_data_dir() / "faces" / "portraits" / portrait)
        lm = detect_one(landmarker, image)
        plain_raw = st.measure_skin_tone(image, lm, white_balance=False)
        plain = st.measure_skin_tone(image, lm)
        print(
            f"\n{portrait}: no cast, WB on vs off dE00 {ciede(plain.lab, plain_raw.lab):.2f} "
            f"(Lab {np.round(plain.lab, 1).tolist()}, ITA {plain.ita_degrees:.1f}, "
            f"Monk {plain.monk_bucket}, {plain.undertone})"
        )
        for label, gains in CASTS.items():
            cast = apply_cast(image, gains)
            # Same face, same landmarks: only the colours change.
            raw = st.measure_skin_tone(cast, lm, white_balance=False)
            balanced = st.measure_skin_tone(cast, lm)
            moved_raw = ciede(raw.lab, plain_raw.lab)
            moved_wb = ciede(balanced.lab, plain.lab)
            ratios.append(moved_wb / moved_raw)
            print(
                f"  cast {label}: measured colour moves dE00 {moved_raw:.2f} without white "
                f"balance, {moved_wb:.2f} with it ({moved_wb / moved_raw:.0%})"
            )
            assert moved_raw > 4.0
            assert moved_wb < 0.6 * moved_raw
    print(f"mean remaining shift {np.mean(ratios):.0%} of the uncorrected one")
    assert np.mean(ratios) < 0.5


def test_neutral_photos_are_barely_touched_by_white_balance(landmarker: object) -> None:
    folder = shared_data_dir() / "faces" / "portraits"
    shifts = {}
    for name in ("obama.jpg", "obama2.jpg", "lin-manuel-miranda.png", "alex-lacamoire.png"):
        image = load_rgb(folder / name)
        lm = detect_one(landmarker, image)
        on = st.measure_skin_tone(image, lm)
        off = st.measure_skin_tone(image, lm, white_balance=False)
        shifts[name] = ciede(on.lab, off.lab)
    for face in mt_faces()[::4]:
        lm = detect_one(landmarker, face.image)
        on = st.measure_skin_tone(face.image, lm)
        off = st.measure_skin_tone(face.image, lm, white_balance=False)
        shifts[face.name] = ciede(on.lab, off.lab)
    print("\nWB on vs off, uncast photos (dE00):", {k: round(v, 2) for k, v in shifts.items()})
    assert np.median(list(shifts.values())) < 1.0
    assert max(shifts.values()) < 4.0


# --- ordering, confidence, edge cases ------------------------------------------------------------


def test_ita_orders_light_and_dark_faces(landmarker: object) -> None:
    """Light-skinned MT subjects above Obama, whatever the makeup; and the mesh measurement
    ranks the 20 MT faces like their human masks do (see the mask test)."""
    folder = shared_data_dir() / "faces" / "portraits"
    obama_image = load_rgb(folder / "obama.jpg")
    obama = st.measure_skin_tone(obama_image, detect_one(landmarker, obama_image))
    faces = mt_faces()
    light = [st.measure_skin_tone(f.image, detect_one(landmarker, f.image)) for f in faces]
    itas = sorted(t.ita_degrees for t in light)
    print(
        f"\nITA: Obama {obama.ita_degrees:.1f} (Monk {obama.monk_bucket}); MT faces "
        f"{itas[0]:.1f} .. {itas[-1]:.1f} (Monk "
        f"{sorted({t.monk_bucket for t in light})})"
    )
    assert np.median(itas) > obama.ita_degrees + 10
    assert np.median([t.monk_bucket for t in light]) < obama.monk_bucket
    # Darkening the same photo (exposure x 0.6) must lower ITA and raise the Monk tone.
    image = faces[0].image
    lm = detect_one(landmarker, image)
    bright = st.measure_skin_tone(image, lm)
    dark = st.measure_skin_tone((image * 0.6).astype(np.uint8), lm)
    assert dark.ita_degrees < bright.ita_degrees - 10
    assert dark.monk_bucket > bright.monk_bucket


def test_confidence_drops_for_tiny_and_partial_faces(landmarker: object) -> None:
    image = load_rgb(shared_data_dir() / "faces" / "portraits" / "obama.jpg")
    lm = detect_one(landmarker, image)
    full = st.measure_skin_tone(image, lm)
    # Tiny: the same photo at 1/8 size (face ~30 px wide), landmarks scaled along.
    small = cv2.resize(image, None, fx=0.125, fy=0.125, interpolation=cv2.INTER_AREA)
    tiny = st.measure_skin_tone(small, lm * np.float32([0.125, 0.125, 0.125]))
    # Partial: the left half of the face cut off by the frame.
    cut = int(lm[fm.NOSE_TIP, 0])
    partial = st.measure_skin_tone(np.ascontiguousarray(image[:, :cut]), lm)
    print(
        f"\nconfidence: full {full.confidence:.2f}, 1/8 size {tiny.confidence:.2f}, "
        f"half cut off {partial.confidence:.2f}; tiny dE00 vs full "
        f"{ciede(tiny.lab, full.lab):.2f}"
    )
    assert full.confidence > 0.8
    assert tiny.confidence < 0.5 * full.confidence
    assert partial.confidence < 0.75 * full.confidence
    assert ciede(tiny.lab, full.lab) < 5.0  # still about the right colour


def test_result_fields_and_bad_inputs(landmarker: object) -> None:
    image = load_rgb(shared_data_dir() / "faces" / "portraits" / "obama.jpg")
    lm = detect_one(landmarker, image)
    tone = st.measure_skin_tone(image, lm)
    assert tone.hex == C.lab_to_hex(np.array(tone.lab))
    assert tone.monk_bucket == C.monk_bucket(np.array(tone.lab))
    assert tone.ita_degrees == pytest.approx(float(C.ita_degrees(np.array(tone.lab))))
    assert tone.undertone in ("cool", "neutral", "warm")
    assert 0.0 <= tone.confidence <= 1.0
    with pytest.raises(AttributeError):
        tone.hex = "#000000"  # type: ignore[misc]
    # A face entirely outside the image: an answer, with no confidence.
    away = lm + np.float32([10 * image.shape[1], 0, 0])
    assert st.measure_skin_tone(image, away).confidence == 0.0
    with pytest.raises(ValueError, match="uint8"):
        st.measure_skin_tone(image.astype(np.float32), lm)
    with pytest.raises(ValueError, match="landmarks"):
        st.measure_skin_tone(image, lm[:100])
    with pytest.raises(ValueError, match="NaN"):
        st.measure_skin_tone(image, np.full_like(lm, np.nan))
    # A grey (monochrome) photo: measurable lightness, no hue to speak of.
    grey = np.repeat(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    g = st.measure_skin_tone(grey, lm)
    assert abs(g.lab[1]) < 1.0 and abs(g.lab[2]) < 1.0
