"""Keep freed heap memory in the process, so that clip-sized buffers do not page-fault every time.

A training loop allocates and frees the same large buffers for every clip: decoded frames, the
resized frames, the crop, the collated batch and, on the CPU, the float batch of the batch
transform (about 19 MB for 8 clips of 16x112x112). With glibc's defaults, freed memory at the top
of the heap beyond a threshold is given back to the operating system and large blocks are
mmapped and unmapped, so the next clip touches fresh pages: about 1,900 page faults per clip in
a training loop of the frames pipeline with its batch transform on the CPU, which then costs 13.4
CPU ms per clip against 10.5 (``python experiments/profile_clip_cost.py``), and 88,000 per step
for the float buffers of a batch of 30 clips, which glibc always maps afresh (above 32 MB;
``tests/test_memory.py``). :func:`retain_freed_memory` sets glibc's trim and
mmap thresholds (``mallopt``) so that freed memory stays in the process for the next clip; the
process then keeps its peak heap size. Without glibc (macOS, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

#: glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: blocks larger than this are still mmapped (and returned on free): far above any clip buffer.
MMAP_THRESHOLD_BYTES = 1 << 30
#: freed memory at the top of the heap is returned only beyond this (the largest value mallopt takes).
TRIM_THRESHOLD_BYTES = 2**31 - 1


def retain_freed_memory() -> bool:
    """Set this process's glibc allocator to keep freed memory; True when applied (glibc found).

    Process-wide and inherited by forked children (DataLoader workers); spawned workers call it
    through :func:`retain_freed_memory_in_worker`.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    mallopt = getattr(ctypes.CDLL(name), "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))


def retain_freed_memory_in_worker(worker_id: int) -> None:
    """``worker_init_fn`` of a DataLoader: :func:`retain_freed_memory` in the worker process."""
    retain_freed_memory()
