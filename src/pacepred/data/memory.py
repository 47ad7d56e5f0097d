"""Keep freed heap memory in the process, so that clip-sized buffers do not page-fault every time.

A training loop allocates and frees the same large buffers for every clip: decoded frames, the
resized frames, the crop, the collated batch and, on the CPU, the float batch of the batch
transform (about 19 MB for 8 clips of 16x112x112). With glibc's defaults, freed memory at the top
of the heap beyond a threshold is given back to the operating system and large blocks are
mmapped and unmapped, so the next clip touches fresh pages: about 2,000 page faults per clip in
a training loop of the frames pipeline with its batch transform on the CPU, a fifth of its CPU
time (``python experiments/profile_clip_cost.py``), and 88,000 per step
for the float buffers of a batch of 30 clips, which glibc always maps afresh (above 32 MB;
``tests/component/test_memory.py``). :func:`retain_freed_memory` sets glibc's trim and
mmap thresholds (``mallopt``) so that freed memory stays in the process for the next clip; the
process then keeps its peak heap size. Without glibc (macOS, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import sys

log = logging.getLogger(__name__)

#: glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: blocks larger than this are still mmapped (and returned on free): far above any clip buffer.
MMAP_THRESHOLD_BYTES = 1 << 30
#: what glibc before 2.26 accepts at most (half its 64 MiB heap size); still above a CPU batch's
#: float buffers of 8 clips (19 MB), not above those of 30 clips (72 MB).
MMAP_THRESHOLD_FALLBACK_BYTES = 32 << 20
#: freed memory at the top of the heap is returned only beyond this (the largest value mallopt takes).
TRIM_THRESHOLD_BYTES = 2**31 - 1


@functools.cache
def _mallopt():
    """glibc's ``mallopt`` from the symbols already loaded into this process, or None."""
    if not sys.platform.startswith("linux"):
        return None
    return getattr(ctypes.CDLL(None), "mallopt", None)  # absent with musl


def retain_freed_memory() -> bool:
    """Set this process's glibc allocator to keep freed memory; True when applied.

    Process-wide, for the rest of the process (``data.retain_freed_memory=false`` does not undo a
    setting an earlier run in the same process applied), and inherited by forked children
    (DataLoader workers); spawned or forkserver workers call it through
    :func:`retain_freed_memory_in_worker`. Without glibc it does nothing and returns False; a
    glibc that refuses a part of it is logged once.
    """
    mallopt = _mallopt()
    if mallopt is None:
        return False
    mmap_set = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) or bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_FALLBACK_BYTES))
    trim_set = bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    if not (mmap_set and trim_set):
        _warn_once(f"glibc refused mallopt: mmap threshold {'set' if mmap_set else 'refused'}, "
                   f"trim threshold {'set' if trim_set else 'refused'}; freed memory may still be given back")
    return mmap_set and trim_set


@functools.cache
def _warn_once(message: str) -> None:
    log.warning("data.retain_freed_memory: %s", message)


def retain_freed_memory_in_worker(worker_id: int) -> None:
    """``worker_init_fn`` of a DataLoader: :func:`retain_freed_memory` in the worker process."""
    retain_freed_memory()


def loader_worker_init(retain: bool, num_workers: int):
    """The ``worker_init_fn`` of a loader with ``num_workers`` workers: None unless ``retain``."""
    return retain_freed_memory_in_worker if retain and num_workers > 0 else None
