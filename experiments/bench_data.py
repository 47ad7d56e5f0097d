"""Data throughput: training-ready pace clips per second, side by side in one run.

Content: UCF101-like videos (320x240, 25 fps) as xvid AVI and H.264 MP4, made from the real clips
of ``../shared/videos`` (the UCF101 clip as it is, the Kinetics clips re-encoded at 320x240),
and the same content as JPEG frame folders (``frame000001.jpg``...). Every pipeline makes 16-frame
pace clips (paces 1 to 4, ``fit`` boundary) resized to 128x171 and cropped to 112x112, with 1 and
with N loader workers:

- ``decord raw``: decord decoding of the same frames (resize at decode time), nothing else: the
  ceiling of the video path;
- ``pacepred video``: pacepred's dataset (decord, crop) + its batch transform (per-frame colour
  jitter with the default ``jitter_impl=linear``, normalisation) on the CPU, in the main process
  (on a GPU machine it runs on the GPU); one row with ``jitter_impl=sequential`` (torchvision's
  operations, HSV hue) shows what the cheaper jitter buys;
- ``pacepred frames``: the same on the JPEG folders (``frames`` backend);
- ``official-style frames``: the official code's way on the same JPEG folders: each frame read
  with OpenCV, resized, converted to PIL, per-frame colour jitter with torchvision, crop, tensor.

    python experiments/bench_data.py --workers 2 --clips 240

Prints a Markdown table and saves it under ``experiments/results/data_throughput.md``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import shutil
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from pacepred.data.datasets import PaceClipDataset, sample_seed
from pacepred.data.decoding import FRAME_NAME, read_clip
from pacepred.data.pace import sample_pace_clip
from pacepred.data.records import VideoRecord
from pacepred.data.transforms import ClipBatchTransform

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "videos"
PACES = [Fraction(p) for p in (1, 2, 3, 4)]
RESIZE, CROP, CLIP_LEN = (128, 171), 112, 16


def make_videos(work: Path) -> dict[str, list[Path]]:
    """320x240 25 fps copies of the real clips: xvid AVI and H.264 MP4; JPEG frame folders."""
    import av

    sources = ["ucf101_apply_eye_makeup.avi", "kinetics_arm_wrestling.mp4", "kinetics_cleaning_pool.mp4",
               "kinetics_flipping_pancake.mkv"]
    forms: dict[str, list[Path]] = {"avi": [], "mp4": [], "frames": []}
    for name in sources:
        frames = read_clip(SHARED / name, lambda n: np.arange(n), size=(240, 320))
        stem = Path(name).stem
        for form, codec, options in (("avi", "mpeg4", {"qscale": "3"}), ("mp4", "libx264", {"crf": "20"})):
            path = work / f"{stem}.{form}"
            with av.open(str(path), "w") as container:
                stream = container.add_stream(codec, rate=25, options=options)
                stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
                if codec == "mpeg4":
                    stream.codec_context.codec_tag = "XVID"
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
    """The official code's pipeline on JPEG folders: OpenCV per frame, resize, PIL jitter per frame."""

    def __init__(self, folders: list[Path]):
        from torchvision import transforms

        self.folders = folders
        self.counts = [len(list(f.glob("frame*.jpg"))) for f in folders]
        self.jitter = transforms.RandomApply([transforms.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8)
        self.to_tensor = transforms.ToTensor()

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
        top, left = int(rng.integers(RESIZE[0] - CROP + 1)), int(rng.integers(RESIZE[1] - CROP + 1))
        frames = []
        for i in indices:
            image = cv2.imread(str(self.folders[index] / FRAME_NAME.format(int(i) + 1)))
            image = cv2.resize(image, (RESIZE[1], RESIZE[0]))
            image = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
            image = self.jitter(image).crop((left, top, left + CROP, top + CROP))
            frames.append(self.to_tensor(image))
        return torch.stack(frames)


def keys(num_items: int, clips: int) -> list[tuple[int, int]]:
    return [(k % num_items, sample_seed(0, 0, k)) for k in range(clips)]


def clips_per_second(dataset: Dataset, clips: int, workers: int, batch_transform=None, batch_size: int = 8) -> float:
    """Clips/s of iterating ``dataset`` over ``clips`` keys (after one warm-up batch)."""
    loader = DataLoader(dataset, batch_size=batch_size, sampler=keys(len(dataset), clips + batch_size),
                        num_workers=workers, persistent_workers=False)
    generator = torch.Generator().manual_seed(0)
    start, count = None, 0
    for batch in loader:
        if batch_transform is not None:
            video = batch["video"] if isinstance(batch, dict) else batch
            batch_transform(video, train=True, generator=generator)
        if start is None:
            start = time.perf_counter()
            continue
        count += len(batch["video"]) if isinstance(batch, dict) else len(batch)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="N of the 'N workers' columns")
    parser.add_argument("--clips", type=int, default=240, help="clips timed per measurement")
    parser.add_argument("--out", default=str(REPO / "experiments" / "results"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="pacepred_bench_"))
    try:
        forms = make_videos(work)
        transform = ClipBatchTransform("rgb", jitter_mode="per_frame", jitter_impl="linear")
        sequential = ClipBatchTransform("rgb", jitter_mode="per_frame", jitter_impl="sequential")

        def pacepred(paths):
            records = [VideoRecord(p, 0) for p in paths]
            return PaceClipDataset(records, PACES, CLIP_LEN, 1, "fit", RESIZE, CROP, train=True, flip=True)

        pipelines = {
            "decord raw (AVI xvid)": (DecordRawDataset(forms["avi"]), None),
            "pacepred video (AVI xvid)": (pacepred(forms["avi"]), transform),
            "pacepred video (AVI xvid), sequential jitter": (pacepred(forms["avi"]), sequential),
            "decord raw (MP4 H.264)": (DecordRawDataset(forms["mp4"]), None),
            "pacepred video (MP4 H.264)": (pacepred(forms["mp4"]), transform),
            "pacepred frames (JPEG)": (pacepred(forms["frames"]), transform),
            "official-style frames (JPEG)": (OfficialStyleDataset(forms["frames"]), None),
        }
        results = {}
        for workers in (1, args.workers):
            for name, (dataset, batch_transform) in pipelines.items():
                results[(name, workers)] = clips_per_second(dataset, args.clips, workers, batch_transform)
                print(f"{name:32s} workers={workers}: {results[(name, workers)]:7.1f} clips/s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    n = args.workers
    header = (f"Data throughput, {datetime.date.today()}, {platform.machine()} with {torch.get_num_threads()} torch "
              f"thread(s) in the main process, {args.clips} clips per measurement; 16-frame pace clips (paces 1-4), "
              f"resize 128x171, crop 112; command: `python experiments/bench_data.py --workers {n} --clips {args.clips}`\n\n")
    table = f"| pipeline | clips/s, 1 worker | clips/s, {n} workers |\n|---|---|---|\n"
    for name in pipelines:
        table += f"| {name} | {results[(name, 1)]:.1f} | {results[(name, n)]:.1f} |\n"
    ratios = "\n| ratio | 1 worker | {n} workers |\n|---|---|---|\n".replace("{n}", str(n))
    pairs = [
        ("pacepred video / decord raw (AVI)", "pacepred video (AVI xvid)", "decord raw (AVI xvid)"),
        ("pacepred video / decord raw (MP4)", "pacepred video (MP4 H.264)", "decord raw (MP4 H.264)"),
        ("pacepred frames / official-style frames", "pacepred frames (JPEG)", "official-style frames (JPEG)"),
        ("pacepred video (AVI) / official-style frames", "pacepred video (AVI xvid)", "official-style frames (JPEG)"),
        ("pacepred video (MP4) / official-style frames", "pacepred video (MP4 H.264)", "official-style frames (JPEG)"),
    ]
    for label, a, b in pairs:
        ratios += f"| {label} | {results[(a, 1)] / results[(b, 1)]:.2f} | {results[(a, n)] / results[(b, n)]:.2f} |\n"
    print("\n" + header + table + ratios)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "data_throughput.md").write_text(header + table + ratios)
    (out / "data_throughput.json").write_text(json.dumps({f"{k[0]}|{k[1]}": v for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    main()
