"""Temporal smoothing of face landmarks for live try-on: a One Euro filter scaled by face size.

Raw per-frame landmarks jitter by a fraction of a pixel to a few pixels even on a still face, and
makeup drawn from them shakes ("shaking lips"). A fixed low-pass filter trades that jitter for
lag. The One Euro filter (Casiraghi, Roussel, Vogel, CHI 2012) adapts instead: per coordinate,
an exponential low-pass whose cutoff rises with the (low-pass filtered) speed of that coordinate,
``cutoff = min_cutoff + beta * |speed|``. At rest the cutoff is low and jitter is averaged away;
on fast motion the cutoff is high and the output follows within about one frame. It is causal
(uses only past and current samples), so it adds no frames of latency beyond its own lag.

Speeds here are in face sizes per second (``face_size`` is given by the caller, e.g.
:func:`face_size`), so the same ``beta`` behaves alike on a face 100 px or 600 px wide. The
filter state (:class:`SmootherState`) is a value, serialised with :meth:`SmootherState.to_bytes`
so a stateless worker can keep it in Redis between frames.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

__all__ = [
    "LEFT_EYE_OUTER",
    "RIGHT_EYE_OUTER",
    "LandmarkSmoother",
    "OneEuroParams",
    "SmootherState",
    "face_size",
]

# MediaPipe face-mesh indices of the outer eye corners (the subject's right eye, then left eye).
RIGHT_EYE_OUTER = 33
LEFT_EYE_OUTER = 263

_TWO_PI = 2.0 * math.pi


@dataclass(frozen=True)
class OneEuroParams:
    """One Euro filter parameters; speeds in face sizes per second.

    Defaults chosen by measurement (tests/render/test_landmark_smoothing.py: a synthetic
    478-point face at 30 fps, i.i.d. landmark noise of std 0.5 % of the face size per
    coordinate, head motions peaking at 2 face sizes/s: 0.5 and 1 Hz sways, a 2 Hz shake, a
    pan; "lag" is lag_frames against the noise-free motion):

    * ``min_cutoff_hz = 1.0``: at rest the filter is an EMA with alpha 0.17 at 30 fps: still-face
      jitter falls to 0.16x raw (0.22x with 2 % noise). 1.5 Hz gives 0.20x for no real lag
      gained (lag is set by beta and d_cutoff); 0.7 Hz 0.12x but a slower start of each motion.
    * ``beta = 4.0``: at a steady 2 face sizes/s the cutoff reaches ~12 Hz (alpha 0.72); the
      lag is 0.55-0.76 frame over the four motions (beta 2: up to 1.07, over the one-frame
      budget; beta 8: 0.34-0.50 but 0.18x still-face and 0.29x slow-drift jitter). At rest
      noise gives a filtered speed of ~0.04 face sizes/s, so the cutoff moves by only ~0.2 Hz.
    * ``d_cutoff_hz = 2.0`` rather than the paper's 1.0: with the speed estimate filtered at
      1 Hz (a 0.16 s time constant) the cutoff trails a sway's speed by a good part of its
      period, so the output lags into each reversal and then catches up with a jerk: on the
      1 Hz sway the error's high-frequency energy (bench.jitter.high_frequency_energy) was
      0.48x the raw noise's at d_cutoff 1 / beta 8 (the pair with the same lag) against 0.27x
      here, 1.31x against 0.81x on the 2 Hz shake, while still-face jitter is a little lower
      here too (0.156x against 0.161x). 3 Hz (with beta 3) measured about the same as 2 Hz.
    """

    min_cutoff_hz: float = 1.0
    beta: float = 4.0
    d_cutoff_hz: float = 2.0
    # A repeated or slightly out-of-order timestamp counts as one frame at this rate rather
    # than a zero or negative interval (which would divide by zero or run the filter backwards).
    nominal_dt_s: float = 1.0 / 30.0
    # After a gap this long (tracking lost, app paused) the old state says nothing about where
    # the face is now: start over from the raw landmarks rather than glide across the screen.
    max_gap_s: float = 0.5

    def __post_init__(self) -> None:
        if not (self.min_cutoff_hz > 0 and self.d_cutoff_hz > 0):
            raise ValueError("cutoff frequencies must be positive")
        if not self.beta >= 0:
            raise ValueError("beta must be >= 0")
        if not (0 < self.nominal_dt_s < self.max_gap_s):
            raise ValueError("need 0 < nominal_dt_s < max_gap_s")


# Header: magic, format version, rows, columns, timestamp (float64: epoch seconds need it).
_MAGIC = b"L1E"
_VERSION = 1
_HEADER = struct.Struct("<3sBIId")


@dataclass(frozen=True, eq=False)
class SmootherState:
    """Filter state after one sample. Arrays are read-only; treat the state as a value.

    x: (N, 3) float32 last filtered landmarks (pixels); dx: (N, 3) float32 last filtered
    derivative (pixels per second); t_s: timestamp of that sample (seconds).
    """

    x: np.ndarray
    dx: np.ndarray
    t_s: float

    def to_bytes(self) -> bytes:
        """A 20-byte header then x and dx as little-endian float32 (11.5 KB for 478 points)."""
        rows, cols = self.x.shape
        header = _HEADER.pack(_MAGIC, _VERSION, rows, cols, float(self.t_s))
        return b"".join(
            (
                header,
                np.ascontiguousarray(self.x, dtype="<f4").tobytes(),
                np.ascontiguousarray(self.dx, dtype="<f4").tobytes(),
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SmootherState:
        if len(data) < _HEADER.size:
            raise ValueError("smoother state: truncated header")
        magic, version, rows, cols, t_s = _HEADER.unpack_from(data)
        if magic != _MAGIC or version != _VERSION:
            raise ValueError("smoother state: unknown format")
        count = rows * cols
        if len(data) != _HEADER.size + 8 * count:
            raise ValueError("smoother state: wrong length")
        # astype copies out of the bytes into native-endian float32 the state then owns.
        arrays = np.frombuffer(data, dtype="<f4", offset=_HEADER.size).astype(np.float32)
        x = arrays[:count].reshape(rows, cols)
        dx = arrays[count:].reshape(rows, cols)
        x.flags.writeable = False
        dx.flags.writeable = False
        return cls(x=x, dx=dx, t_s=t_s)


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


class LandmarkSmoother:
    """Stateless One Euro smoother: the state goes in and comes out with every sample."""

    def __init__(self, params: OneEuroParams = OneEuroParams()) -> None:
        self.params = params

    def smooth(
        self,
        landmarks: np.ndarray,
        t_s: float,
        state: SmootherState | None,
        face_size: float,
    ) -> tuple[np.ndarray, SmootherState]:
        """Filter one frame. landmarks: (N, 3) pixels (any float dtype); t_s: frame time in
        seconds; state: what the previous call returned (None for the first frame of a stream);
        face_size: pixels (see :func:`face_size`). Returns the (N, 3) float32 smoothed landmarks
        (a new, writable array) and the state for the next call.

        The first sample, one after a gap longer than ``max_gap_s`` (or a clock jump back by
        as much), or one whose shape differs from the state's, is returned as is and restarts
        the filter.
        """
        p = self.params
        x = np.asarray(landmarks, dtype=np.float32)
        if x.ndim != 2:
            raise ValueError(f"landmarks must be (N, 3), got {x.shape}")
        if not (face_size > 0 and math.isfinite(face_size)):
            raise ValueError(f"face_size must be a positive number, got {face_size}")
        if state is None or state.x.shape != x.shape:
            return self._restart(x, t_s)
        dt = t_s - state.t_s
        if abs(dt) > p.max_gap_s:
            return self._restart(x, t_s)
        if dt <= 0:
            # Keep the later timestamp so a reordered frame does not stretch the next interval.
            dt, t_s = p.nominal_dt_s, state.t_s

        # Derivative of the raw sample against the previous *filtered* value, as in the
        # paper's Algorithm 1 (some later implementations use the previous raw sample): it is
        # what the output has to catch up with, and the state need not keep the raw sample.
        delta = x - state.x
        a_d = _alpha(p.d_cutoff_hz, dt)
        dx = state.dx + a_d * (delta * (1.0 / dt) - state.dx)
        # cutoff = min_cutoff + beta * |dx| / face_size, premultiplied by 2*pi*dt: r = w * dt.
        w_dt = _TWO_PI * dt
        r = (p.min_cutoff_hz * w_dt) + (p.beta * w_dt / face_size) * np.abs(dx)
        a = r / (1.0 + r)
        out = state.x + a * delta
        new_state = SmootherState(x=_frozen(out.copy()), dx=_frozen(dx), t_s=float(t_s))
        return out, new_state

    @staticmethod
    def _restart(x: np.ndarray, t_s: float) -> tuple[np.ndarray, SmootherState]:
        state = SmootherState(x=_frozen(x.copy()), dx=_frozen(np.zeros_like(x)), t_s=float(t_s))
        return x.copy(), state


def _alpha(cutoff_hz: float, dt: float) -> float:
    """EMA weight of an RC low-pass sampled at interval dt: r / (1 + r), r = 2*pi*fc*dt."""
    r = _TWO_PI * cutoff_hz * dt
    return r / (1.0 + r)


def face_size(landmarks: np.ndarray) -> float:
    """Face size in pixels for scaling speeds: the distance between the outer eye corners
    (MediaPipe landmarks 33 and 263), in 3D when z is given: z shares x's scale, and the 3D
    distance stays the same when the head turns, where the 2D one shrinks with the cosine of
    the yaw (and would make beta depend on pose). Falls back to the landmarks' box width
    (then height) if the eye corners are missing or degenerate (under a tenth of the box).
    """
    pts = np.asarray(landmarks)
    if pts.ndim != 2 or pts.shape[0] == 0 or pts.shape[1] < 2:
        raise ValueError(f"landmarks must be (N, 2 or 3), got {pts.shape}")
    # Only the x column and two rows are read: this runs every frame.
    box = float(np.ptp(pts[:, 0]))
    if not box > 0:
        box = float(np.ptp(pts[:, 1]))
    if pts.shape[0] > LEFT_EYE_OUTER:
        corners = pts[[RIGHT_EYE_OUTER, LEFT_EYE_OUTER], :3].astype(np.float64)
        eyes = float(np.linalg.norm(corners[1] - corners[0]))
        if math.isfinite(eyes) and eyes > 0.1 * box:
            return eyes
    if not (box > 0 and math.isfinite(box)):
        raise ValueError("degenerate landmarks: no extent")
    return box
