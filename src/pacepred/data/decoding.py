"""Video decoding behind one interface: frames come back as uint8 (K, H, W, 3) RGB.

Backends of :func:`read_clip` (``backend=``):

``decord`` (default)
    Resizes while decoding (ffmpeg's swscale, BILINEAR) and reads the unique wanted frames
    with one batched ``get_batch`` call.
``pyav``
    Builds a packet index (demuxing only), seeks to the last keyframe at or before the first
    wanted frame, decodes forward and keeps the wanted frames, resized by swscale with the
    BILINEAR filter as decord does.
``frames``
    A folder of JPEG frames ``frame000001.jpg, frame000002.jpg, ...`` (1-based names, the
    layout of the official code and of the shared ``jpegs_256`` UCF101 frames), decoded with
    libjpeg-turbo (simplejpeg, downscaled in the DCT domain where the target size allows) and
    resized bilinearly with antialiasing (PIL's BILINEAR filter, batched in torch). Chosen
    automatically for any folder path.

What the backends agree on (measured on the real clips of ``tests/data/videos``, AVI/xvid,
MP4/H.264 and MKV/H.264):

* Frame indices: a frame's index is its position in display order. At native size decord and
  PyAV return identical pixels for every frame, whatever the seek point. Both count frames as
  the container's video packets; on the good clips that equals the number of decodable
  frames (164, 280, 300, 310); ``corrupted_h264.mp4`` claims 50 and only its first 28 decode.
  Packet timestamps are not usable as indices: the UCF101 xvid AVI (packed B-frames) hands
  out frame timestamps 1, 2, 4, 3, 5, ... in display order, so PyAV counts frames instead.
* decord returns the frame before the last one in place of the LAST frame of the xvid AVI in
  1-13% of reads depending on the access pattern (a race at the end of the stream; never
  seen on other frames or on the MP4/MKV clips), so the decord backend takes the last frame
  from PyAV.
* decord's random access is wrong in an AVI file with more than one keyframe (H.264 or MPEG-4
  part 2) and in an MPEG-4 part 2 (xvid, DivX) stream with B-frames and more than one keyframe:
  frame 12 comes back as frame 0, 13 as 1, ... while reading all frames in order is right. The
  decord backend therefore reads such files through PyAV (a packet scan per file and process
  finds them). PyAV's seek is right on them unless the B-frames are
  packed DivX-style (a B-frame stored behind its reference, a filler in its place: the UCF101
  videos are stored so), where neither timestamps nor a seek give frame positions; those are
  decoded from their first frame. The real UCF101 AVI has a single keyframe, so it decodes from
  its first frame anyway; xvid encoders usually insert a keyframe every 250-300 frames.
* An AVI or MP4 file that ends inside one of its top-level chunks or boxes (cut short, e.g. an
  MP4 with its index at the front) raises VideoDecodeError (:func:`check_complete`): cut at a
  packet boundary it still decodes, but a missing B-frame would shift every later frame to an
  earlier index. (Comparing the frames a container declares with its packets is no test: AVI
  files count dropped-frame chunks that hold no packet, and an MP4 edit list can end before the
  media does.)
* Resizing: decord scales with swscale's BILINEAR filter (which widens when shrinking, so it
  does not alias), not bicubic. PyAV with the same filter differs from decord by a mean
  absolute error of 0.15-0.40 (out of 255) per pixel, from the different ffmpeg versions
  bundled with each (bicubic: 1.1-2.1). Frames that went through JPEG (quality 95), decoded at
  a DCT scale and resized with PIL's BILINEAR (also widened when shrinking), differ by 1.3-2.6
  (1.1-1.8 with a full-size decode, mostly from the JPEG coding itself).

Every failure (missing or empty file, a file that is not a video, a broken stream, a missing
frame file) raises :class:`VideoDecodeError` naming the file and a short reason; a wrong
``choose_indices`` (out of range, empty) is a programming error and raises IndexError or
ValueError.
"""

from __future__ import annotations

import bisect
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from pacepred.messages import first_line

BACKENDS = ("decord", "pyav", "frames")
#: Name of frame ``i`` (0-based index) in a frame folder: ``FRAME_NAME.format(i + 1)``.
FRAME_NAME = "frame{:06d}.jpg"
FRAME_FILE = re.compile(r"frame\d{6}\.jpg")
#: ``data.frame_folder_resize``: resize only the crop of a frame folder's frames, or whole frames first.
FRAME_FOLDER_RESIZES = ("crop", "whole")
#: swscale filter of decord (measured: the closest of all swscale filters to decord's output).
SWSCALE_FILTER = "BILINEAR"


class VideoFileError(RuntimeError):
    """Something could not be done to a video file; ``path`` and ``reason`` say which and why."""

    action = "use video"

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"cannot {self.action} {path}: {reason}")
        self.path = Path(path)
        self.reason = reason

    def __reduce__(self):
        """Rebuilt from (path, reason) when it crosses a process boundary (loader workers, pools)."""
        return type(self), (self.path, self.reason)


class VideoDecodeError(VideoFileError):
    """A video could not be opened or decoded."""

    action = "decode video"


@dataclass(frozen=True)
class VideoInfo:
    """What the index stores per video: frame count, frames per second (None for a frame
    folder), and the native frame size in pixels."""

    num_frames: int
    fps: float | None
    width: int
    height: int


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


def check_frame_folder_resize(frame_folder_resize: str) -> str:
    """``frame_folder_resize`` if it is one of :data:`FRAME_FOLDER_RESIZES`, else ValueError.

    ``data.frame_folder_resize``: ``crop`` (``read_clip`` with ``defer_frame_resize``: resize only
    the crop, the decoded frames' region under it, half the CPU time) or ``whole`` (whole frames
    resized to ``data.decode_size``, then cropped: the official code's order). The two differ
    by a shift of at most half a source pixel (the region is rounded to whole pixels) and at the
    crop's border (the filter's support): a mean absolute difference of 1.1-1.5 out of 255 on the
    real clips at 128x171 (tests/component/test_decoding.py)."""
    if frame_folder_resize not in FRAME_FOLDER_RESIZES:
        raise ValueError(f"data.frame_folder_resize={frame_folder_resize!r}: expected one of {FRAME_FOLDER_RESIZES}")
    return frame_folder_resize


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


def check_video_file(path: Path) -> None:
    """Raise :class:`VideoDecodeError` unless ``path`` is a non-empty regular file."""
    if not path.exists():
        raise VideoDecodeError(path, "file does not exist")
    if not path.is_file():
        raise VideoDecodeError(path, "not a regular file")
    if path.stat().st_size == 0:
        raise VideoDecodeError(path, "file is empty (0 bytes)")


def _unique_indices(path: Path, choose_indices: Callable[[int], np.ndarray], num_frames: int):
    """(sorted unique wanted indices, positions of the requested frames among them)."""
    indices = np.asarray(choose_indices(num_frames), dtype=np.int64)
    if indices.ndim != 1 or indices.size == 0:
        raise ValueError(f"{path}: choose_indices must return a non-empty (K,) array, got shape {indices.shape}")
    if indices.min() < 0 or indices.max() >= num_frames:
        raise IndexError(
            f"{path}: frame indices must lie in [0, {num_frames}), got {indices.min()}..{indices.max()}"
        )
    unique, inverse = np.unique(indices, return_inverse=True)
    return unique, inverse.reshape(-1)


# ----------------------------------------------------------------------------------- decord


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


# ------------------------------------------------------------------------------------ PyAV


#: Box types of an ISO base media file (MP4, MOV, M4V, 3GP) that can open one.
_ISO_FIRST_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"}


def check_complete(path: Path) -> None:
    """VideoDecodeError when an AVI or MP4/MOV file ends inside one of its top-level chunks or
    boxes: a file cut short (a broken download or copy) whose remaining packets still decode, but
    a B-frame lost at the cut would shift every later frame to an earlier index. Other
    containers, and chunk sizes a writer left unset (0 or 0xFFFFFFFF), are not checked."""
    size = path.stat().st_size
    try:
        file = open(path, "rb")
    except OSError as err:  # no read permission, ...
        raise VideoDecodeError(path, f"cannot read the file ({err.strerror or first_line(err)})") from err
    with file:
        head = file.read(12)
        if head[:4] == b"RIFF":  # AVI: RIFF chunks one after another (OpenDML adds RIFF AVIX ones)
            offset = 0
            while True:
                file.seek(offset)
                header = file.read(8)
                if len(header) < 8 or header[:4] != b"RIFF":
                    return
                length = int.from_bytes(header[4:], "little")
                if length in (0, 0xFFFFFFFF):  # left unset by a writer that could not seek back (a pipe)
                    return
                if offset + 8 + length > size + 1:  # + 1: a final padding byte counted but not written
                    raise VideoDecodeError(path, f"the file ends inside its RIFF chunk at byte {offset} ({length + 8} "
                                                 f"bytes declared, {size - offset} present): a truncated file")
                offset += 8 + length + (length & 1)
        if head[4:8] in _ISO_FIRST_BOXES:  # ISO base media: boxes one after another
            offset = 0
            while offset + 8 <= size:
                file.seek(offset)
                header = file.read(16)
                length, kind = int.from_bytes(header[:4], "big"), header[4:8]
                if length == 1 and len(header) == 16:
                    length = int.from_bytes(header[8:16], "big")
                if length < 8 or not kind.isalnum():  # to the end of the file, or not a box: stop
                    return
                if offset + length > size:
                    raise VideoDecodeError(path, f"the file ends inside its '{kind.decode()}' box at byte {offset} "
                                                 f"({length} bytes declared, {size - offset} present): a truncated file")
                offset += length


def open_pyav(path: Path):
    """``av.open(path)`` of a complete file (:func:`check_complete`); a failure raises
    :class:`VideoDecodeError` naming the file."""
    import av

    check_complete(path)
    try:
        return av.open(str(path))
    except (av.FFmpegError, OSError) as err:
        raise VideoDecodeError(path, f"cannot open as a video ({first_line(err)})") from err


def video_stream(container, path: Path):
    """The first video stream of an open PyAV container (VideoDecodeError if there is none)."""
    if not container.streams.video:
        raise VideoDecodeError(path, "the file has no video stream")
    return container.streams.video[0]


#: MPEG-4 part 2 start code of a video object plane (a picture); the next byte's two high bits
#: are its coding type: 0 I, 1 P, 2 B, 3 S.
VOP_START_CODE = b"\x00\x00\x01\xb6"


@dataclass(frozen=True)
class PacketIndex:
    """A video stream's packets in decoding order (from demuxing only) and what they say about
    random access. Only MPEG-4 part 2 streams (xvid, DivX) are inspected for B-frames.

    ``packets`` are the shown frames: a packet that an MP4/MOV edit list leaves out of the
    presentation (a clip cut by stream copy, ``ffmpeg -ss ... -c copy``, keeps the pictures before
    its cut as references) is decoded but never shown, and only counted in ``hidden``."""

    packets: list[tuple[int | None, bool]]  # (pts, is_keyframe) of every shown packet holding data
    b_frames: bool = False  # MPEG-4 part 2 with B-frames
    packed_b_frames: bool = False  # ... stored DivX-style: a B-frame packed behind its reference
    hidden: int = 0  # packets holding data that the edit list hides

    @property
    def keyframes(self) -> int:
        return sum(keyframe for _, keyframe in self.packets)


def _vop_types(data: bytes) -> list[int]:
    """Coding types (0 I, 1 P, 2 B, 3 S) of the coded pictures in one MPEG-4 part 2 packet;
    a not-coded placeholder (N-VOP, a packed stream's filler after a packed B-frame) counts too."""
    types, at = [], data.find(VOP_START_CODE)
    while at != -1 and at + 4 < len(data):
        types.append(data[at + 4] >> 6)
        at = data.find(VOP_START_CODE, at + 4)
    return types


def _packet_index(container, stream, path: Path) -> PacketIndex:
    """The stream's packets, from demuxing."""
    import av

    mpeg4 = stream.codec_context.name == "mpeg4"
    packets, b_frames, packed, hidden = [], False, False, 0
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if packet.is_discard:
                hidden += 1
                continue
            packets.append((packet.pts, packet.is_keyframe))
            if mpeg4:
                types = _vop_types(bytes(packet))
                b_frames = b_frames or 2 in types
                packed = packed or len(types) > 1
    except av.FFmpegError as err:
        raise VideoDecodeError(path, f"reading packets failed ({first_line(err)})") from err
    return PacketIndex(packets, b_frames, packed and b_frames, hidden)


def every_frame(container, stream, path: Path, from_start: bool = True) -> Iterator:
    """The frames of an open container's ``stream`` in display order, from its start (or, with
    ``from_start=False``, from where a seek left it) to its end; a broken stream raises
    :class:`VideoDecodeError`, saying after how many frames when they were counted from the start."""
    import av

    count = 0
    try:
        for packet in container.demux(stream):  # the last, empty packet flushes the decoder
            for frame in packet.decode():
                yield frame
                count += 1
    except av.FFmpegError as err:
        where = f"decoding failed after {count} frames" if from_start else "decoding frames failed"
        raise VideoDecodeError(path, f"{where} ({first_line(err)})") from err


def _seek_point(index: PacketIndex, first: int) -> tuple[int, int | None]:
    """(display index, pts) of the last keyframe at or before display index ``first``.

    A keyframe's display index is the number of packets shown before it (smaller pts).
    Returns (0, None), decode from the start, when timestamps are missing or meaningless: in a
    stream with packed B-frames neither the timestamps nor the frames after a seek give display
    positions (a seek into one returned the wrong frame for 150 of 164 indices).
    """
    packets = index.packets
    if index.packed_b_frames or any(pts is None for pts, _ in packets):
        return 0, None
    ordered = sorted(pts for pts, _ in packets)
    best = (0, None)
    for pts, keyframe in packets:
        position = bisect.bisect_left(ordered, pts)
        if keyframe and best[0] <= position <= first:
            best = (position, pts)
    return best


def quarter_turns(frame) -> int:
    """Counter-clockwise quarter turns that show a decoded PyAV frame as displayed: the rotation
    of its stream's display matrix (a phone video's rotation metadata), 0 for none."""
    return round((getattr(frame, "rotation", 0) or 0) / 90) % 4


def displayed_size(frame) -> tuple[int, int]:
    """(width, height) of a decoded PyAV frame as displayed (:func:`quarter_turns`)."""
    return (frame.height, frame.width) if quarter_turns(frame) % 2 else (frame.width, frame.height)


def rgb_frame(frame, size: tuple[int, int] | None) -> np.ndarray:
    """A decoded PyAV frame as uint8 (H, W, 3) RGB as displayed (turned by its display rotation,
    as decord turns it), resized to ``size`` (height, width, of the displayed frame) by swscale's
    :data:`SWSCALE_FILTER` (decord's filter), or at its native size for None."""
    turns = quarter_turns(frame)
    if size is None:
        image = frame.to_ndarray(format="rgb24")
    else:
        height, width = size if turns % 2 == 0 else size[::-1]  # the stored frame's axes
        image = frame.reformat(width=width, height=height, format="rgb24", interpolation=SWSCALE_FILTER).to_ndarray()
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def _decode_from(path: Path, wanted: np.ndarray, start: int, start_pts: int | None, size, num_threads: int,
                 num_frames: int):
    """Wanted frames by display index, decoding from the keyframe at ``start`` (pts
    ``start_pts``; None: from the beginning). Returns None when the seek did not land on that
    keyframe (the caller then decodes from the beginning)."""
    with open_pyav(path) as container:
        stream = video_stream(container, path)
        stream.codec_context.thread_count = num_threads
        if start_pts is not None:
            container.seek(start_pts, stream=stream, backward=True, any_frame=False)
        found: dict[int, np.ndarray] = {}
        index = None  # display index of the current frame
        targets, last = set(wanted.tolist()), int(wanted[-1])
        for frame in every_frame(container, stream, path, from_start=False):
            if index is None:
                if start_pts is not None and frame.pts is not None:
                    if frame.pts < start_pts:
                        continue  # leading pictures of an open GOP, shown before the keyframe
                    if frame.pts != start_pts:
                        return None
                index = start
            else:
                index += 1
            if index in targets:
                found[index] = rgb_frame(frame, size)
            if index >= last:
                break
    missing = sorted(targets - found.keys())
    if missing:
        raise VideoDecodeError(
            path, f"the stream ends before frame {missing[0]} although the container holds {num_frames} frames"
        )
    return np.stack([found[i] for i in wanted.tolist()])


def _read_pyav(path: Path, choose_indices, size, num_threads: int) -> np.ndarray:
    with open_pyav(path) as container:
        index = _packet_index(container, video_stream(container, path), path)
    num_frames = len(index.packets)
    if not num_frames:
        raise VideoDecodeError(path, "the container holds no video frames")
    unique, inverse = _unique_indices(path, choose_indices, num_frames)
    start, start_pts = _seek_point(index, int(unique[0]))
    frames = None
    if start_pts is not None and start > 0:
        frames = _decode_from(path, unique, start, start_pts, size, num_threads, num_frames)
    if frames is None:
        frames = _decode_from(path, unique, 0, None, size, num_threads, num_frames)
    return frames[inverse]


# ---------------------------------------------------------------------------- frame folders


#: folder -> (its mtime in ns, its frame count): this process's counts, kept while the folder's
#: mtime (which changes when a file is added, removed or renamed in it) stays the same.
_FRAME_COUNTS: dict[str, tuple[int, int]] = {}
#: a folder changed less than this long ago is listed again: file systems stamp times coarsely (a
#: clock tick; FAT in 2 s steps), so a change within the same step would leave the mtime as it was.
#: (A mount whose folders keep a fixed mtime, as some FUSE and object-store mounts do, would keep
#: a count stale: frames are not expected to change under a running job.)
_SETTLED_NS = 3_000_000_000


def frame_count(path: Path) -> int:
    """Number of ``frame%06d.jpg`` files in frame folder ``path`` (VideoDecodeError if none).

    Listing the folder and matching its names costs about as much as decoding one 320x240 frame
    (0.4 ms), every clip; the count is kept per process until the folder's mtime changes.
    """
    mtime = os.stat(path).st_mtime_ns
    known = _FRAME_COUNTS.get(str(path))
    if known is not None and known[0] == mtime:
        return known[1]
    try:
        count = sum(1 for name in os.listdir(path) if FRAME_FILE.fullmatch(name))
    except OSError as err:  # no read permission, ...
        raise VideoDecodeError(path, f"cannot list the frame folder ({err.strerror or first_line(err)})") from err
    if count == 0:
        raise VideoDecodeError(path, f"no frame files {FRAME_NAME.format(1)}, {FRAME_NAME.format(2)}, ... in the folder")
    if time.time_ns() - mtime > _SETTLED_NS:
        _FRAME_COUNTS[str(path)] = (mtime, count)
    return count


#: How far short of the wanted size (a fraction of each side) a DCT-reduced frame may fall before
#: the resize stretches it back (see :func:`_load_frame`).
DCT_SHORTFALL = 0.01


def _load_frame(
    folder: Path, index: int, count: int, at_least: tuple[int, int] | None, out: np.ndarray | None = None
) -> np.ndarray:
    """Frame ``index`` of a frame folder as uint8 (H, W, 3), decoded into ``out`` when its shape is
    the frame's (a fresh array otherwise).

    libjpeg-turbo (simplejpeg) decodes straight to the smallest power-of-two DCT reduction
    (1/2, 1/4, 1/8) that still covers ``at_least`` (height, width) but for up to
    :data:`DCT_SHORTFALL` of a side, which saves work when frames are larger than the training
    size; None decodes at full size. The shortfall lets the common 340x256 frames (TSN-style
    extraction) decode at 1/2, 170x128, for the 128x171 resize, which the resize then stretches by
    one column (decoding about 20% cheaper: ``experiments/profile_clip_cost.py``). The other 1/8 steps
    are not used: libjpeg-turbo decodes them slower than full size (16 frames of 320x240: 8.9 ms
    at 5/8 against 6.6 ms at 8/8, then 1.5 ms to resize).
    """
    import simplejpeg

    name = FRAME_NAME.format(index + 1)
    try:
        data = (folder / name).read_bytes()
        height, width = simplejpeg.decode_jpeg_header(data)[:2]
        factor = 1
        if at_least is not None:
            factor = next((f for f in (8, 4, 2) if -(-height // f) >= (1 - DCT_SHORTFALL) * at_least[0]
                           and -(-width // f) >= (1 - DCT_SHORTFALL) * at_least[1]), 1)
        shape = (-(-height // factor), -(-width // factor), 3)
        into = out if out is not None and out.shape == shape else None
        frame = simplejpeg.decode_jpeg(data, colorspace="RGB", min_height=shape[0], min_width=shape[1], buffer=into)
        return out if into is not None else frame
    except FileNotFoundError as err:
        raise VideoDecodeError(folder, f"frame file {name} is missing (the folder holds {count} frame files)") from err
    except OSError as err:  # no read permission, a folder of that name, ...
        raise VideoDecodeError(folder, f"frame file {name} cannot be read ({err.strerror or first_line(err)})") from err
    except ValueError as err:  # simplejpeg: not a JPEG, truncated or corrupt data
        raise VideoDecodeError(folder, f"frame file {name} cannot be decoded ({first_line(err)})") from err


def _resize_frames(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 (K, H, W, 3) -> uint8 (K, size[0], size[1], 3), bilinear with antialiasing when
    shrinking (the filter of PIL's BILINEAR resize, in one batched call)."""
    import torch
    import torch.nn.functional as F

    batch = torch.from_numpy(frames).permute(0, 3, 1, 2)
    resized = F.interpolate(batch, size=tuple(size), mode="bilinear", antialias=True, align_corners=False)
    return resized.permute(0, 2, 3, 1).contiguous().numpy()


def _read_frame_folder(path: Path, choose_indices, size, defer_resize: bool = False) -> np.ndarray:
    count = frame_count(path)
    unique, inverse = _unique_indices(path, choose_indices, count)
    first = _load_frame(path, int(unique[0]), count, size)
    # the other frames are decoded in place, into one (K, H, W, 3) array, when they have the first's size
    stacked = np.empty((len(unique), *first.shape), dtype=np.uint8)
    stacked[0] = first
    frames = [first] + [_load_frame(path, int(i), count, size, out=stacked[k]) for k, i in enumerate(unique[1:], 1)]
    odd = [k for k, frame in enumerate(frames) if frame.shape != first.shape]
    if size is None and odd:
        raise VideoDecodeError(path, f"frame files differ in size: {sorted({frame.shape for frame in frames})}")
    target = first.shape[:2] if defer_resize or size is None else tuple(size)
    if target != first.shape[:2]:
        stacked = _resize_frames(stacked, target)
    for k in odd:  # a frame of another size than the first, resized on its own
        stacked[k] = _resize_frames(frames[k][None], target)[0]
    if len(inverse) == len(unique) and (np.diff(inverse) == 1).all():
        return stacked  # the wanted frames in order, no repeats (fast and normal paces): no copy
    return stacked[inverse]


def _probe_frame_folder(path: Path, decode: bool) -> VideoInfo:
    count = frame_count(path)
    first = _load_frame(path, 0, count, None)
    for index in range(1, count if decode else 0):
        if _load_frame(path, index, count, None).shape != first.shape:
            raise VideoDecodeError(path, f"frame file {FRAME_NAME.format(index + 1)} differs in size from the first")
    height, width = first.shape[:2]
    return VideoInfo(num_frames=count, fps=None, width=width, height=height)
