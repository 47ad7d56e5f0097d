"""The manifest of a prepared dataset: ``<out>/pacepred_prepared.json``, written by
``python -m pacepred.prep.prepare`` and read by the video index to say what a data root is::

    {"mode": "transcode", "complete": true, "settings": {"short_side": 128, "gop": 16, ...},
     "source": {"root": "/datasets/ucf101", "data": "ucf101", "config": {...}},
     "read_with": "data=ucf101 data.root=/datasets/ucf101_h264_128",
     "counts": {"videos": 13320, "done": 13320, "failed": 0}, "failed": {},
     "date": "2025-01-31T12:00:00", "pacepred_version": "0.1.0"}

``complete`` is false while a run is under way or after one was killed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pacepred.prep.convert import atomic_output

MANIFEST_NAME = "pacepred_prepared.json"


def write_manifest(out: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest`` as ``out/pacepred_prepared.json`` (atomically); returns the path."""
    path = Path(out) / MANIFEST_NAME
    with atomic_output(path) as partial:
        partial.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return path


def read_manifest(root: Path | str) -> dict[str, Any] | None:
    """The manifest of data root ``root``, or None when it has none (or an unreadable one)."""
    try:
        return json.loads((Path(root) / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None


def describe_manifest(manifest: dict[str, Any]) -> list[str]:
    """Lines saying what a prepared dataset is: mode, source, settings, counts."""
    source = manifest.get("source", {})
    counts = manifest.get("counts", {})
    settings = " ".join(f"{key}={value}" for key, value in sorted(manifest.get("settings", {}).items()))
    state = "" if manifest.get("complete") else "  (INCOMPLETE: its preparation has not finished)"
    return [
        f"prepared dataset: {manifest.get('mode')} of {source.get('root')} (data={source.get('data')}) "
        f"on {manifest.get('date')} by pacepred {manifest.get('pacepred_version')}{state}",
        f"  settings: {settings}",
        f"  videos: {counts.get('done')} prepared, {counts.get('failed')} failed"
        + (f", {sum(source['missing_on_disk'].values())} listed but missing in the source" if source.get("missing_on_disk") else "")
        + f"; read it with: {manifest.get('read_with')}",
    ]
