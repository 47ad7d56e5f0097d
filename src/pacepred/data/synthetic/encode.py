"""Encoding frames as H.264 MP4 (intra-only by default: P-frames would make adjacent frames alike, a pace cue)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def encode_mp4(path: str | Path, frames: np.ndarray, fps: int = 25, crf: int = 23, keyint: int = 1) -> int:
    """Write uint8 RGB frames (T, H, W, 3) as H.264 (libx264, yuv420p); returns the packet count.

    ``keyint`` is the GOP length (1: every frame is an I-frame).
    """
    import av

    frames = np.ascontiguousarray(frames)
    t, h, w, _ = frames.shape
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=int(fps))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {
            "crf": str(int(crf)),
            "preset": "veryfast",
            "threads": "1",
            "x264-params": f"keyint={int(keyint)}:min-keyint={int(keyint)}:scenecut=0",
        }
        stream.codec_context.thread_count = 1
        for i in range(t):
            vf = av.VideoFrame.from_ndarray(frames[i], format="rgb24")
            vf.pts = i
            for packet in stream.encode(vf):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with av.open(str(path)) as container:
        return sum(1 for p in container.demux(video=0) if p.size)
