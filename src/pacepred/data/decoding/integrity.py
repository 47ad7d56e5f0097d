"""Integrity checks before decoding: an empty or missing file, an AVI or MP4 cut short inside a chunk or box.
"""

from __future__ import annotations

from pathlib import Path

from pacepred.data.decoding.common import VideoDecodeError
from pacepred.messages import first_line


def check_video_file(path: Path) -> None:
    """Raise :class:`VideoDecodeError` unless ``path`` is a non-empty regular file."""
    if not path.exists():
        raise VideoDecodeError(path, "file does not exist")
    if not path.is_file():
        raise VideoDecodeError(path, "not a regular file")
    if path.stat().st_size == 0:
        raise VideoDecodeError(path, "file is empty (0 bytes)")


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
