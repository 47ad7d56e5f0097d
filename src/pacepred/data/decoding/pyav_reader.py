"""The PyAV backend: a packet index (demuxing only), a seek to the keyframe before the first wanted
frame, decoding forward; display rotation applied; swscale's BILINEAR resize as decord's.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from pacepred.data.decoding.common import SWSCALE_FILTER, VideoDecodeError, _unique_indices
from pacepred.data.decoding.integrity import check_complete
from pacepred.messages import first_line


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
