"""Where the CPU time of one frames-pipeline clip goes, against the official-style pipeline.

On the same 320x240 JPEG folders as ``bench_data.py`` (generated from the real clips of
``tests/data/videos``), in one process with one torch thread and pacepred's allocator setting
(``data.retain_freed_memory``), the CPU milliseconds of one 16-frame
pace clip (paces 1-4, resize 128x171, crop 112): the stages of pacepred's ``frames`` pipeline
(JPEG decoding with libjpeg-turbo, also with its fast DCT and upsampling for comparison, of only
the crop's region where libjpeg-turbo 3's TurboJPEG library is at hand (``--turbojpeg-lib``, found
by default in the ``turbojpeg`` wheel: not a dependency, not used by pacepred), and of
the same frames as 340x256 JPEGs at full size and at 1/2, the DCT scale they decode at for a
128x171 resize; the
crop's region resized to 112, as ``data.frame_folder_resize=crop`` does, and for comparison the
whole frames resized to 128x171, then cropped, as ``whole`` does; the whole dataset item with
each; the batch transform with per-frame colour jitter per clip of a batch of 8, with the default
and with the sequential jitter) and the whole item of the official-style pipeline. Median of ``--repeats`` passes over ``--clips`` clips (or
batches, for the batch transform). Then both pipelines as a training loop runs them (8 items
stacked, pacepred's batch transform, next batch), each in a fresh process (3 alternated rounds), with glibc's default
allocator settings and after :func:`pacepred.data.memory.retain_freed_memory`
(``data.retain_freed_memory``, pacepred's default), with the page faults per clip.

    python experiments/profile_clip_cost.py

Prints the Markdown table and saves it to ``experiments/results/clip_cost.md`` (``--out``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import simplejpeg
import torch

from bench_data import (CLIP_LEN, CROP, LIBRARIES, PACES, REPO, RESIZE, OfficialStyleDataset, keys, make_videos,
                        pacepred_dataset, pacepred_transform)
from pacepred.data.decoding import FRAME_NAME, frame_count
from pacepred.data.decoding.frame_folders import _resize_frames
from pacepred.data.memory import retain_freed_memory
from pacepred.data.pace import sample_pace_clip
from pacepred.data.transforms import crop_and_flip
from pacepred.run_info import package_versions

BATCH = 8
#: the source region a 112 crop of the 128x171 resize covers in a 320x240 frame (rows, columns)
CROP_REGION = (round(240 * CROP / RESIZE[0]), round(320 * CROP / RESIZE[1]))


class PartialJpegDecoder:
    """libjpeg-turbo 3's TurboJPEG API through ctypes: decodes only a region of a JPEG (its
    partial decoding: rows outside the region are skipped, columns cut at iMCU boundaries; the
    entropy decoding of the rows above and inside the region is still done). Not bit-exact: on the
    benchmark's frames up to a few levels from the full decode (mean about 0.003)."""

    def __init__(self, library: str):
        import ctypes

        class Region(ctypes.Structure):
            _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("w", ctypes.c_int), ("h", ctypes.c_int)]

        self.Region = Region
        lib = self.lib = ctypes.CDLL(library)
        lib.tj3Init.restype = ctypes.c_void_p
        lib.tj3Init.argtypes = [ctypes.c_int]
        lib.tj3DecompressHeader.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        lib.tj3Get.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.tj3SetCroppingRegion.argtypes = [ctypes.c_void_p, Region]
        lib.tj3Decompress8.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p,
                                       ctypes.c_int, ctypes.c_int]
        lib.tj3GetErrorStr.restype = ctypes.c_char_p
        lib.tj3GetErrorStr.argtypes = [ctypes.c_void_p]
        self.handle = lib.tj3Init(1)  # TJINIT_DECOMPRESS

    def _check(self, status: int) -> None:
        if status != 0:
            raise RuntimeError(self.lib.tj3GetErrorStr(self.handle).decode())

    def decode(self, data: bytes, top: int, left: int, size: tuple[int, int]) -> np.ndarray:
        """uint8 (H', W', 3) RGB covering rows top..top+size[0] and columns left..left+size[1]
        (the region's left edge moved down to a multiple of 16, the iMCU width of 4:2:0 JPEGs)."""
        self._check(self.lib.tj3DecompressHeader(self.handle, data, len(data)))
        width = self.lib.tj3Get(self.handle, 5)  # TJPARAM_JPEGWIDTH
        x = left // 16 * 16
        w = min(width - x, left + size[1] - x)
        self._check(self.lib.tj3SetCroppingRegion(self.handle, self.Region(x, top, w, size[0])))
        out = np.empty((size[0], w, 3), dtype=np.uint8)
        self._check(self.lib.tj3Decompress8(self.handle, data, len(data), out.ctypes.data, 0, 0))  # TJPF_RGB
        return out


def find_turbojpeg_library() -> str | None:
    """libturbojpeg (3.x) as bundled in the ``turbojpeg`` wheel (``pip install turbojpeg``), or None."""
    try:
        import turbojpeg
    except ImportError:
        return None
    found = sorted(Path(turbojpeg.__file__).parent.glob("turbojpeg.libs/libturbojpeg*.so*"))
    return str(found[0]) if found else None
TRANSFORM = "pacepred batch transform (per-frame jitter, normalisation folded in), per clip of a batch of 8"
SEQUENTIAL = "the same with `data.batch_transform.jitter.impl=sequential` (torchvision's operations, HSV hue: not the default)"


def cpu_ms_per_call(step, calls: int, repeats: int) -> float:
    """Median over ``repeats`` passes of the CPU ms per call of ``step(k)`` for k < ``calls``."""
    step(0)
    passes = []
    for _ in range(repeats):
        start = time.process_time()
        for k in range(calls):
            step(k)
        passes.append(1000 * (time.process_time() - start) / calls)
    return statistics.median(passes)


LOOP_SETTINGS = {"glibc defaults": False, "retain_freed_memory (pacepred's default)": True}
LOOP_PIPELINES = ("pacepred frames + batch transform", "official-style frames")
LOOP_ROUNDS = 3


def training_loop_cost(pipeline: str, folders: list[Path], items: list, retain: bool,
                       repeats: int) -> tuple[float, float]:
    """(CPU ms, page faults) per clip of ``pipeline``'s items (and batch transform), batch after batch."""
    torch.set_num_threads(1)
    if retain and not retain_freed_memory():
        return float("nan"), float("nan")  # not glibc
    generator = torch.Generator().manual_seed(0)
    if pipeline == LOOP_PIPELINES[0]:
        dataset, transform = pacepred_dataset(folders), pacepred_transform("linear")
    else:
        dataset, transform = OfficialStyleDataset(folders), None

    def training_step(k: int) -> None:
        clips = [dataset[items[(k * BATCH + j) % len(items)]] for j in range(BATCH)]
        batch = torch.stack([clip["video"] if isinstance(clip, dict) else torch.from_numpy(clip) for clip in clips])
        if transform is not None:
            transform(batch, train=True, generator=generator)

    steps = len(items) // BATCH
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    ms = cpu_ms_per_call(training_step, steps, repeats) / BATCH
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return ms, faults / ((repeats * steps + 1) * BATCH)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(REPO / "experiments" / "results"))
    parser.add_argument("--turbojpeg-lib", default=None,
                        help="libturbojpeg 3.x for the crop-region decoding row (default: the turbojpeg wheel's)")
    args = parser.parse_args()
    turbojpeg_lib = args.turbojpeg_lib or find_turbojpeg_library()
    partial = PartialJpegDecoder(turbojpeg_lib) if turbojpeg_lib is not None else None
    torch.set_num_threads(1)
    # the stages as pacepred's processes run them (data.retain_freed_memory, the default); the
    # training-loop table below compares the settings, each in a fresh process
    retain_freed_memory()
    work = Path(tempfile.mkdtemp(prefix="pacepred_profile_"))
    try:
        folders = make_videos(work)["frames"]
        items = keys(len(folders), args.clips)
        counts = [frame_count(folder) for folder in folders]
        rng = np.random.default_rng(0)
        clip_files = []  # (JPEG bytes of the clip's 16 frames) per clip, read once
        for index, _ in items:
            pace = PACES[int(rng.integers(len(PACES)))]
            indices = sample_pace_clip(counts[index], CLIP_LEN, pace, "fit", rng)
            clip_files.append([(folders[index] / FRAME_NAME.format(int(i) + 1)).read_bytes() for i in indices])
        decoded = [np.stack([simplejpeg.decode_jpeg(d, colorspace="RGB") for d in f]) for f in clip_files]
        # a random crop's region (top, left) per clip, as the crop-region resize draws it
        regions = [(int(rng.integers(240 - CROP_REGION[0] + 1)), int(rng.integers(320 - CROP_REGION[1] + 1)))
                   for _ in clip_files]
        resized = [_resize_frames(frames, RESIZE) for frames in decoded]
        # the same frames as 340x256 JPEGs (the TSN-style extraction size), quality 95
        tsn_files = [[simplejpeg.encode_jpeg(frame, quality=95) for frame in _resize_frames(frames, (256, 340))]
                     for frames in decoded]
        if partial is not None:  # the binding is right: the region is the full decode's, within a few levels
            (top, left), first = regions[0], clip_files[0][0]
            part = partial.decode(first, top, left, CROP_REGION).astype(int)
            x = left // 16 * 16
            difference = np.abs(part - decoded[0][0][top:top + CROP_REGION[0], x:x + part.shape[1]])
            assert difference.max() <= 8 and difference.mean() < 0.05, (difference.max(), difference.mean())
        dataset, whole = pacepred_dataset(folders), pacepred_dataset(folders, "whole")
        official = OfficialStyleDataset(folders)
        transform, sequential = pacepred_transform("linear"), pacepred_transform("sequential")
        batch = torch.stack([dataset[items[k]]["video"] for k in range(BATCH)])
        generator = torch.Generator().manual_seed(0)
        stages = {
            "JPEG decoding, 16 frames (libjpeg-turbo, accurate DCT: used)":
                lambda k: [simplejpeg.decode_jpeg(d, colorspace="RGB") for d in clip_files[k]],
            "JPEG decoding, 16 frames (fast DCT and upsampling: not used)":
                lambda k: [simplejpeg.decode_jpeg(d, colorspace="RGB", fastdct=True, fastupsample=True)
                           for d in clip_files[k]],
            **({} if partial is None else {
                "JPEG decoding, 16 frames, only the crop's region (libjpeg-turbo 3's partial decoding: not used)":
                    lambda k: [partial.decode(d, *regions[k], CROP_REGION) for d in clip_files[k]]}),
            "JPEG decoding, 16 frames of 340x256 (TSN-style frames), full size: the frames backend before "
            "`DCT_SHORTFALL`": lambda k: [simplejpeg.decode_jpeg(d, colorspace="RGB") for d in tsn_files[k]],
            "the same at 1/2, 170x128 (used for a 128x171 resize, within `DCT_SHORTFALL`)":
                lambda k: [simplejpeg.decode_jpeg(d, colorspace="RGB", min_height=128, min_width=170)
                           for d in tsn_files[k]],
            "crop's region of the decoded frames resized to 112 (antialiased bilinear), flip "
            "(`frame_folder_resize=crop`: used)": lambda k: crop_and_flip(decoded[k], CROP, rng, True, RESIZE),
            "whole frames resized to 128x171 (`frame_folder_resize=whole`: not used)":
                lambda k: _resize_frames(decoded[k], RESIZE),
            "then random crop 112 and flip (`whole`)": lambda k: crop_and_flip(resized[k], CROP, rng, flip=True),
            "pacepred frames: whole dataset item (file reads, sampling, decoding, crop and resize)":
                lambda k: dataset[items[k]],
            "the same with `frame_folder_resize=whole`": lambda k: whole[items[k]],
            TRANSFORM:
                lambda k: transform(batch, train=True, generator=generator),
            SEQUENTIAL: lambda k: sequential(batch, train=True, generator=generator),
            "official-style frames: whole dataset item": lambda k: official[items[k]],
        }
        costs = {name: cpu_ms_per_call(step, args.clips, args.repeats) for name, step in stages.items()}
        for name in (TRANSFORM, SEQUENTIAL):
            costs[name] /= BATCH  # one call transforms a whole batch

        # each in a fresh process (what glibc does depends on the process's allocation history), the
        # four alternated over LOOP_ROUNDS rounds so that a slow spell of the machine hits them all;
        # each cell is the median of its rounds
        rounds: dict[tuple[str, str], list[tuple[float, float]]] = {}
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1) as pool:
            for _ in range(LOOP_ROUNDS):
                for pipeline in LOOP_PIPELINES:
                    for setting, retain in LOOP_SETTINGS.items():
                        result = pool.submit(training_loop_cost, pipeline, folders, items, retain, args.repeats)
                        rounds.setdefault((pipeline, setting), []).append(result.result())
        loop = {key: (statistics.median(ms for ms, _ in values), statistics.median(f for _, f in values))
                for key, values in rounds.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = (f"CPU ms per 16-frame clip, one process, 1 torch thread, retained freed memory, 320x240 JPEG folders, median of "
             f"{args.repeats} passes over {args.clips} clips; command: `python experiments/profile_clip_cost.py "
             f"--clips {args.clips} --repeats {args.repeats}`; "
             + ", ".join(f"{name} {version}" for name, version in package_versions(LIBRARIES).items())
             + f"; libturbojpeg for the crop-region row: {turbojpeg_lib or 'not found (row left out)'}"
             + "\n\n| stage | CPU ms per clip |\n|---|---|\n")
    table += "".join(f"| {name} | {ms:.2f} |\n" for name, ms in costs.items())
    table += ("\nAs a training loop runs them (items stacked into batches of 8, then the batch transform), each "
              f"setting in a fresh process, median of {LOOP_ROUNDS} alternated rounds:\n\n| pipeline | allocator | CPU ms per clip | page faults per clip |\n"
              "|---|---|---|---|\n")
    table += "".join(f"| {pipeline} | {setting} | {ms:.2f} | {faults:.0f} |\n"
                     for (pipeline, setting), (ms, faults) in loop.items())
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "clip_cost.md").write_text(table)


if __name__ == "__main__":
    main()
