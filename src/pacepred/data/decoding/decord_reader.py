"""The decord backend: resized while decoding, unique frames in one batch; files whose random access
decord gets wrong (and the last frame of some AVIs) are read through PyAV instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pacepred.data.decoding.common import VideoDecodeError, _unique_indices
from pacepred.data.decoding.integrity import check_complete
from pacepred.data.decoding.pyav_reader import (
    PacketIndex, _packet_index, _read_pyav, every_frame, open_pyav, quarter_turns, rgb_frame, video_stream,
)
from pacepred.messages import first_line


#: video file -> (file size, mtime in ns, whether decord's random access reads it right): this
#: process's answers, kept while the file stays the same.
_DECORD_CHECKS: dict[str, tuple[int, int, bool]] = {}


def _decord_reads_right(path: Path) -> bool:
    """Whether decord's random access reads the (complete: :func:`check_complete`) file right.

    decord's random access returns earlier frames (frame 12 as frame 0, ...) in an AVI file with
    more than one keyframe (H.264 as well as MPEG-4 part 2) and in an MPEG-4 part 2 stream with
    B-frames and more than one keyframe, packed or not (xvid/DivX: long UCF101 and HMDB51
    videos). decord also counts and indexes the pictures that an MP4/MOV edit list hides
    (:class:`PacketIndex`), so it returns copies of an earlier frame past the shown ones and
    frames shifted by the hidden ones after a cut start. Such files are read through PyAV.
    Opening the container costs 0.5-4 ms, the packet scan of an AVI, MP4/MOV or MPEG-4 part 2
    file 1-2 ms more; once per file and process.
    """
    stat = path.stat()
    known = _DECORD_CHECKS.get(str(path))
    if known is not None and known[:2] == (stat.st_size, stat.st_mtime_ns):
        return known[2]
    with open_pyav(path) as container:
        stream = video_stream(container, path)
        avi = container.format.name == "avi"
        iso = "mp4" in container.format.name.split(",")  # FFmpeg's one demuxer of MP4, MOV, M4V, 3GP
        reads_right = True
        if avi or iso or stream.codec_context.name == "mpeg4":
            index = _packet_index(container, stream, path)
            reads_right = not index.hidden and (index.keyframes <= 1 or not (avi or index.b_frames))
    if reads_right and not avi:  # AVI holds no display rotation
        reads_right = _first_frame_turns(path) == 0
    _DECORD_CHECKS[str(path)] = (stat.st_size, stat.st_mtime_ns, reads_right)
    return reads_right


def _first_frame_turns(path: Path) -> int:
    """:func:`quarter_turns` of the video's first frame (decoding it: 1-3 ms); 0 when it has none.

    decord turns such frames when it resizes them, but at the native size it returns the
    stored frame's bytes in the turned shape (garbage, or an error naming no file in a batch);
    PyAV returns them as stored. Both backends therefore read rotated files through PyAV, which
    turns them (:func:`rgb_frame`)."""
    with open_pyav(path) as container:
        stream = video_stream(container, path)
        stream.codec_context.thread_count = 1
        try:
            first = next(iter(every_frame(container, stream, path)), None)
        except VideoDecodeError:
            return 0  # reading the file reports it
    return quarter_turns(first) if first is not None else 0


def _read_decord(path: Path, choose_indices, size, num_threads: int) -> np.ndarray:
    import decord

    if not _decord_reads_right(path):
        return _read_pyav(path, choose_indices, size, num_threads)
    height, width = size if size is not None else (-1, -1)
    try:
        reader = decord.VideoReader(str(path), width=width, height=height, num_threads=num_threads)
        num_frames = len(reader)
    except Exception as err:  # decord raises its own DECORDError and plain RuntimeErrors
        raise VideoDecodeError(path, f"cannot open as a video ({first_line(err)})") from err
    if num_frames < 1:
        raise VideoDecodeError(path, "the container reports no frames")
    unique, inverse = _unique_indices(path, choose_indices, num_frames)
    # decord sometimes returns the frame before the last one in place of the last frame (a
    # race when its decoder is flushed at the end of the stream; seen in 2-7% of reads on the
    # UCF101 xvid AVI), so the last frame comes from PyAV.
    body = unique[:-1] if unique[-1] == num_frames - 1 else unique
    try:
        frames = reader.get_batch(body.tolist()).asnumpy() if body.size else None
    except Exception as err:
        raise VideoDecodeError(path, f"decoding frames failed ({first_line(err)})") from err
    if body.size < unique.size:
        last = _read_pyav(path, lambda count: np.array([count - 1]), size, num_threads)
        frames = last if frames is None else np.concatenate([frames, last])
    return frames[inverse]
