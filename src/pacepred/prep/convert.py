"""Conversion of one video: re-encoding as small H.264 (:func:`transcode_video`) and extraction
of JPEG frames (:func:`extract_frames`). Outputs appear only when complete: each is written
under a temporary folder ``.pacepred-partial-*`` beside its destination and renamed into place
at the end (:func:`atomic_output`), so a killed run never leaves a half-written output at the
final name.

Transcoding decodes with PyAV, scales with swscale's filter of :mod:`pacepred.data.decoding`
straight to yuv420p, and encodes with libx264: a keyframe every ``gop`` frames and nowhere else
(scene-cut keyframes off, the source's picture types ignored), no B-frames, ``tune=fastdecode``.
Output frame ``i`` gets pts ``i`` in a time base of 1 / fps.

Container: every output is an MP4 (ISO BMFF) file, whatever the name's extension, which is
kept so that split files and class-folder readers find the output under the input's name.
FFmpeg, hence decord and PyAV, recognises the container from the content, not the name.
Measured on the UCF101 xvid clip re-encoded with a keyframe every 16 frames: H.264 in an AVI
container decodes to the right frame count with both decoders, but decord's random access
into it is wrong (frame 100 comes back as frame 4, 150 as 6: ``i mod 16``), and .webm / .ogv
containers cannot hold H.264 at all; the same stream in MP4 is read right by both.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

from pacepred.messages import first_line
from pacepred.data.decoding import (
    FRAME_NAME, SWSCALE_FILTER, VideoDecodeError, VideoFileError, check_video_file, displayed_size, every_frame,
    open_pyav, probe_video, quarter_turns, rgb_frame, video_stream,
)

#: Name prefix of the temporary folders outputs are written in.
PARTIAL_PREFIX = ".pacepred-partial-"
#: Container format of every transcoded output (see the module docstring).
OUTPUT_FORMAT = "mp4"


class ConversionError(VideoFileError):
    """An output could not be written or came out wrong."""

    action = "convert"


def _check_even(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 2 or value % 2:
        raise ValueError(f"{name}={value!r}: expected an even integer >= 2 (yuv420p H.264 needs even frame sizes)")


@dataclass(frozen=True)
class TranscodeSettings:
    """How :func:`transcode_video` encodes: ``short_side`` (even; the long side keeps the aspect
    ratio, rounded to an even number) or a fixed ``size`` (height, width), both even; keyframe
    interval ``gop`` in frames; x264 ``preset`` and ``crf``; ``fps`` None keeps the source's
    frame rate, a number resamples to it."""

    short_side: int | None = 128
    size: tuple[int, int] | None = None
    gop: int = 16
    preset: str = "veryfast"
    crf: int = 20
    fps: float | None = None

    def __post_init__(self):
        if (self.short_side is None) == (self.size is None):
            raise ValueError(f"transcode: give exactly one of short_side ({self.short_side}) and size ({self.size})")
        if self.size is not None:
            if len(self.size) != 2:
                raise ValueError(f"transcode.size={list(self.size)}: expected [height, width]")
            _check_even("transcode.size height", self.size[0])
            _check_even("transcode.size width", self.size[1])
        else:
            _check_even("transcode.short_side", self.short_side)
        if not isinstance(self.gop, int) or self.gop < 1:
            raise ValueError(f"transcode.gop={self.gop!r}: expected a keyframe interval >= 1 frame")
        if self.fps is not None and not self.fps > 0:
            raise ValueError(f"transcode.fps={self.fps!r}: expected a positive frame rate or null")


@dataclass(frozen=True)
class FrameSettings:
    """How :func:`extract_frames` writes frames: ``short_side`` in pixels (the long side keeps
    the aspect ratio) or None for the native size; JPEG ``quality`` 1-95."""

    short_side: int | None = 128
    quality: int = 90

    def __post_init__(self):
        if self.short_side is not None and (not isinstance(self.short_side, int) or self.short_side < 1):
            raise ValueError(f"frames.short_side={self.short_side!r}: expected a positive integer or null")
        if not isinstance(self.quality, int) or not 1 <= self.quality <= 95:
            raise ValueError(f"frames.quality={self.quality!r}: expected an integer in 1..95")


def scaled_size(width: int, height: int, short_side: int, even: bool = False) -> tuple[int, int]:
    """(width, height) with the shorter side ``short_side`` and the aspect ratio kept, the
    longer side rounded to the nearest integer (``even``: the nearest even integer)."""
    step = 2 if even else 1
    scale = short_side / min(width, height)
    if width <= height:
        return short_side, max(step, round(height * scale / step) * step)
    return max(step, round(width * scale / step) * step), short_side


@contextmanager
def atomic_output(final: Path) -> Iterator[Path]:
    """Yield a temporary path to write ``final`` (a file or a folder) at; when the block ends
    without error, move it to ``final`` (a rename in the same folder), else delete it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=PARTIAL_PREFIX, dir=final.parent))
    try:
        yield folder / final.name
        os.replace(folder / final.name, final)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_partials(folder: Path) -> int:
    """Delete the temporary folders a killed run left in ``folder``; returns how many."""
    leftovers = [entry for entry in os.scandir(folder) if entry.name.startswith(PARTIAL_PREFIX)] if folder.is_dir() else []
    for entry in leftovers:
        shutil.rmtree(entry.path, ignore_errors=True)
    return len(leftovers)


def _decode(source: Path) -> Iterator:
    """(input stream, frames in display order) of a video file; a broken or truncated stream
    raises :class:`VideoDecodeError` (:func:`pacepred.data.decoding.every_frame`)."""
    check_video_file(source)
    with open_pyav(source) as container:
        stream = video_stream(container, source)
        stream.codec_context.thread_count = 1  # one process per video already runs in parallel
        count = 0
        for frame in every_frame(container, stream, source):
            yield stream, frame
            count += 1
    if count == 0:
        raise VideoDecodeError(source, "the video holds no frames")


def transcode_video(source: Path, destination: Path, settings: TranscodeSettings) -> int:
    """Re-encode video ``source`` into ``destination`` (see the module docstring); returns the
    number of frames written, checked against a decode of the finished output.

    Raises:
        VideoDecodeError: the input cannot be decoded (file and reason named).
        ConversionError: encoding failed or the output does not hold every frame written.
    """
    import av

    with atomic_output(destination) as partial:
        output = av.open(str(partial), "w", format=OUTPUT_FORMAT)
        try:
            written = 0
            encoder = None
            for stream, frame in _decode(source):
                if encoder is None:
                    in_rate = stream.average_rate or stream.guessed_rate
                    if not in_rate:
                        raise VideoDecodeError(source, "the stream has no frame rate")
                    rate = Fraction(str(settings.fps)) if settings.fps is not None else Fraction(in_rate)
                    height, width = settings.size or scaled_size(frame.width, frame.height, settings.short_side, True)[::-1]
                    encoder = _encoder(output, rate, width, height, settings)
                    if quarter_turns(frame):  # the stored frames are re-encoded as stored: keep their display rotation
                        encoder.set_display_rotation(frame.rotation)
                    index = 0
                # input frame ``index`` is on screen from index / in_rate to (index + 1) / in_rate;
                # output frame ``written`` (time written / rate) shows the input frame on screen then
                while written * in_rate < (index + 1) * rate:
                    picture = frame.reformat(width=width, height=height, format="yuv420p", interpolation=SWSCALE_FILTER)
                    picture.pts, picture.time_base = written, 1 / rate
                    picture.pict_type = av.video.frame.PictureType.NONE  # keyframes only every gop frames
                    output.mux(encoder.encode(picture))
                    written += 1
                index += 1
            output.mux(encoder.encode(None))
        except av.FFmpegError as err:
            raise ConversionError(destination, f"encoding failed after {written} frames ({first_line(err)})") from err
        finally:
            output.close()
        decoded = probe_video(partial, decode=True).num_frames
        if decoded != written:
            raise ConversionError(destination, f"the output decodes to {decoded} frames, {written} were encoded")
    return written


def _encoder(output, rate: Fraction, width: int, height: int, settings: TranscodeSettings):
    """A libx264 stream of ``output``: ``width`` x ``height`` yuv420p at ``rate`` frames/s."""
    stream = output.add_stream("libx264", rate=rate)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.codec_context.gop_size = settings.gop
    stream.codec_context.max_b_frames = 0
    stream.options = {
        "preset": settings.preset, "crf": str(settings.crf), "tune": "fastdecode", "threads": "1",
        "x264-params": "scenecut=0",  # no keyframes between the gop-spaced ones
    }
    return stream


def extract_frames(source: Path, folder: Path, settings: FrameSettings) -> int:
    """Write every frame of video ``source`` as ``folder/frame000001.jpg, ...`` (RGB JPEG,
    scaled by swscale as :func:`pacepred.data.decoding.rgb_frame` does); returns the count.

    Raises:
        VideoDecodeError: the input cannot be decoded (file and reason named).
    """
    from PIL import Image

    with atomic_output(folder) as partial:
        partial.mkdir()
        count = 0
        for _, frame in _decode(source):
            size = None
            if settings.short_side is not None:  # of the frame as displayed (rgb_frame turns it so)
                size = scaled_size(*displayed_size(frame), settings.short_side)[::-1]
            Image.fromarray(rgb_frame(frame, size)).save(partial / FRAME_NAME.format(count + 1), quality=settings.quality)
            count += 1
    return count
