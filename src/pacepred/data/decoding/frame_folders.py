"""The frame-folder backend: JPEG frames ``frame000001.jpg ...`` decoded by libjpeg-turbo (downscaled in
the DCT domain where the size allows) and resized bilinearly with antialiasing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from pacepred.data.decoding.common import FRAME_FILE, FRAME_NAME, VideoDecodeError, VideoInfo, _unique_indices
from pacepred.messages import first_line


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
