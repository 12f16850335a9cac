"""Jitter and lag measurements for live try-on: camera noise for still-face clips, landmark
jitter, high-frequency energy, lag of a smoother, and flicker of a rendered product's edge.

Pure functions (no I/O, no printing), shared by `make bench` and the tests. Tracks are
(T, N, D) arrays: T frames of N landmarks with D >= 2 coordinates (x, y pixels first; any z is
ignored: jitter is judged where it is seen, in the image plane). Lengths are divided by a face
size in pixels so figures compare across face sizes.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "edge_flicker",
    "high_frequency_energy",
    "lag_frames",
    "landmark_jitter",
    "peak_lag_error",
    "sensor_noise",
    "still_face_frames",
]

# Camera noise model defaults, in 8-bit levels (DN). Variance = a * I + b with I the clean
# level: at I = 128 the std is sqrt(0.06 * 128 + 1.0) = 2.9 levels, 1.0 in black and 4.0 in
# white, about what a webcam gives in indoor light after its own denoising.
SHOT_NOISE_GAIN = 0.06  # a: DN per photo-electron, i.e. how fast variance grows with signal
READ_NOISE_VAR = 1.0  # b: read + quantisation noise floor, DN^2
GAIN_FLICKER = 0.005  # std of a per-frame global gain (auto-exposure hunting, mains lighting)

# MediaPipe 478 key points for lag_frames: nose tip, outer eye corners, mouth corners, chin.
_KEY_POINTS_478 = (1, 33, 263, 61, 291, 152)


def sensor_noise(
    rgb: np.ndarray,
    rng: np.random.Generator,
    *,
    shot_gain: float = SHOT_NOISE_GAIN,
    read_var: float = READ_NOISE_VAR,
    flicker: float = GAIN_FLICKER,
) -> np.ndarray:
    """A noisy capture of a clean uint8 RGB frame: a new (H, W, 3) uint8 array.

    Model (heteroscedastic Gaussian, the usual Poisson-Gaussian approximation of a sensor):
    each frame first gets one global gain g ~ N(1, flicker) (exposure / lighting flicker); then
    every pixel and channel independently I' = g*I + n, n ~ N(0, shot_gain * g*I + read_var),
    rounded and clipped to 0..255. Intensities are the 8-bit values taken as roughly linear
    (a webcam's tone curve is mild in mid-tones). Not modelled: spatial correlation from
    demosaicing and denoising, compression artefacts, rolling shutter.
    """
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"need (H, W, 3) uint8, got {rgb.dtype} {rgb.shape}")
    gain = 1.0 + flicker * float(rng.standard_normal()) if flicker > 0 else 1.0
    level = rgb.astype(np.float32) * np.float32(gain)
    std = np.sqrt(np.float32(shot_gain) * level + np.float32(read_var))
    noisy = level + std * rng.standard_normal(rgb.shape, dtype=np.float32)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def still_face_frames(
    rgb: np.ndarray, count: int = 60, seed: int = 0, **noise: float
) -> list[np.ndarray]:
    """The same real frame `count` times, each with independent sensor noise (keywords of
    :func:`sensor_noise`): a still face, so any landmark motion across them is jitter."""
    rng = np.random.default_rng(seed)
    return [sensor_noise(rgb, rng, **noise) for _ in range(count)]


def _xy(tracks: np.ndarray, min_frames: int) -> np.ndarray:
    a = np.asarray(tracks, dtype=np.float64)
    if a.ndim != 3 or a.shape[2] < 2:
        raise ValueError(f"tracks must be (T, N, 2 or 3), got {a.shape}")
    if a.shape[0] < min_frames:
        raise ValueError(f"need at least {min_frames} frames, got {a.shape[0]}")
    return a[:, :, :2]


def landmark_jitter(tracks: np.ndarray, face_size: float) -> float:
    """Mean frame-to-frame displacement of a landmark in the image plane (Euclidean x, y), over
    all points and frame pairs, divided by face_size. On a still face all of it is jitter; for
    i.i.d. Gaussian noise of std s per coordinate it is s * sqrt(pi) / face_size."""
    xy = _xy(tracks, 2)
    step = np.linalg.norm(np.diff(xy, axis=0), axis=2)
    return float(step.mean() / face_size)


def high_frequency_energy(tracks: np.ndarray, face_size: float) -> float:
    """Energy of the second difference x[t+1] - 2 x[t] + x[t-1] of (x, y): its squared
    Euclidean norm, averaged over points and frames, divided by face_size^2.

    The second difference is a high-pass filter (gain 4 sin^2(pi f / fps): 4 at Nyquist, 0.04
    at 1 Hz in a 30 fps clip), so smooth head motion contributes little and frame-to-frame
    jitter dominates: i.i.d. noise of std s per coordinate gives 2 * 6 s^2 / face_size^2,
    while a 1 Hz sway of amplitude A gives about A^2 * (2 pi / 30)^4 / 2 — use it on real clips
    where the head moves and landmark_jitter would count the motion as jitter.
    """
    xy = _xy(tracks, 3)
    second = xy[2:] - 2.0 * xy[1:-1] + xy[:-2]
    return float(np.mean(np.sum(second * second, axis=2)) / (face_size * face_size))


def _lag_signals(tracks: np.ndarray) -> np.ndarray:
    """(T-1, K, 2) velocities: of the mean face position, then of a few key points."""
    xy = _xy(tracks, 3)
    n = xy.shape[1]
    keys = _KEY_POINTS_478 if n == 478 else tuple(np.linspace(0, n - 1, min(n, 6)).astype(int))
    points = np.concatenate([xy.mean(axis=1, keepdims=True), xy[:, list(keys)]], axis=1)
    return np.diff(points, axis=0)


def lag_frames(raw: np.ndarray, smoothed: np.ndarray, max_lag: int = 5) -> float:
    """How many frames the smoothed track runs behind the raw one (positive: behind).

    The normalised cross-correlation, over lags -max_lag..max_lag, of the frame-to-frame
    velocities of the mean face position and of a few key points (nose tip, eye and mouth
    corners, chin for a 478-point mesh); the peak lag refined to a fraction of a frame by a
    parabola through the peak and its neighbours. Velocities, not positions: they have no DC
    and weight the fast parts of a motion, where lag is visible. Needs a clip that moves.
    """
    a = _lag_signals(raw)
    b = _lag_signals(smoothed)
    if a.shape != b.shape:
        raise ValueError(f"raw {raw.shape} and smoothed {smoothed.shape} differ")
    frames = a.shape[0]
    if frames < 2 * max_lag + 3:
        raise ValueError(f"need more than {2 * max_lag + 3} frames for max_lag={max_lag}")
    lags = np.arange(-max_lag, max_lag + 1)
    corr = np.empty(lags.size)
    for i, lag in enumerate(lags):
        # smoothed[t] ~ raw[t - lag]  <=>  b[t + lag] ~ a[t]
        aa = a[max(0, -lag) : frames - max(0, lag)]
        bb = b[max(0, lag) : frames - max(0, -lag)]
        denom = math.sqrt(float(np.sum(aa * aa)) * float(np.sum(bb * bb)))
        corr[i] = float(np.sum(aa * bb)) / denom if denom > 0 else 0.0
    k = int(np.argmax(corr))
    if 0 < k < lags.size - 1:
        left, mid, right = corr[k - 1], corr[k], corr[k + 1]
        curve = left - 2.0 * mid + right
        if curve < 0:
            return float(lags[k] + 0.5 * (left - right) / curve)
    return float(lags[k])


def peak_lag_error(raw: np.ndarray, smoothed: np.ndarray, face_size: float) -> float:
    """How far behind the smoothed face is when the head moves fast: mean Euclidean |smoothed
    - raw| (x, y) over all points in the 10 % fastest frames, divided by face_size. A frame's
    speed is the mean over points of its raw displacement from the previous frame. Against a
    noisy raw track this includes the noise the smoother removed; pass the true track as `raw`
    when there is one."""
    a = _xy(raw, 2)
    b = _xy(smoothed, 2)
    if a.shape != b.shape:
        raise ValueError(f"raw {raw.shape} and smoothed {smoothed.shape} differ")
    speed = np.linalg.norm(np.diff(a, axis=0), axis=2).mean(axis=1)  # frame t+1 vs t
    count = max(1, math.ceil(0.1 * speed.size))
    fastest = np.argsort(speed)[-count:] + 1
    err = np.linalg.norm(b[fastest] - a[fastest], axis=2)
    return float(err.mean() / face_size)


def edge_flicker(masks: np.ndarray) -> float:
    """How much a rendered product's edge flickers: masks (T, H, W) coverage 0..1 per frame
    (e.g. the lipstick mask); the mean absolute frame-to-frame change of coverage over the edge
    band: pixels whose coverage is partial (0.05..0.95) in some frame or that change by more
    than one 8-bit level across the clip. The flat inside and outside, identical in every frame,
    would only dilute the figure. 0.0 if there is no such band."""
    m = np.asarray(masks, dtype=np.float32)
    if m.ndim != 3 or m.shape[0] < 2:
        raise ValueError(f"masks must be (T >= 2, H, W), got {m.shape}")
    partial = np.any((m > 0.05) & (m < 0.95), axis=0)
    changing = (m.max(axis=0) - m.min(axis=0)) > 1.0 / 255.0
    band = partial | changing
    if not band.any():
        return 0.0
    inside = m[:, band]  # (T, K)
    return float(np.abs(np.diff(inside, axis=0)).mean())
