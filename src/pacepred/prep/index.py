"""Index a dataset: frame count, fps and size of every video of both stages, and a summary.

    python -m pacepred.prep.index data=ucf101 data.root=/datasets/ucf101
    python -m pacepred.prep.index data=kinetics400 data.root=/datasets/k400 \\
        +index.workers=16 +index.decode=false +index.cache_dir=/scratch/index

probes every video of both stages of ``data.source`` once, in ``workers`` processes, writes
the cache (:mod:`pacepred.data.video_index`) and prints a summary: videos per split and class,
the length distribution, and the unreadable files with their reasons; a root written by
``pacepred.prep.prepare`` (it has a ``pacepred_prepared.json`` manifest) is first described.
Options (``+index.<name>=...``): ``workers`` (default 4), ``decode`` (default true: decode every
frame, so ``num_frames`` counts decodable frames and broken streams are caught; false: count
packets only, much faster), ``cache_dir`` (default: the data root if writable, else
``~/.cache/pacepred/index``), ``short_span`` (default 61).
"""

from __future__ import annotations

import statistics
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from hydra.utils import instantiate
from omegaconf import DictConfig

from pacepred.data.records import STAGES, VideoRecord
from pacepred.data.video_index import VideoIndex, build_index
from pacepred.prep.manifest import describe_manifest, read_manifest

#: Frames spanned by a 16-frame clip at pace 4: (16 - 1) * 4 + 1.
SHORT_SPAN = 61


@dataclass
class SourceIndex:
    """The index of a source's videos with its records and class names per stage, and the
    source's data root."""

    records: dict[str, list[VideoRecord]]
    classes: list[str]
    index: VideoIndex
    root: Path


def index_source(source: Any, cache_dir: Path | str | None = None, workers: int = 4,
                 decode: bool = True) -> SourceIndex:
    """Index the videos of both stages of ``source`` (an object with ``records(stage)`` and
    ``root``), caching beside ``source.root`` (see :func:`cache_path_for`)."""
    records, classes = {}, []
    for stage in STAGES:
        records[stage], classes = source.records(stage)
    paths = [record.path for stage in STAGES for record in records[stage]]
    return SourceIndex(records, classes, build_index(paths, source.root, cache_dir, workers, decode), Path(source.root))


def format_summary(result: SourceIndex, short_span: int = SHORT_SPAN) -> str:
    """A plain-text report: what the root is when ``prepare`` made it (its manifest), videos
    per split and class, length distribution (min / median / max frames and how many are
    shorter than ``short_span`` frames), unreadable files."""
    index = result.index
    manifest = read_manifest(result.root)
    lines = describe_manifest(manifest) + [""] if manifest is not None else []
    lines += [f"video index {index.cache_path} ({len(index.probed)} probed now, the rest cached)", ""]
    counts = {stage: Counter(r.label for r in result.records[stage]) for stage in STAGES}
    width = max([len(name) for name in result.classes] + [5])
    lines.append(f"{'class':<{width}}  {'train':>6}  {'test':>6}")
    for label, name in enumerate(result.classes):
        lines.append(f"{name:<{width}}  {counts['train'][label]:>6}  {counts['test'][label]:>6}")
    lines.append(f"{'total':<{width}}  {len(result.records['train']):>6}  {len(result.records['test']):>6}")
    lines.append("")
    for stage in STAGES:
        lengths = [index.videos[r.path].num_frames for r in result.records[stage] if r.path in index.videos]
        if lengths:
            short = sum(n < short_span for n in lengths)
            lines.append(
                f"{stage}: {len(lengths)} readable videos, frames min {min(lengths)} / median "
                f"{statistics.median(lengths):g} / max {max(lengths)}; {short} shorter than {short_span} frames"
            )
        else:
            lines.append(f"{stage}: no readable videos")
    disagree = [(r.path, r.num_frames, index.videos[r.path].num_frames) for stage in STAGES
                for r in result.records[stage]
                if r.num_frames is not None and r.path in index.videos and index.videos[r.path].num_frames != r.num_frames]
    if disagree:
        lines.append(f"frame counts of the list files that disagree with the folders: {len(disagree)}")
        lines.extend(f"  {path}: listed {listed}, found {found}" for path, listed, found in sorted(disagree))
    lines.append("")
    lines.append(f"unreadable: {len(index.unreadable)}")
    lines.extend(f"  {path}: {reason}" for path, reason in sorted(index.unreadable.items()))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Index ``data.source`` of ``conf/train.yaml`` with the overrides ``argv`` (the command line);
    options under ``index`` (see the module docstring). The configuration is composed without a
    Hydra run: indexing writes no run folder (only the cache)."""
    from pacepred.config import compose_config

    overrides = list(sys.argv[1:] if argv is None else argv)
    cfg: DictConfig = compose_config("train", overrides, output_dir=".")
    options = dict(cfg.get("index") or {})
    short_span = options.pop("short_span", SHORT_SPAN)
    print(format_summary(index_source(instantiate(cfg.data.source), **options), short_span))


if __name__ == "__main__":
    main()
