"""The work of a preparation run: one job per video (transcode, extract frames or verify), run in
worker processes with a progress bar; a failure is the decoder's or encoder's reason, by name."""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pacepred.data.decoding import VideoDecodeError, probe_video, read_clip
from pacepred.prep.convert import ConversionError, FrameSettings, TranscodeSettings, extract_frames, transcode_video


@dataclass(frozen=True)
class Job:
    """One video to prepare: ``source`` video, ``destination`` file or frame folder (None
    for verify), the mode's ``settings``; ``key`` is the video's path relative to data.root."""

    key: str
    source: Path
    destination: Path | None
    settings: Any


@dataclass(frozen=True)
class VerifySettings:
    """``sample`` None: decode every frame; N: read N evenly spaced frames with ``backend``."""

    sample: int | None = None
    backend: str = "decord"


def verify_video(path: Path, settings: VerifySettings) -> None:
    """Raise :class:`VideoDecodeError` (naming the file and the reason) unless video or frame
    folder ``path`` decodes: every frame, as many as the container lists (decord and PyAV
    index frames by the container's count), or ``settings.sample`` evenly spaced frames."""
    if settings.sample is None:
        decoded = probe_video(path, decode=True).num_frames
        listed = probe_video(path, decode=False).num_frames
        if decoded != listed:
            raise VideoDecodeError(path, f"only {decoded} of the {listed} frames the container lists decode")
        return
    read_clip(path, lambda count: np.unique(np.linspace(0, count - 1, settings.sample).round().astype(np.int64)),
              backend=settings.backend)


def _work(job: Job) -> tuple[str, str | None]:
    """Worker: (key, None on success or the reason of the failure)."""
    try:
        if isinstance(job.settings, TranscodeSettings):
            transcode_video(job.source, job.destination, job.settings)
        elif isinstance(job.settings, FrameSettings):
            extract_frames(job.source, job.destination, job.settings)
        else:
            verify_video(job.source, job.settings)
    except (VideoDecodeError, ConversionError) as err:
        return job.key, err.reason
    return job.key, None


def run_jobs(jobs: list[Job], workers: int, description: str) -> dict[str, str | None]:
    """Run ``jobs`` in ``workers`` processes (in this one for 1) with a progress bar; returns
    key -> None (done) or the failure's reason."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    outcomes: dict[str, str | None] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns) as progress:
        task = progress.add_task(description, total=len(jobs))
        if workers > 1 and len(jobs) > 1:
            # spawn: decord and FFmpeg's threads do not survive a fork of a process that used them
            with multiprocessing.get_context("spawn").Pool(min(workers, len(jobs))) as pool:
                for key, reason in pool.imap_unordered(_work, jobs):
                    outcomes[key] = reason
                    progress.advance(task)
        else:
            for job in jobs:
                key, reason = _work(job)
                outcomes[key] = reason
                progress.advance(task)
    return outcomes
