"""The video index over real clips mixed with broken files: reasons, caching, invalidation,
the summary and the command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.helpers.common import REPO
from tests.helpers.layouts import broken_folder, frame_folders, frames_layout  # noqa: F401  (fixtures)
from pacepred.data.video_index import CACHE_NAME, VideoInfo, build_index, cache_path_for, load_index
from pacepred.prep.index import format_summary, index_source
from pacepred.data.sources import FolderSplit, FramesSplit

GOOD = {"clip1.avi": (164, 25.0, 320, 240), "clip2.mp4": (280, 28.0, 340, 256), "clip3.mkv": (310, 30.0, 426, 240)}
REASONS = {
    "corrupted.mp4": "decoding failed after 28 frames",
    "empty.mp4": "file is empty (0 bytes)",
    "text.mp4": "cannot open as a video",
    "missing.mp4": "file does not exist",
}


def all_paths(root):
    return sorted(p for p in root.glob("*/*")) + [root / "b_bad" / "missing.mp4"]


def test_index_reports_broken_files_and_caches(broken_folder):
    paths = all_paths(broken_folder)
    first = build_index(paths, broken_folder, workers=1)
    assert first.cache_path == broken_folder / CACHE_NAME and first.cache_path.is_file()
    assert {p.name: (i.num_frames, i.fps, i.width, i.height) for p, i in first.videos.items()} == GOOD
    assert set(first.unreadable) == {broken_folder / "b_bad" / name for name in REASONS}
    for path, reason in first.unreadable.items():
        assert reason.startswith(REASONS[path.name]), (path, reason)
    assert sorted(p.name for p in first.probed) == sorted(set(GOOD) | set(REASONS) - {"missing.mp4"})

    again = build_index(paths, broken_folder, workers=1)
    assert again.probed == [] and again.videos == first.videos and again.unreadable == first.unreadable

    touched = broken_folder / "a_good" / "clip2.mp4"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    (broken_folder / "b_bad" / "empty.mp4").write_bytes((broken_folder / "a_good" / "clip1.avi").read_bytes())
    third = build_index(paths, broken_folder, workers=1)
    assert sorted(p.name for p in third.probed) == ["clip2.mp4", "empty.mp4"]
    assert third.videos[broken_folder / "b_bad" / "empty.mp4"].num_frames == 164

    cache = json.loads(first.cache_path.read_text())
    assert cache["videos"]["b_bad/text.mp4"]["error"].startswith("cannot open as a video")
    assert cache["videos"]["a_good/clip1.avi"]["info"] == {"num_frames": 164, "fps": 25.0, "width": 320, "height": 240}


def test_packet_counts_then_decoding(broken_folder, tmp_path):
    """decode=False counts packets (the corrupted file claims 50 frames); asking for decoding
    later re-probes exactly the entries that were not decoded."""
    paths = all_paths(broken_folder)
    fast = build_index(paths, broken_folder, cache_dir=tmp_path / "cache", workers=1, decode=False)
    assert fast.cache_path.parent == tmp_path / "cache"
    assert fast.videos[broken_folder / "b_bad" / "corrupted.mp4"].num_frames == 50
    full = build_index(paths, broken_folder, cache_dir=tmp_path / "cache", workers=1, decode=True)
    assert len(full.probed) == len(fast.probed) and "corrupted.mp4" in {p.name for p in full.unreadable}
    assert build_index(paths, broken_folder, cache_dir=tmp_path / "cache", workers=1, decode=False).probed == []


def test_index_in_worker_processes(broken_folder):
    index = build_index(all_paths(broken_folder), broken_folder, workers=2)
    assert len(index.probed) == 6 and len(index.videos) == 3 and len(index.unreadable) == 4
    assert load_index(all_paths(broken_folder), broken_folder, workers=2) == index.videos


def test_cache_file_is_readable_by_others_as_the_umask_allows(broken_folder, tmp_path):
    """A shared data root: the cache gets 0666 less the umask, not mkstemp's private 0600."""
    previous = os.umask(0o022)
    try:
        index = build_index(all_paths(broken_folder)[:1], broken_folder, cache_dir=tmp_path / "cache", workers=1)
    finally:
        os.umask(previous)
    assert index.cache_path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in index.cache_path.parent.iterdir()] == [index.cache_path.name]  # no temporary left


def test_cache_location(tmp_path):
    assert cache_path_for(tmp_path) == tmp_path.resolve() / CACHE_NAME
    elsewhere = cache_path_for(tmp_path / "read_only_or_absent", cache_dir=tmp_path / "cache")
    assert elsewhere.parent == tmp_path / "cache" and elsewhere.name.startswith("read_only_or_absent-")


def test_frame_folders_are_indexed(frames_layout):
    result = index_source(FramesSplit(frames_layout, frames_dir="frames"), workers=1)
    assert set(result.index.videos.values()) == {VideoInfo(64, None, 320, 240), VideoInfo(64, None, 340, 256),
                                                 VideoInfo(64, None, 426, 240)}
    assert index_source(FramesSplit(frames_layout, frames_dir="frames"), workers=1).index.probed == []


def test_summary_lists_splits_lengths_and_unreadable(broken_folder):
    summary = format_summary(index_source(FolderSplit(broken_folder, test_every=2), workers=1))
    assert "a_good" in summary and "b_bad" in summary
    assert "train: 2 readable videos, frames min 164 / median 237 / max 310; 0 shorter than 61 frames" in summary
    assert "unreadable: 3" in summary and "empty.mp4: file is empty (0 bytes)" in summary


def test_index_command(broken_folder, tmp_path):
    """It prints the summary, writes the cache and leaves no run folder (logs/train/runs/...) behind."""
    import os

    command = [sys.executable, "-m", "pacepred.prep.index", "data=folder", f"data.root={broken_folder}",
               "data.source.test_every=2", "+index.workers=1", f"+index.cache_dir={tmp_path / 'cache'}"]
    work = tmp_path / "work"
    work.mkdir()
    pythonpath = os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": pythonpath})
    assert done.returncode == 0, done.stderr
    assert "unreadable: 3" in done.stdout and "corrupted.mp4: decoding failed after 28 frames" in done.stdout
    assert list((tmp_path / "cache").glob("broken_root-*.json"))
    assert list(work.iterdir()) == []  # no logs/train/runs/<date>/ folder
