"""Decoder backends on the real clips: same indices -> same pixels whichever backend reads
them, frame counts, and a named VideoDecodeError for every kind of broken input."""

from __future__ import annotations

import shutil

import av
import decord
import numpy as np
import pytest

from tests.helpers.layouts import AVI, CORRUPTED, EXTRACTED_FRAMES, MKV, MP4_ARM, MP4_POOL, frame_folders  # noqa: F401
from pacepred.data.decoding import VideoDecodeError, probe_video, read_clip
from pacepred.data.decoding.frame_folders import _resize_frames

CLIPS = [AVI, MP4_ARM, MKV]
# Mean absolute difference (0-255 scale) allowed between backends. Measured on these clips:
# PyAV vs decord 0 at native size and 0.15-0.40 resized (same swscale filter, different ffmpeg
# versions); JPEG frames (quality 95) vs decord 0.8-1.3 native and 1.3-2.6 resized (the frames
# backend downscales in the DCT domain first: 1.1-1.8 with a full decode + PIL resize alone).
PYAV_RESIZED_TOLERANCE = 1.0
FRAMES_TOLERANCE = 3.5


def unordered(num_frames: int) -> np.ndarray:
    """Repeated, unordered indices reaching the last frame and past the first keyframes
    (the MP4/MKV clips have keyframes at 187, 230, 268 and 150, 300)."""
    return np.array([num_frames - 1, 3, 3, min(200, num_frames - 2), 0, 41, num_frames - 1, 151])


def mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


# ----------------------------------------------------------------------- backend agreement


@pytest.mark.parametrize("name", CLIPS)
def test_pyav_equals_decord_at_native_size(real_videos, name):
    decord_frames = read_clip(real_videos / name, unordered)
    pyav_frames = read_clip(real_videos / name, unordered, backend="pyav")
    assert pyav_frames.shape == decord_frames.shape and pyav_frames.dtype == np.uint8
    assert np.array_equal(pyav_frames, decord_frames)
    assert np.array_equal(pyav_frames[1], pyav_frames[2]) and not np.array_equal(pyav_frames[0], pyav_frames[1])


@pytest.mark.parametrize("size", [(128, 171), (300, 400)], ids=["down", "up"])
@pytest.mark.parametrize("name", CLIPS)
def test_pyav_matches_decord_when_resizing(real_videos, name, size):
    """(300, 400) is larger than every clip: decoders scale up as well as down."""
    decord_frames = read_clip(real_videos / name, unordered, size=size)
    pyav_frames = read_clip(real_videos / name, unordered, size=size, backend="pyav")
    assert decord_frames.shape == pyav_frames.shape == (8, *size, 3)
    assert mean_abs(decord_frames, pyav_frames) < PYAV_RESIZED_TOLERANCE


@pytest.mark.parametrize("size", [None, (128, 171), (64, 80)])
@pytest.mark.parametrize("name", CLIPS)
def test_frame_folder_matches_decord(real_videos, frame_folders, name, size):
    def choose(num_frames):
        assert num_frames == EXTRACTED_FRAMES
        return np.array([40, 3, 3, EXTRACTED_FRAMES - 1, 0])

    from_video = read_clip(real_videos / name, choose_indices=lambda n: choose(EXTRACTED_FRAMES), size=size)
    from_frames = read_clip(frame_folders[name], choose, size=size)  # a folder: frames backend
    assert from_frames.shape == from_video.shape and from_frames.dtype == np.uint8
    assert mean_abs(from_frames, from_video) < FRAMES_TOLERANCE
    assert np.array_equal(from_frames, read_clip(frame_folders[name], choose, size=size, backend="frames"))


def test_decord_last_frame_is_the_last_frame(real_videos):
    """decord alone returns the frame before the last one for the xvid AVI's last frame in
    2-7% of reads; the backend takes that frame from PyAV."""
    path = real_videos / AVI
    expected = read_clip(path, lambda n: np.array([100, n - 1]), backend="pyav")
    for _ in range(40):
        assert np.array_equal(read_clip(path, lambda n: np.array([100, n - 1])), expected)


def write_open_gop_avi(path, num_frames=60):
    """MPEG-4 part 2 AVI with B-frames and a keyframe every 12 frames: B-frames that follow a
    keyframe in the file are shown before it (open GOPs)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.codec_context.gop_size, stream.codec_context.max_b_frames = 12, 2
        for i in range(num_frames):
            image = np.zeros((64, 96, 3), np.uint8)
            image[:, (3 * i) % 88:(3 * i) % 88 + 8] = 255
            image[(i * 2) % 58:(i * 2) % 58 + 6] = (5 * i) % 255
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())


def sequential_frames(path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


def write_packed_avi(source, path, n_vop: bytes):
    """``source`` (MPEG-4 part 2 with B-frames) stored as DivX and xvid's "packed bitstream"
    does it, one AVI chunk per frame: a reference picture with the first B-frame after it in one
    chunk, the other B-frames alone, then ``n_vop`` (a not-coded picture) as a filler; DivX user
    data ending in "p" at the start marks the stream packed, as in the UCF101 videos."""
    from fractions import Fraction

    from pacepred.data.decoding.pyav_reader import VOP_START_CODE, _vop_types

    with av.open(str(source)) as container:
        packets = [(bytes(p), p.is_keyframe) for p in container.demux(video=0) if p.size > 0]
    first, key = packets[0]
    at = first.find(VOP_START_CODE)
    packets[0] = (first[:at] + b"\x00\x00\x01\xb2DivX503b1393p" + first[at:], key)
    chunks, i = [], 0
    while i < len(packets):
        reference, keyframe = packets[i]
        b_frames = []
        while i + 1 + len(b_frames) < len(packets) and _vop_types(packets[i + 1 + len(b_frames)][0]) == [2]:
            b_frames.append(packets[i + 1 + len(b_frames)][0])
        if b_frames:
            chunks += [(reference + b_frames[0], keyframe)] + [(b, False) for b in b_frames[1:]] + [(n_vop, False)]
        else:
            chunks.append((reference, keyframe))
        i += 1 + len(b_frames)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt, stream.codec_tag = 96, 64, "yuv420p", "XVID"
        stream.time_base = Fraction(1, 25)
        for position, (data, keyframe) in enumerate(chunks):
            packet = av.Packet(data)
            packet.stream, packet.time_base, packet.pts, packet.dts = stream, stream.time_base, position, position
            packet.is_keyframe = keyframe
            container.mux(packet)


@pytest.mark.parametrize("backend", ["decord", "pyav"])
@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_mpeg4_avi_with_b_frames_and_several_keyframes_reads_right(tmp_path, real_videos, backend, packed):
    """decord's random access returns earlier frames (12 as 0, ...) on such files and a PyAV
    seek into a packed stream loses count; both backends read every frame right."""
    from pacepred.data.decoding.pyav_reader import _packet_index

    path = tmp_path / "open_gop.avi"
    write_open_gop_avi(path)
    if packed:
        with av.open(str(real_videos / AVI)) as container:  # the real UCF101 clip is packed: its fillers
            n_vop = next(bytes(p) for p in container.demux(video=0) if p.size == 6)
        unpacked, path = path, tmp_path / "packed.avi"
        write_packed_avi(unpacked, path, n_vop)
        assert np.array_equal(sequential_frames(path), sequential_frames(unpacked))
    with av.open(str(path)) as container:
        index = _packet_index(container, container.streams.video[0], path)
    assert (index.b_frames, index.packed_b_frames, index.keyframes > 1) == (True, packed, True)
    sequential = sequential_frames(path)
    assert len(sequential) == len(index.packets) == 60
    for i in range(60):
        assert np.array_equal(read_clip(path, lambda n: np.array([i]), backend=backend)[0], sequential[i]), i


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_h264_avi_with_several_keyframes_reads_right(tmp_path, backend):
    """decord returned frames 0-11 for frames 12-23 of this file (and so on)."""
    path = tmp_path / "h264.avi"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25, options={"bf": "0", "g": "12"})
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for i in range(36):
            image = np.zeros((64, 96, 3), np.uint8)
            image[:, (3 * i) % 88:(3 * i) % 88 + 8] = 255
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    sequential = sequential_frames(path)
    assert np.array_equal(read_clip(path, lambda n: np.arange(n)[::-1], backend=backend), sequential[::-1])


def test_the_real_ucf101_clip_is_packed_with_one_keyframe(real_videos):
    """What the packed-stream test above stands for: DivX-style packed B-frames, as in UCF101."""
    from pacepred.data.decoding.pyav_reader import _packet_index

    with av.open(str(real_videos / AVI)) as container:
        index = _packet_index(container, container.streams.video[0], real_videos / AVI)
    assert (index.b_frames, index.packed_b_frames, index.keyframes) == (True, True, 1)


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_truncated_mp4_is_an_error_not_shifted_frames(tmp_path, backend):
    """An MP4 with its index at the front (faststart) cut at a packet boundary still demuxes
    and decodes, but a B-frame is missing and every later frame would shift to an earlier index."""
    path, cut = tmp_path / "whole.mp4", tmp_path / "cut.mp4"
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=25, options={"bf": "2", "g": "12"})
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for i in range(48):
            image = np.full((64, 96, 3), (5 * i) % 255, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    with av.open(str(path)) as container:
        ends = [p.pos + p.size for p in container.demux(video=0) if p.size > 0]
    cut.write_bytes(path.read_bytes()[:ends[30]])
    with av.open(str(cut)) as container:  # what the container offers without the check: 31 packets
        assert sum(p.size > 0 for p in container.demux(video=0)) == 31
    with pytest.raises(VideoDecodeError, match="cut.mp4.*ends inside its 'mdat' box .*a truncated file"):
        read_clip(cut, lambda n: np.arange(n - 4, n), backend=backend)
    for decode in (False, True):
        with pytest.raises(VideoDecodeError, match="ends inside its 'mdat' box"):
            probe_video(cut, decode=decode)
    assert probe_video(path).num_frames == 48


def _write(path, codec: str, num_frames: int, gaps: bool = False, **options):
    """A 64x48 video of ``num_frames`` frames; ``gaps``: every 10th frame 3 ticks after the one
    before, which an AVI stores as empty dropped-frame chunks."""
    from fractions import Fraction

    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=25, options=options)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = Fraction(1, 25)
        pts = 0
        for i in range(num_frames):
            image = np.full((48, 64, 3), (6 * i) % 256, np.uint8)
            image[:, i % 64] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 25)
            container.mux(stream.encode(frame))
            pts += 3 if gaps and i % 10 == 5 else 1
        container.mux(stream.encode())


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_complete_files_that_declare_more_frames_than_they_hold_read(tmp_path, backend):
    """An AVI with dropped-frame chunks (48 frames declared, 40 stored) and an MP4 whose edit list
    ends before its media (60 declared, 35 shown) are complete files, not truncated ones."""
    import struct

    gaps = tmp_path / "gaps.avi"
    _write(gaps, "mpeg4", 40, gaps=True)
    trimmed = tmp_path / "trimmed.mp4"
    _write(trimmed, "libx264", 60, g="12")
    data = bytearray(trimmed.read_bytes())
    at = data.find(b"elst")
    struct.pack_into(">I", data, at + 12, struct.unpack(">I", data[at + 12:at + 16])[0] // 2)
    trimmed.write_bytes(bytes(data))
    for path, declared in ((gaps, 48), (trimmed, 60)):
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            assert stream.frames == declared > sum(p.size > 0 for p in container.demux(stream))
    assert probe_video(gaps).num_frames == 40
    unset = tmp_path / "piped.avi"  # a writer that cannot seek back leaves the RIFF size unset
    unset.write_bytes(gaps.read_bytes()[:4] + b"\xff\xff\xff\xff" + gaps.read_bytes()[8:])
    assert probe_video(unset).num_frames == 40
    assert read_clip(gaps, lambda n: np.arange(n), backend=backend).shape[0] == 40
    # the trimmed MP4 demuxes 35 packets, of which the edit list hides 5: it shows 30 frames
    assert probe_video(trimmed).num_frames == probe_video(trimmed, decode=False).num_frames == 30
    assert (_frame_numbers(read_clip(trimmed, lambda n: np.arange(n), backend=backend)) == np.arange(30)).all()


def _frame_numbers(frames: np.ndarray) -> np.ndarray:
    """The number i of each frame that :func:`_write` made (its bright column is i % 64)."""
    return frames.astype(np.int64).sum(axis=(1, 3)).argmax(axis=1)


@pytest.mark.parametrize("b_frames", ["0", "2"])
@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_an_mp4_cut_by_stream_copy_shows_the_frames_after_its_cut(tmp_path, backend, b_frames):
    """Cutting an MP4 by stream copy (``ffmpeg -ss ... -c copy``) keeps the pictures from the
    keyframe before the cut and hides them with an edit list: frame 0 is the first one after the
    cut, for the count and for every index, whichever backend reads (decord counts the hidden
    ones and shifts every frame; such files are read through PyAV)."""
    from fractions import Fraction

    path, hidden = tmp_path / "cut_by_copy.mp4", 5
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25, options={"g": "10", "bf": b_frames})
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = Fraction(1, 25)
        frames = []
        for i in range(30):
            image = np.full((48, 64, 3), 40, np.uint8)
            image[:, i] = 255
            frames.append(av.VideoFrame.from_ndarray(image, format="rgb24"))
            frames[-1].pts, frames[-1].time_base = i, Fraction(1, 25)
        for packet in [packet for frame in frames + [None] for packet in stream.encode(frame)]:
            packet.pts, packet.dts = packet.pts - hidden, packet.dts - hidden  # before 0: cut off
            container.mux(packet)
    assert probe_video(path).num_frames == probe_video(path, decode=False).num_frames == 30 - hidden
    wanted = np.array([0, 3, 7, 12, 16, 20, 24])  # from the start, after each keyframe, the last
    assert (_frame_numbers(read_clip(path, lambda n: wanted, backend=backend)) == wanted + hidden).all()


# ----------------------------------------------------------------------------- frame counts


@pytest.mark.parametrize("name, frames, fps, width, height", [
    (AVI, 164, 25.0, 320, 240), (MP4_ARM, 280, 28.0, 340, 256), (MP4_POOL, 300, 30.0, 340, 256),
    (MKV, 310, 30.0, 426, 240)])
def test_container_count_equals_decodable_frames(real_videos, name, frames, fps, width, height):
    path = real_videos / name
    decoded = probe_video(path, decode=True)
    assert (decoded.num_frames, decoded.fps, decoded.width, decoded.height) == (frames, fps, width, height)
    assert probe_video(path, decode=False) == decoded
    assert len(decord.VideoReader(str(path))) == frames


def test_corrupted_video_claims_more_frames_than_decode(real_videos):
    path = real_videos / CORRUPTED
    assert probe_video(path, decode=False).num_frames == 50 == len(decord.VideoReader(str(path)))
    with pytest.raises(VideoDecodeError, match=r"corrupted_h264.mp4: decoding failed after 28 frames"):
        probe_video(path, decode=True)


def test_frame_folder_probe(frame_folders):
    info = probe_video(frame_folders[MP4_ARM])
    assert (info.num_frames, info.fps, info.width, info.height) == (EXTRACTED_FRAMES, None, 340, 256)


# ----------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_broken_files_are_named(tmp_path, real_videos, backend):
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "text.mp4").write_text("this is not a video\n")
    cases = {
        "empty.mp4": r"empty.mp4: file is empty \(0 bytes\)",
        "text.mp4": r"text.mp4: cannot open as a video \(.*\)",
        "missing.mp4": r"missing.mp4: file does not exist",
    }
    for name, message in cases.items():
        with pytest.raises(VideoDecodeError, match=message):
            read_clip(tmp_path / name, lambda n: np.arange(2), backend=backend)
    with pytest.raises(VideoDecodeError, match=r"corrupted_h264.mp4: decoding frames failed \(.+\)"):
        read_clip(real_videos / CORRUPTED, lambda n: np.array([0, 40]), backend=backend)


def test_corrupted_video_head_still_decodes(real_videos):
    frames = read_clip(real_videos / CORRUPTED, lambda n: np.array([27, 0]), size=(72, 128), backend="pyav")
    assert frames.shape == (2, 72, 128, 3)


@pytest.mark.parametrize("size, decoded", [((128, 171), (240, 320)), ((64, 80), (120, 160)), ((30, 40), (30, 40)),
                                           ((31, 40), (60, 80))])
def test_frame_folder_decodes_at_power_of_two_dct_scales_only(frame_folders, monkeypatch, size, decoded):
    """320x240 JPEGs: 1/2, 1/4, 1/8 where they still cover ``size``, never the slow 5/8-7/8 steps."""
    import simplejpeg

    shapes = []
    real_decode = simplejpeg.decode_jpeg
    monkeypatch.setattr(simplejpeg, "decode_jpeg", lambda *a, **k: shapes.append(real_decode(*a, **k).shape) or real_decode(*a, **k))
    frames = read_clip(frame_folders[AVI], lambda n: np.array([0, 9]), size=size)
    assert frames.shape == (2, *size, 3) and shapes == [(*decoded, 3)] * 2
    as_decoded = read_clip(frame_folders[AVI], lambda n: np.array([0, 9]), size=size, defer_frame_resize=True)
    assert as_decoded.shape == (2, *decoded, 3)  # the resize is left to the caller's crop


def test_340x256_frames_decode_at_half_size_for_128x171(real_videos, frame_folders, monkeypatch):
    """The common 340x256 frames: 1/2 gives 170x128, one column short of 171 (within
    DCT_SHORTFALL), so they decode at 1/2 and the resize stretches them by one column."""
    import simplejpeg

    shapes = []
    real_decode = simplejpeg.decode_jpeg
    monkeypatch.setattr(simplejpeg, "decode_jpeg", lambda *a, **k: shapes.append(real_decode(*a, **k).shape) or real_decode(*a, **k))
    frames = read_clip(frame_folders[MP4_ARM], lambda n: np.array([0, 9]), size=(128, 171))
    assert frames.shape == (2, 128, 171, 3) and shapes == [(128, 170, 3)] * 2
    from_video = read_clip(real_videos / MP4_ARM, lambda n: np.array([0, 9]), size=(128, 171))
    assert mean_abs(frames, from_video) < FRAMES_TOLERANCE
    shapes.clear()
    read_clip(frame_folders[MP4_ARM], lambda n: np.array([0]), size=(130, 171))  # 2% short: full size
    assert shapes == [(256, 340, 3)]


def test_frame_folder_errors(tmp_path, frame_folders):
    folder = shutil.copytree(frame_folders[AVI], tmp_path / "video")
    (folder / "frame000005.jpg").unlink()
    assert read_clip(folder, lambda n: np.array([3, 5])).shape[0] == 2
    with pytest.raises(VideoDecodeError, match=r"video: frame file frame000005.jpg is missing \(the folder holds 63"):
        read_clip(folder, lambda n: np.array([0, 4]))
    (folder / "frame000007.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(VideoDecodeError, match=r"frame file frame000007.jpg cannot be decoded"):
        read_clip(folder, lambda n: np.array([6]))
    (folder / "frame000009.jpg").unlink()
    (folder / "frame000009.jpg").mkdir()  # a name that a frame file would have, on a folder
    with pytest.raises(VideoDecodeError, match=r"frame file frame000009.jpg cannot be read \(Is a directory\)"):
        read_clip(folder, lambda n: np.array([8]))
    (tmp_path / "no_frames").mkdir()
    with pytest.raises(VideoDecodeError, match=r"no_frames: no frame files frame000001.jpg"):
        read_clip(tmp_path / "no_frames", lambda n: np.array([0]))


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_a_file_that_cannot_be_read_is_a_named_decode_error(real_videos, monkeypatch, backend):
    """A file without read permission (the tests run as root, which reads anything: the refusal is
    simulated) is a VideoDecodeError, which ``data.on_bad_video=skip`` and the index catch."""
    import pacepred.data.decoding.decord_reader as decord_reader
    import pacepred.data.decoding.integrity as integrity

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(integrity, "open", refuse, raising=False)
    monkeypatch.setattr(decord_reader, "_DECORD_CHECKS", {})  # an answer kept from an earlier read opens nothing
    with pytest.raises(VideoDecodeError, match=rf"{AVI}: cannot read the file \(Permission denied\)"):
        read_clip(real_videos / AVI, lambda n: np.arange(2), backend=backend)


def test_frame_folder_with_frames_of_two_sizes(tmp_path, frame_folders):
    """Frames decode in place into one array when they share the first's size; a frame of another
    size is resized on its own (decode_size given) or named in the error (native size)."""
    import simplejpeg

    folder = shutil.copytree(frame_folders[AVI], tmp_path / "video")
    same = read_clip(folder, lambda n: np.array([0, 1, 2, 1]), size=(64, 80))
    full = simplejpeg.decode_jpeg((folder / "frame000002.jpg").read_bytes(), colorspace="RGB")
    small = np.ascontiguousarray(full[::2, ::2])  # 120x160
    (folder / "frame000002.jpg").write_bytes(simplejpeg.encode_jpeg(small, quality=95))
    mixed = read_clip(folder, lambda n: np.array([0, 1, 2, 1]), size=(64, 80))
    assert mixed.shape == same.shape == (4, 64, 80, 3)
    assert np.array_equal(mixed[[0, 2]], same[[0, 2]]) and np.array_equal(mixed[1], mixed[3])
    assert np.abs(mixed[1].astype(int) - same[1]).mean() < FRAMES_TOLERANCE
    with pytest.raises(VideoDecodeError, match=r"video: frame files differ in size: \[\(120, 160, 3\), \(240, 320, 3\)\]"):
        read_clip(folder, lambda n: np.array([0, 1]))
    # left for the crop to resize: at the first frame's decoded size, the odd frame resized to it
    deferred = read_clip(folder, lambda n: np.array([0, 1, 2, 1]), size=(128, 171), defer_frame_resize=True)
    assert deferred.shape == (4, 240, 320, 3)
    assert np.array_equal(deferred[0], simplejpeg.decode_jpeg((folder / "frame000001.jpg").read_bytes()))
    small_decoded = simplejpeg.decode_jpeg((folder / "frame000002.jpg").read_bytes())
    assert np.array_equal(deferred[1], _resize_frames(small_decoded[None], (240, 320))[0])
    assert np.array_equal(deferred[1], deferred[3])


@pytest.mark.parametrize("name", CLIPS)
def test_cropping_then_resizing_frames_matches_resizing_then_cropping(frame_folders, name):
    """data.frame_folder_resize=crop (the crop's region of the decoded frames resized) against
    whole (whole frames resized to decode_size, then cropped): the same crop positions from the
    same draws, pixels within a sub-pixel shift (measured: mean absolute difference 1.1-1.4 over
    random crops at 128x171, at most 2.6; centre crops 0.5-0.8)."""
    from pacepred.data.transforms import crop_and_flip

    size, crop = (128, 171), 112
    resized = read_clip(frame_folders[name], np.arange, size)[:16]
    decoded = read_clip(frame_folders[name], np.arange, size, defer_frame_resize=True)[:16]
    assert decoded.shape[1:3] != size
    errors, shifted = [], []
    for seed in range(12):
        whole = crop_and_flip(resized, crop, np.random.default_rng(seed), True).numpy()
        cropped = crop_and_flip(decoded, crop, np.random.default_rng(seed), True, size).numpy()
        other = crop_and_flip(decoded, crop, np.random.default_rng(seed + 100), True, size).numpy()
        errors.append(mean_abs(whole, cropped))
        shifted.append(mean_abs(whole, other))
    assert max(errors) < FRAMES_TOLERANCE and np.mean(errors) < 2.0
    assert np.mean(shifted) > 3 * np.mean(errors)  # another position: far off
    centre = mean_abs(crop_and_flip(resized, crop, None, False).numpy(),
                      crop_and_flip(decoded, crop, None, False, size).numpy())
    assert centre < 1.5


def test_frame_count_is_kept_until_the_folder_changes(tmp_path, frame_folders, monkeypatch):
    import os

    from pacepred.data.decoding import frame_folders as decoding

    folder = shutil.copytree(frame_folders[AVI], tmp_path / "video")
    hour_ago = os.stat(folder).st_mtime - 3600
    os.utime(folder, (hour_ago, hour_ago))  # settled: its count is kept
    count = decoding.frame_count(folder)
    listings = []
    real_listdir = os.listdir
    monkeypatch.setattr(decoding.os, "listdir", lambda path: listings.append(path) or real_listdir(path))
    assert decoding.frame_count(folder) == count and listings == []
    shutil.copy(folder / "frame000001.jpg", folder / decoding.FRAME_NAME.format(count + 1))  # the mtime moves on
    assert decoding.frame_count(folder) == count + 1 and len(listings) == 1
    # a folder changed less than _SETTLED_NS ago is listed every time (coarse mtime stamps)
    monkeypatch.setattr(decoding, "_SETTLED_NS", 10**18)
    assert decoding.frame_count(folder) == count + 1 and len(listings) == 2


def test_wrong_arguments(real_videos):
    path = real_videos / AVI
    with pytest.raises(VideoDecodeError, match="frames backend reads a folder"):
        read_clip(path, lambda n: np.array([0]), backend="frames")
    with pytest.raises(ValueError, match="decoder backend 'opencv'"):
        read_clip(path, lambda n: np.array([0]), backend="opencv")
    for backend in ("decord", "pyav"):
        with pytest.raises(IndexError, match=r"ucf101_apply_eye_makeup.avi: frame indices must lie in \[0, 164\)"):
            read_clip(path, lambda n: np.array([0, n]), backend=backend)


class _SeekIgnored:
    """A PyAV container whose seek does nothing: decoding starts at frame 0, before the
    keyframe the reader asked for (as a demuxer with a coarse index may do)."""

    def __init__(self, container):
        self._container = container

    def __getattr__(self, name):
        return getattr(self._container, name)

    def seek(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._container.close()


def test_pyav_skips_frames_before_the_keyframe_when_a_seek_lands_early(real_videos, monkeypatch):
    import pacepred.data.decoding.pyav_reader as decoding

    path = real_videos / MP4_ARM
    expected = read_clip(path, lambda n: np.array([200, 190]), backend="pyav")
    opened = decoding.open_pyav
    monkeypatch.setattr(decoding, "open_pyav", lambda p: _SeekIgnored(opened(p)))
    assert np.array_equal(read_clip(path, lambda n: np.array([200, 190]), backend="pyav"), expected)


def test_video_errors_survive_a_process_boundary():
    """Pickled as loader workers and process pools send them: type, path, reason and message kept."""
    import pickle

    from pacepred.prep.convert import ConversionError

    for error in (VideoDecodeError("/data/a.mp4", "decoding failed after 28 frames"), ConversionError("b.avi", "x")):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and copy.path == error.path and copy.reason == error.reason
        assert str(copy) == str(error)
