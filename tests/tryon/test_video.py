"""tryon.video: what `tryon stream` and the demo write must read back the same and be the H.264
flavour browsers play (yuv420p, even size), with the bundled ffmpeg only."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from tryon.video import VideoWriter, read_video


def synthetic_frames(count: int, width: int, height: int) -> list[np.ndarray]:
    """Smooth gradients and a moving square: easy for H.264, so pixels must come back close."""
    y, x = np.mgrid[0:height, 0:width]
    frames = []
    for i in range(count):
        rgb = np.stack(
            [x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), np.full_like(x, 40 * i)],
            axis=-1,
        ).astype(np.uint8)
        left = 4 + 3 * i
        rgb[8:24, left : left + 16] = (250, 250, 250)
        frames.append(rgb)
    return frames


def probe(path: Path) -> str:
    """The bundled ffmpeg's description of the first video stream (`ffmpeg -i`)."""
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
        check=False,  # no output file given: ffmpeg exits 1 after describing the input
    )
    match = re.search(r"Stream #0:0.*Video: (.*)", result.stderr)
    assert match, result.stderr
    return match.group(1)


def test_round_trip_keeps_size_count_rate_and_pixels(tmp_path: Path) -> None:
    frames = synthetic_frames(12, 96, 64)
    path = tmp_path / "clip.mp4"
    with VideoWriter(path, fps=30) as writer:
        for rgb in frames:
            writer.write(rgb)
    assert writer.frames_written == 12

    decoded, fps, size = read_video(path)
    back = list(decoded)
    assert size == (96, 64)
    assert fps == pytest.approx(30)
    assert len(back) == 12
    assert imageio_ffmpeg.count_frames_and_secs(str(path)) == (12, pytest.approx(0.4, abs=0.05))
    for original, got in zip(frames, back, strict=True):
        assert got.shape == (64, 96, 3) and got.dtype == np.uint8
        error = np.abs(got.astype(np.int16) - original.astype(np.int16))
        assert error.mean() < 3.0, error.mean()


def test_file_is_h264_yuv420p_with_faststart(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    with VideoWriter(path, fps=25) as writer:
        for rgb in synthetic_frames(5, 64, 48):
            writer.write(rgb)
    stream = probe(path)
    assert stream.startswith("h264"), stream
    assert "yuv420p" in stream and "64x48" in stream and "25 fps" in stream, stream
    # +faststart: the index (moov) comes before the media data (mdat), so playback can start
    # before the whole file has arrived.
    head = path.read_bytes()
    assert 0 <= head.find(b"moov") < head.find(b"mdat")


def test_odd_size_is_padded_to_even_not_rescaled(tmp_path: Path) -> None:
    frames = synthetic_frames(3, 65, 47)
    path = tmp_path / "odd.mp4"
    with VideoWriter(path, fps=10) as writer:
        for rgb in frames:
            writer.write(rgb)
    decoded, _, size = read_video(path)
    assert size == (66, 48)
    first = next(decoded)
    error = np.abs(first[:47, :65].astype(np.int16) - frames[0].astype(np.int16))
    assert error.mean() < 3.0


def test_frames_of_another_size_are_refused(tmp_path: Path) -> None:
    with VideoWriter(tmp_path / "x.mp4", fps=10) as writer:
        writer.write(np.zeros((32, 32, 3), np.uint8))
        with pytest.raises(ValueError, match="32x32"):
            writer.write(np.zeros((32, 48, 3), np.uint8))
        with pytest.raises(ValueError, match="uint8 RGB"):
            writer.write(np.zeros((32, 32), np.uint8))


def test_read_video_of_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such video"):
        read_video(tmp_path / "missing.mp4")


def test_real_clip_from_shared_data(shared_data: Path) -> None:
    frames, fps, size = read_video(shared_data / "video" / "d0.mp4")
    assert size == (512, 512) and fps == pytest.approx(25)
    assert sum(1 for _ in frames) == 78
