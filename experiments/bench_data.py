"""Data throughput: training-ready pace clips per second, side by side in one run.

Content: UCF101-like videos (320x240, 25 fps) as xvid AVI and H.264 MP4, made from the real clips
of ``tests/data/videos`` (the UCF101 clip as it is, the Kinetics clips re-encoded at 320x240),
the same content as JPEG frame folders (``frame000001.jpg``...), and the forms pacepred's dataset
preparation (``python -m pacepred.prep.prepare``) makes of it, through its per-video functions
of :mod:`pacepred.prep.convert`. Every pipeline makes 16-frame pace clips (paces 1 to 4, ``fit``
boundary) resized to 128x171 and cropped to 112x112, with 1 and with N loader workers:

- ``decord raw``: decord decoding of the same frames (resize at decode time), nothing else: the
  ceiling of the video path;
- ``pacepred video``: pacepred's dataset (decord, crop) + its batch transform (per-frame colour
  jitter with the default ``jitter.impl=linear``, normalisation) on the CPU, in the main process
  (on a GPU machine it runs on the GPU); one row with ``jitter.impl=sequential`` (torchvision's
  operations, HSV hue) shows what the cheaper jitter buys;
- ``pacepred video, transcoded (from AVI xvid)`` / ``(from MP4 H.264)``: the same pipeline on the
  AVI / MP4 videos re-encoded by ``transcode_video`` with its default settings (H.264 in MP4,
  short side 128, so 170x128, a keyframe every 16 frames, no B-frames, ``tune=fastdecode``),
  each output under its input's name as ``prepare mode=transcode`` writes it;
- ``pacepred video (real UCF101 AVI)`` / ``transcoded (from the real UCF101 AVI)``: the same on
  the real UCF101 clip exactly as distributed (xvid with B-frames and a single keyframe, so every
  random access decodes from the first frame; the generated AVI has no B-frames and decodes faster)
  and on its transcode: the #7 ratio that a UCF101 user gets;
- ``pacepred frames``: the same pipeline on the 320x240 JPEG folders (quality 95; ``frames``
  backend), resizing only the crop's region (``data.frame_folder_resize=crop``, the default), and
  once more resizing whole frames to 128x171 before cropping (``whole``, the official code's order);
- ``pacepred frames, prepared (short side 128)``: the same pipeline on the frames
  ``extract_frames`` writes from the AVI videos at short side 128 (171x128), JPEG quality 90, as
  ``prepare mode=frames`` does;
- ``official-style frames``: the official code's way on the 320x240 JPEG folders, step for step:
  each frame read with OpenCV, resized, the clip cropped and flipped, per-frame PIL colour jitter
  with torchvision (on the 112x112 crop, as the official code jitters after its clip
  transforms), uint8 out as the official dataset returns it (:class:`OfficialStyleDataset`).

Each measurement runs in a process of its own (forked from the benchmark, its loader workers
forked from it), with the allocator setting its pipeline ships with: pacepred's training process
and its loader workers keep freed memory (``data.retain_freed_memory``, on by default, set in the
datamodule's ``setup``; :mod:`pacepred.data.memory`), and so do raw decord's, so that the ceiling
is measured under the same setting; the official-style pipeline runs with glibc's defaults, as
the official code does (its training loop costs about the same either way in
``experiments/results/clip_cost.md``).

Each pipeline is measured in clips/s and in CPU milliseconds per clip (all processes together:
what a clip costs whatever the number of free cores; with more workers than the machine has idle
cores, the rate tracks this cost). A second table gives the disk size of each form (the four
videos together), a third the ratios, by rate and by CPU time: those of issue #3 (pacepred video
against raw decord, pacepred frames against the official-style pipeline) and those of issue #7
(transcoded / original video, target >= 3; prepared frames / original video).

    python experiments/bench_data.py --workers 2 --clips 240

Prints the Markdown tables and saves them to ``data_throughput.md``, and every number (clips/s,
sizes, ratios, the run's settings) to ``data_throughput.json``, under ``experiments/results/``
(``--out`` another folder).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from pacepred.prep.convert import FrameSettings, TranscodeSettings, extract_frames, transcode_video
from pacepred.data.clip_reader import ClipReader
from pacepred.data.datasets import PaceClipDataset, sample_seed
from pacepred.data.decoding import FRAME_NAME, read_clip
from pacepred.data.memory import retain_freed_memory
from pacepred.data.pace import sample_pace_clip
from pacepred.data.video_index import disk_size
from pacepred.data.records import VideoRecord
from pacepred.data.colour_jitter import ColourJitter
from pacepred.data.transforms import ClipBatchTransform
from pacepred.run_info import package_versions

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / "tests" / "data" / "videos"
PACES = [Fraction(p) for p in (1, 2, 3, 4)]
RESIZE, CROP, CLIP_LEN = (128, 171), 112, 16
#: The libraries the pipelines run on (a newer OpenCV or Pillow moves the baseline).
LIBRARIES = ("torch", "numpy", "decord", "av", "simplejpeg", "opencv-python-headless", "pillow", "torchvision")
#: Settings of the prepared forms: transcode_video's defaults (short side 128, gop 16); frames at
#: short side 128, JPEG quality 90.
TRANSCODE, FRAMES_128 = TranscodeSettings(), FrameSettings(short_side=128, quality=90)
#: Form -> what the disk-size table calls it.
FORMS = {
    "avi": "original AVI xvid (320x240)",
    "mp4": "original MP4 H.264 (320x240)",
    "frames": "JPEG frames (320x240, quality 95)",
    "avi_transcoded": f"transcoded from AVI xvid (H.264, short side {TRANSCODE.short_side}, gop {TRANSCODE.gop})",
    "mp4_transcoded": f"transcoded from MP4 H.264 (H.264, short side {TRANSCODE.short_side}, gop {TRANSCODE.gop})",
    "frames_128": f"prepared frames from the AVI (short side {FRAMES_128.short_side}, quality {FRAMES_128.quality})",
    "ucf": "the real UCF101 clip as distributed (xvid AVI, 320x240, one keyframe, B-frames)",
    "ucf_transcoded": f"the real UCF101 clip transcoded (H.264, short side {TRANSCODE.short_side}, gop {TRANSCODE.gop})",
}
VIDEO_AVI, VIDEO_MP4 = "pacepred video (AVI xvid)", "pacepred video (MP4 H.264)"
FRAMES, OFFICIAL = "pacepred frames (JPEG)", "official-style frames (JPEG)"
FRAMES_WHOLE = "pacepred frames (JPEG), whole frames resized (frame_folder_resize=whole)"
TRANSCODED_AVI, TRANSCODED_MP4 = "pacepred video, transcoded (from AVI xvid)", "pacepred video, transcoded (from MP4 H.264)"
PREPARED_FRAMES = "pacepred frames, prepared (short side 128)"
VIDEO_UCF, TRANSCODED_UCF = "pacepred video (real UCF101 AVI)", "pacepred video, transcoded (from the real UCF101 AVI)"
#: (label, numerator pipeline, denominator pipeline, target or None, the issue that set it).
RATIOS = [
    ("pacepred video / decord raw (AVI)", VIDEO_AVI, "decord raw (AVI xvid)", 0.7, "#3"),
    ("pacepred video / decord raw (MP4)", VIDEO_MP4, "decord raw (MP4 H.264)", 0.7, "#3"),
    ("pacepred frames / official-style frames", FRAMES, OFFICIAL, 3.0, "#3"),
    ("pacepred frames, whole frames resized / official-style frames", FRAMES_WHOLE, OFFICIAL, None, "#3"),
    ("pacepred video (AVI) / official-style frames", VIDEO_AVI, OFFICIAL, None, "#3"),
    ("pacepred video (MP4) / official-style frames", VIDEO_MP4, OFFICIAL, None, "#3"),
    ("transcoded / original video (AVI)", TRANSCODED_AVI, VIDEO_AVI, 3.0, "#7"),
    ("transcoded / original video (MP4)", TRANSCODED_MP4, VIDEO_MP4, 3.0, "#7"),
    ("transcoded / original video (real UCF101 AVI)", TRANSCODED_UCF, VIDEO_UCF, 3.0, "#7"),
    ("prepared frames / original video (AVI)", PREPARED_FRAMES, VIDEO_AVI, None, "#7"),
    ("prepared frames / original video (MP4)", PREPARED_FRAMES, VIDEO_MP4, None, "#7"),
]


def make_videos(work: Path) -> dict[str, list[Path]]:
    """320x240 25 fps copies of the real clips: xvid AVI and H.264 MP4; JPEG frame folders."""
    import av

    sources = ["ucf101_apply_eye_makeup.avi", "kinetics_arm_wrestling.mp4", "kinetics_cleaning_pool.mp4",
               "kinetics_flipping_pancake.mkv"]
    forms: dict[str, list[Path]] = {"avi": [], "mp4": [], "frames": [], "ucf": [SHARED / sources[0]]}
    for name in sources:
        frames = read_clip(SHARED / name, lambda n: np.arange(n), size=(240, 320))
        stem = Path(name).stem
        # AVI like UCF101's: MPEG-4 part 2 (xvid tag) at a fixed quantiser and ONE keyframe (the real
        # UCF101 clip has a single keyframe, so every random access decodes from the start);
        # MP4 like Kinetics: x264 defaults (a keyframe every 250 frames at most), crf 20.
        for form, codec, options in (("avi", "mpeg4", {"qmin": "5", "qmax": "5"}), ("mp4", "libx264", {"crf": "20"})):
            path = work / f"{stem}.{form}"
            with av.open(str(path), "w") as container:
                stream = container.add_stream(codec, rate=25, options=options)
                stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
                if codec == "mpeg4":
                    stream.codec_context.codec_tag = "XVID"
                    stream.codec_context.gop_size = len(frames)
                for frame in frames:
                    container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
                container.mux(stream.encode())
            forms[form].append(path)
        folder = work / f"{stem}_frames"
        folder.mkdir()
        import cv2

        for i, frame in enumerate(frames):
            cv2.imwrite(str(folder / FRAME_NAME.format(i + 1)), frame[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
        forms["frames"].append(folder)
    return forms


def make_prepared(forms: dict[str, list[Path]], work: Path) -> dict[str, list[Path]]:
    """What ``prepare mode=transcode`` (each video under its own name, an MP4 container whatever
    the extension) and ``mode=frames`` (of the AVI videos) make of the videos, through the same
    per-video functions."""
    prepared: dict[str, list[Path]] = {"avi_transcoded": [], "mp4_transcoded": [], "frames_128": [],
                                       "ucf_transcoded": []}
    for form in ("avi", "mp4", "ucf"):
        for path in forms[form]:
            destination = work / f"{form}_transcoded" / path.name
            transcode_video(path, destination, TRANSCODE)
            prepared[f"{form}_transcoded"].append(destination)
    for path in forms["avi"]:
        folder = work / "frames_128" / path.stem
        extract_frames(path, folder, FRAMES_128)
        prepared["frames_128"].append(folder)
    return prepared


class DecordRawDataset(Dataset):
    """The same pace-clip frames decoded with decord, resized, nothing else: uint8 (T, H, W, C)."""

    def __init__(self, paths: list[Path]):
        self.paths = paths

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, key):
        index, seed = key
        rng = np.random.default_rng(seed)
        pace = PACES[int(rng.integers(len(PACES)))]
        return torch.from_numpy(read_clip(self.paths[index], lambda n: sample_pace_clip(n, CLIP_LEN, pace, "fit", rng),
                                          size=RESIZE))


class OfficialStyleDataset(Dataset):
    """The official code's pipeline on JPEG folders, step for step (its ``datasets/ucf101.py`` and
    ``utils/video_transforms.py``): every frame read with OpenCV (BGR, as it keeps them) and the
    clip stacked, every frame resized to 128x171 with ``cv2.resize`` and stacked again, a random
    112x112 crop (a view), a horizontal flip with probability 0.5 (a copy), then per frame a PIL
    image, ``RandomApply(ColorJitter(0.8, 0.8, 0.8, 0.2), p=0.8)`` and back to an array; the clip
    stacked and returned as uint8 (3, T, 112, 112), a transposed view that the loader's collate
    copies into the batch."""

    def __init__(self, folders: list[Path]):
        from torchvision import transforms

        self.folders = folders
        self.counts = [len(list(f.glob("frame*.jpg"))) for f in folders]
        self.jitter = transforms.RandomApply([transforms.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8)

    def __len__(self) -> int:
        return len(self.folders)

    def __getitem__(self, key):
        import cv2
        from PIL import Image

        index, seed = key
        rng = np.random.default_rng(seed)
        torch.manual_seed(seed % 2**31)
        pace = PACES[int(rng.integers(len(PACES)))]
        indices = sample_pace_clip(self.counts[index], CLIP_LEN, pace, "fit", rng)
        clip = np.array([cv2.imread(str(self.folders[index] / FRAME_NAME.format(int(i) + 1))) for i in indices])
        clip = np.array([cv2.resize(frame, (RESIZE[1], RESIZE[0])) for frame in clip])
        top, left = int(rng.integers(RESIZE[0] - CROP + 1)), int(rng.integers(RESIZE[1] - CROP + 1))
        clip = clip[:, top : top + CROP, left : left + CROP]
        if rng.random() < 0.5:
            clip = np.flip(clip, axis=2).copy()
        clip = np.array([np.asarray(self.jitter(Image.fromarray(frame))) for frame in clip])
        return clip.transpose(3, 0, 1, 2)


def pacepred_dataset(paths: list[Path], frame_folder_resize: str = "crop") -> PaceClipDataset:
    """pacepred's training dataset on ``paths`` (videos or frame folders): pace clips, crop, flip."""
    reader = ClipReader(RESIZE, CROP, frame_folder_resize=frame_folder_resize)
    return PaceClipDataset([VideoRecord(p, 0) for p in paths], reader, PACES, CLIP_LEN, 1, "fit", train=True, flip=True)


def pacepred_transform(jitter_impl: str) -> ClipBatchTransform:
    """pacepred's batch transform with per-frame colour jitter (the official code's jitter mode)."""
    return ClipBatchTransform("rgb", jitter=ColourJitter(mode="per_frame", impl=jitter_impl))


def keys(num_items: int, clips: int) -> list[tuple[int, int]]:
    return [(k % num_items, sample_seed(0, 0, k)) for k in range(clips)]


def measure(dataset: Dataset, clips: int, workers: int, batch_transform=None, batch_size: int = 8) -> tuple[float, float]:
    """(clips/s, CPU ms per clip) of ``dataset`` in the steady state of training.

    Two passes over the same ``clips`` keys with persistent workers (pacepred's setting): the
    first starts the workers and warms up, the second is measured, from before its first index is
    sent to after its last batch is transformed. The CPU time is that of every process together
    (the main process, with the batch transform, and the workers): unlike the rate, it does not
    depend on how many cores are free, so its ratios are what N workers on N otherwise idle cores
    would give.
    """
    # fork: the workers are children of this process (forkserver ones, the default from Python
    # 3.14, would be the server's, out of sight of process_cpu_seconds); a forked worker inherits
    # the allocator setting that in_own_process gave this process
    loader = DataLoader(dataset, batch_size=batch_size, sampler=keys(len(dataset), clips), num_workers=workers,
                        persistent_workers=workers > 0, multiprocessing_context="fork" if workers else None)
    generator = torch.Generator().manual_seed(0)

    def one_pass() -> int:
        count = 0
        for batch in loader:
            video = batch["video"] if isinstance(batch, dict) else batch
            if batch_transform is not None:
                batch_transform(video, train=True, generator=generator)
            count += len(video)
        return count

    one_pass()
    cpu_before, start = process_cpu_seconds(), time.perf_counter()
    count = one_pass()
    wall, cpu_after = time.perf_counter() - start, process_cpu_seconds()
    del loader  # the persistent workers exit
    cpu = sum(seconds - cpu_before.get(pid, 0.0) for pid, seconds in cpu_after.items())
    return count / wall, 1000 * cpu / count


def in_own_process(dataset: Dataset, clips: int, workers: int, batch_transform=None) -> tuple[float, float]:
    """:func:`measure` in a forked child process with the allocator setting of its pipeline as it
    ships (see the module docstring), so that no setting carries over from one pipeline to the next."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        if not isinstance(dataset, OfficialStyleDataset):
            retain_freed_memory()
        send.send(measure(dataset, clips, workers, batch_transform))

    process = context.Process(target=child)
    process.start()
    send.close()  # the child's end only: recv fails instead of waiting forever if the child dies
    try:
        return receive.recv()
    except EOFError:
        process.join()
        raise RuntimeError(f"the measurement process failed (exit code {process.exitcode})") from None
    finally:
        process.join()


def process_cpu_seconds() -> dict[int, float]:
    """pid -> user + system CPU seconds of this process and of its live child processes (Linux)."""
    ticks, me = os.sysconf("SC_CLK_TCK"), os.getpid()
    own = resource.getrusage(resource.RUSAGE_SELF)
    seconds = {me: own.ru_utime + own.ru_stime}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # from field 3 (state) on: ppid, ..., utime, stime
        if int(fields[1]) == me:
            seconds[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="N of the 'N workers' columns")
    parser.add_argument("--clips", type=int, default=240, help="clips per pass (a warm-up pass, then the timed one)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds over all pipelines; the median is reported")
    parser.add_argument("--out", default=str(REPO / "experiments" / "results"), help="folder of the .md and .json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="pacepred_bench_"))
    try:
        forms = make_videos(work)
        forms.update(make_prepared(forms, work))
        disk_mb = {form: sum(disk_size(path) for path in forms[form]) / 1e6 for form in FORMS}
        transform, sequential = pacepred_transform("linear"), pacepred_transform("sequential")

        pipelines = {
            "decord raw (AVI xvid)": (DecordRawDataset(forms["avi"]), None),
            VIDEO_AVI: (pacepred_dataset(forms["avi"]), transform),
            f"{VIDEO_AVI}, sequential jitter": (pacepred_dataset(forms["avi"]), sequential),
            TRANSCODED_AVI: (pacepred_dataset(forms["avi_transcoded"]), transform),
            "decord raw (MP4 H.264)": (DecordRawDataset(forms["mp4"]), None),
            VIDEO_MP4: (pacepred_dataset(forms["mp4"]), transform),
            TRANSCODED_MP4: (pacepred_dataset(forms["mp4_transcoded"]), transform),
            VIDEO_UCF: (pacepred_dataset(forms["ucf"]), transform),
            TRANSCODED_UCF: (pacepred_dataset(forms["ucf_transcoded"]), transform),
            FRAMES: (pacepred_dataset(forms["frames"]), transform),
            FRAMES_WHOLE: (pacepred_dataset(forms["frames"], "whole"), transform),
            PREPARED_FRAMES: (pacepred_dataset(forms["frames_128"]), transform),
            OFFICIAL: (OfficialStyleDataset(forms["frames"]), None),
        }
        # rounds interleave the pipelines, so that a slow spell of the shared machine hits them all;
        # each cell is the median of its rounds
        samples: dict[tuple[str, int], list[float]] = {}
        cpu_samples: dict[tuple[str, int], list[float]] = {}
        for round_ in range(args.repeats):
            for workers in (1, args.workers):
                for name, (dataset, batch_transform) in pipelines.items():
                    value, cpu_ms = in_own_process(dataset, args.clips, workers, batch_transform)
                    samples.setdefault((name, workers), []).append(value)
                    cpu_samples.setdefault((name, workers), []).append(cpu_ms)
                    print(f"round {round_ + 1} {name:45s} workers={workers}: {value:7.1f} clips/s, "
                          f"{cpu_ms:6.1f} CPU ms/clip", flush=True)
        results = {key: statistics.median(values) for key, values in samples.items()}
        cpu_results = {key: statistics.median(values) for key, values in cpu_samples.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    n = args.workers
    run = {
        "date": str(datetime.date.today()),
        "machine": f"{platform.machine()} with {os.cpu_count()} CPU cores",
        "torch_threads": torch.get_num_threads(),
        "clips": args.clips,
        "workers": [1, n],
        "repeats": args.repeats,
        "command": f"python experiments/bench_data.py --workers {n} --clips {args.clips} --repeats {args.repeats}",
        "versions": package_versions(LIBRARIES),
    }
    header = (f"Data throughput, {run['date']}, {run['machine']}, {run['torch_threads']} torch thread(s) in the main "
              f"process, steady state: {args.clips} clips timed after a warm-up pass of the same clips, persistent workers, median of {args.repeats} interleaved rounds; 16-frame pace clips (paces 1-4), resize 128x171, crop 112; "
              f"command: `{run['command']}`; "
              + ", ".join(f"{name} {version}" for name, version in run["versions"].items()) + "\n\n")
    table = (f"| pipeline | clips/s, 1 worker | clips/s, {n} workers | CPU ms per clip, 1 worker | "
             f"CPU ms per clip, {n} workers |\n|---|---|---|---|---|\n")
    for name in pipelines:
        table += (f"| {name} | {results[(name, 1)]:.1f} | {results[(name, n)]:.1f} | "
                  f"{cpu_results[(name, 1)]:.1f} | {cpu_results[(name, n)]:.1f} |\n")
    sizes = f"\n| form ({len(forms['avi'])} videos) | MB on disk |\n|---|---|\n"
    sizes += "".join(f"| {label} | {disk_mb[form]:.1f} |\n" for form, label in FORMS.items())
    ratios = (f"\n| ratio | 1 worker | {n} workers | by CPU time per clip ({n} workers) | target |\n"
              "|---|---|---|---|---|\n")
    ratio_values = {}
    for label, a, b, target, issue in RATIOS:
        values = {workers: results[(a, workers)] / results[(b, workers)] for workers in (1, n)}
        by_cpu = cpu_results[(b, n)] / cpu_results[(a, n)]
        ratio_values[label] = {**{str(w): v for w, v in values.items()}, "by_cpu_time": by_cpu, "target_min": target}
        ratios += (f"| {label} | {values[1]:.2f} | {values[n]:.2f} | {by_cpu:.2f} | "
                   f"{'-' if target is None else f'>= {target:g} ({issue})'} |\n")
    print("\n" + header + table + sizes + ratios)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "data_throughput.md").write_text(header + table + sizes + ratios)
    numbers = {
        **run,
        "clips_per_s": {name: {str(w): results[(name, w)] for w in (1, n)} for name in pipelines},
        "clips_per_s_rounds": {name: {str(w): samples[(name, w)] for w in (1, n)} for name in pipelines},
        "cpu_ms_per_clip": {name: {str(w): cpu_results[(name, w)] for w in (1, n)} for name in pipelines},
        "cpu_ms_per_clip_rounds": {name: {str(w): cpu_samples[(name, w)] for w in (1, n)} for name in pipelines},
        "disk_mb": {FORMS[form]: mb for form, mb in disk_mb.items()},
        "ratios": ratio_values,
    }
    (out / "data_throughput.json").write_text(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main()
