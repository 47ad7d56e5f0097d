"""Video decoding behind one interface (:func:`read_clip`): frames come back as uint8 (K, H, W, 3) RGB.

One file per backend (:mod:`.decord_reader`, :mod:`.pyav_reader`, :mod:`.frame_folders`), the
integrity checks (:mod:`.integrity`) and what they share (:mod:`.common`). Every failure raises
:class:`VideoDecodeError` naming the file and a short reason.
"""

from pacepred.data.decoding.common import (
    BACKENDS, FRAME_FILE, FRAME_FOLDER_RESIZES, FRAME_NAME, SWSCALE_FILTER, VideoDecodeError, VideoFileError, VideoInfo,
    check_frame_folder_resize,
)
from pacepred.data.decoding.read import probe_video, read_clip
from pacepred.data.decoding.integrity import check_complete, check_video_file
from pacepred.data.decoding.pyav_reader import (
    displayed_size, every_frame, open_pyav, quarter_turns, rgb_frame, video_stream,
)
from pacepred.data.decoding.frame_folders import frame_count

__all__ = [
    "BACKENDS", "check_complete", "check_frame_folder_resize", "check_video_file", "displayed_size",
    "every_frame", "frame_count", "FRAME_FILE", "FRAME_FOLDER_RESIZES", "FRAME_NAME", "open_pyav",
    "probe_video", "quarter_turns", "read_clip", "rgb_frame", "SWSCALE_FILTER", "video_stream", "VideoDecodeError",
    "VideoFileError", "VideoInfo",
]
