"""read_clip: the one interface over the decoders (decord, PyAV, frame folders), with an optional
in-memory cache of whole decoded videos; probe_video: a video's frame count, fps and size.

Where the backends agree and why the decord backend hands some files to PyAV:
docs/notes/decoding.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from pacepred.data.decoding.common import BACKENDS, VideoDecodeError, VideoInfo, _unique_indices
from pacepred.data.decoding.decord_reader import _first_frame_turns, _read_decord
from pacepred.data.decoding.frame_folders import DCT_SHORTFALL, _probe_frame_folder, _read_frame_folder
from pacepred.data.decoding.integrity import check_video_file
from pacepred.data.decoding.pyav_reader import (
    _packet_index, _read_pyav, every_frame, open_pyav, quarter_turns, video_stream,
)


#: Whole videos kept by ``read_clip(..., cache=True)``: (path, file size, mtime, size, backend) -> frames.
_DECODED: dict[tuple, np.ndarray] = {}


def read_clip(
    path: Path | str,
    choose_indices: Callable[[int], np.ndarray],
    size: tuple[int, int] | None = None,
    num_threads: int = 1,
    backend: str = "decord",
    cache: bool = False,
    defer_frame_resize: bool = False,
) -> np.ndarray:
    """Decode the frames ``choose_indices(num_frames)`` asks for, in that order.

    Args:
        path: a video file (AVI/xvid, MP4/H.264, MKV, WebM, ...) or a folder of JPEG frames
            ``frame%06d.jpg`` (read by the ``frames`` backend whatever ``backend`` says).
        choose_indices: maps the video's frame count to the wanted 0-based indices (K,) int;
            repeats and any order are allowed (slow paces repeat frames, looping clips wrap).
        size: ``(height, width)`` to resize to (smaller or larger than the video), or None
            for the native size.
        num_threads: decoder threads (1 inside data-loader workers, which already run in
            parallel); ignored by the ``frames`` backend.
        backend: ``decord``, ``pyav`` or ``frames`` (see the module docstring).
        cache: decode the whole video the first time this process asks for it and keep it in
            memory (keyed by path, file size and mtime, ``size`` and ``backend``); later calls
            slice it. For datasets that fit in RAM (H x W x 3 bytes per frame), read by one
            process (data.num_workers=0) or by persistent workers (a copy each).
        defer_frame_resize: frame folders only: return the frames as decoded (at the smallest
            power-of-two DCT reduction that covers ``size`` but for :data:`DCT_SHORTFALL`; a frame
            of another size than the first is resized to the first's) for a caller that resizes just its crop
            (:func:`~pacepred.data.transforms.crop_and_flip` with ``size``). Video files are
            resized while decoding either way.

    Returns:
        uint8 array (K, H, W, 3), RGB.

    Raises:
        VideoDecodeError: the video or a frame cannot be read (file and reason named).
    """
    if backend not in BACKENDS:
        raise ValueError(f"decoder backend {backend!r}: expected one of {BACKENDS}")
    path = Path(path)
    if cache:
        stat = path.stat() if path.exists() else None
        key = (str(path), stat and stat.st_size, stat and stat.st_mtime_ns, size and tuple(size), backend,
               defer_frame_resize)
        video = _DECODED.get(key)
        if video is None:
            for stale in [k for k in _DECODED if k[0] == key[0] and k[1:3] != key[1:3]]:
                del _DECODED[stale]  # the file changed since: its old frames are never read again
            video = _DECODED[key] = read_clip(path, np.arange, size, num_threads, backend,
                                              defer_frame_resize=defer_frame_resize)
        unique, inverse = _unique_indices(path, choose_indices, len(video))  # checked as when decoding
        return video[unique][inverse]
    if path.is_dir():
        return _read_frame_folder(path, choose_indices, size, defer_frame_resize)
    check_video_file(path)
    if backend == "frames":
        raise VideoDecodeError(path, "the frames backend reads a folder of frame%06d.jpg files, this is a file")
    if backend == "pyav":
        return _read_pyav(path, choose_indices, size, num_threads)
    return _read_decord(path, choose_indices, size, num_threads)


def probe_video(path: Path | str, decode: bool = True) -> VideoInfo:
    """Frame count, fps and native size of a video file or a frame folder.

    With ``decode`` every frame is decoded (without colour conversion) and ``num_frames`` is
    the number of decodable frames, so a broken stream such as ``corrupted_h264.mp4`` (50
    frames claimed, 28 decodable) is caught. Without it, a file's frames are counted from its
    packets (demuxing only, what decord reports) and a folder's from its file names.

    Raises:
        VideoDecodeError: the video cannot be opened or decoded (file and reason named).
    """
    path = Path(path)
    if path.is_dir():
        return _probe_frame_folder(path, decode)
    check_video_file(path)
    import av

    with open_pyav(path) as container:
        stream = video_stream(container, path)
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else None
        width, height = stream.codec_context.width, stream.codec_context.height
        avi = container.format.name == "avi"
        stream.codec_context.thread_count = 1  # the index runs one probe per worker process
        turned = False
        if decode:
            num_frames = 0
            for frame in every_frame(container, stream, path):
                turned = turned or (num_frames == 0 and quarter_turns(frame) % 2 == 1)
                num_frames += 1
        else:
            num_frames = len(_packet_index(container, stream, path).packets)
    if num_frames < 1:
        raise VideoDecodeError(path, "the video holds no frames")
    if not decode and not avi:  # AVI holds no display rotation
        turned = _first_frame_turns(path) % 2 == 1
    if turned:  # the displayed frame's size, as the decoders return it
        width, height = height, width
    return VideoInfo(num_frames=num_frames, fps=fps, width=width, height=height)
