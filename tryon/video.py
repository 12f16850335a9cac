"""Video files in and out, with no system packages.

The ffmpeg binary comes from the `imageio-ffmpeg` wheel (static, libx264 inside), so reading a
clip for `tryon stream` and writing a result that plays in any browser work on a bare machine.

    frames, fps, (width, height) = read_video("clip.mp4")
    with VideoWriter("out.mp4", fps) as writer:
        for rgb in frames:
            writer.write(rgb)
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import imageio_ffmpeg
import numpy as np

# Used when the container does not say (ffmpeg reports 0): the commonest camera rate in Europe,
# and any positive rate keeps the written file valid.
DEFAULT_FPS = 25.0

# imageio-ffmpeg starts ffmpeg with preexec_fn=os.setpgrp (to shield it from Ctrl-C), which makes
# Python fork() instead of vfork(); forking while gRPC's threads run (a stream in progress) runs
# gRPC's fork handlers in the child and now and then kills it before exec (EPIPE on the first
# frame). Without preexec_fn, subprocess uses vfork + exec: nothing runs in the child. Its
# documented switch; read at each start, so setting it here covers every call below.
os.environ.setdefault("IMAGEIO_FFMPEG_NO_PREVENT_SIGINT", "1")


def read_video(path: str | os.PathLike[str]) -> tuple[Iterator[np.ndarray], float, tuple[int, int]]:
    """Decoded frames (H x W x 3 uint8 RGB, display orientation), fps and (width, height).

    Frames are decoded lazily by an ffmpeg child process, so a long clip never sits in memory;
    closing (or dropping) the iterator stops that process. fps is DEFAULT_FPS when unknown.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such video file")
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    meta: dict[str, Any] = next(reader)  # ffmpeg has probed the file: size and rate known
    width, height = (int(v) for v in meta["size"])
    fps = float(meta.get("fps") or 0.0) or DEFAULT_FPS

    def frames() -> Iterator[np.ndarray]:
        try:
            for data in reader:
                yield np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3)
        finally:
            reader.close()

    return frames(), fps, (width, height)


class VideoWriter:
    """Writes RGB frames as an H.264 MP4 that browsers play (Chromium, Safari, Firefox).

    Why these settings: libx264 + yuv420p is the one H.264 flavour every browser decodes;
    4:2:0 needs even dimensions, so an odd width or height is padded by one edge pixel (never
    rescaled); `+faststart` moves the index to the front so playback starts before the whole
    file has downloaded. The size is fixed by the first frame unless given; crf 18 is visually
    near lossless. Use as a context manager: leaving it finishes the file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fps: float,
        size: tuple[int, int] | None = None,
        *,
        crf: int = 18,
        preset: str = "veryfast",
    ) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.fps = float(fps)
        self.size = size
        self.crf = crf
        self.preset = preset
        self.frames_written = 0
        self._writer: Generator[None, Any, None] | None = None

    def _open(self, width: int, height: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = imageio_ffmpeg.write_frames(
            str(self.path),
            (width + width % 2, height + height % 2),
            pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p",
            fps=self.fps,
            codec="libx264",
            quality=None,  # crf below instead of imageio's 0-10 scale
            macro_block_size=1,  # we pad to even ourselves; imageio would rescale
            output_params=["-crf", str(self.crf), "-preset", self.preset,
                           "-movflags", "+faststart"],
        )  # fmt: skip
        self._writer.send(None)  # start ffmpeg

    def write(self, rgb: np.ndarray) -> None:
        """One H x W x 3 uint8 RGB frame, the same size as the first one."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an H x W x 3 uint8 RGB frame, got {rgb.shape} {rgb.dtype}")
        height, width = rgb.shape[:2]
        if self.size is None:
            self.size = (width, height)
        if (width, height) != self.size:
            raise ValueError(f"frame is {width}x{height}, the video {self.size[0]}x{self.size[1]}")
        if self._writer is None:
            self._open(width, height)
        if width % 2 or height % 2:
            rgb = np.pad(rgb, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
        assert self._writer is not None
        self._writer.send(np.ascontiguousarray(rgb))
        self.frames_written += 1

    def close(self) -> None:
        """Flushes the encoder and finishes the file (waits for ffmpeg)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> VideoWriter:
        if self.size is not None and self._writer is None:
            self._open(*self.size)  # start ffmpeg now, before a stream's threads are busy
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
