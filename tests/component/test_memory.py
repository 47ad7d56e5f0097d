"""data.retain_freed_memory: clip-sized buffers stop page-faulting once the heap has grown."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from pacepred.data.clip_reader import ClipReader
from pacepred.data.datamodules import ClipRequest
from pacepred.data.memory import retain_freed_memory_in_worker
from pacepred.data.records import VideoRecord
from pacepred.data.transforms import ClipBatchTransform
from pacepred.data.classify_datamodule import ClassifyDataModule
from pacepred.evaluation.features import FeatureExtractor
from pacepred.train import datamodule_options

# A batch transform's pattern on the paper's batch of 30 clips: float buffers of 30 x 16x3x112x112
# (72 MB each, above the 32 MB up to which glibc's defaults may keep freed blocks), made and freed
# every step. Prints the page faults of each of 16 steps.
STEPS = """
import resource, sys, torch
from pacepred.data.memory import retain_freed_memory
torch.set_num_threads(1)
if sys.argv[1] == "retain" and not retain_freed_memory():
    print("not glibc"); sys.exit()
clips = torch.randint(0, 255, (30, 16, 3, 112, 112), dtype=torch.uint8)
faults = []
for _ in range(16):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    y = clips.float() / 255
    z = (y * 0.5 + 0.1).clamp_(0, 1)
    (z - 0.4).sum()
    del y, z
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(" ".join(map(str, faults)))
"""


def step_faults(setting: str) -> list[int] | None:
    out = subprocess.run([sys.executable, "-c", STEPS, setting], capture_output=True, text=True, check=True).stdout
    return None if "not glibc" in out else [int(n) for n in out.split()]


def test_retained_memory_stops_the_page_faults_of_repeated_clip_buffers():
    retained = step_faults("retain")
    if retained is None:
        pytest.skip("not glibc: retain_freed_memory does nothing")
    pages_per_buffer = 30 * 16 * 3 * 112 * 112 * 4 // 4096
    # glibc's defaults map such blocks afresh and fault them in again at every step
    assert sum(step_faults("defaults")[-8:]) > 8 * pages_per_buffer
    # retained: the heap grows in the first steps, then the buffers are reused (a late growth of the
    # heap may still fault one buffer in)
    assert sum(retained[-8:]) < 2 * pages_per_buffer


def test_retain_freed_memory_is_on_by_default_in_the_loader_workers(make_cfg):
    cfg = make_cfg(["data=synthetic", "data.num_workers=2"])
    assert cfg.data.retain_freed_memory is True
    datamodule = instantiate(datamodule_options(cfg.data), request=ClipRequest([1, 2]))
    assert datamodule.loader_options(on_gpu=False)["worker_init_fn"] is retain_freed_memory_in_worker
    off = instantiate(datamodule_options(make_cfg(["data=synthetic", "data.num_workers=2",
                                                   "data.retain_freed_memory=false"]).data), request=ClipRequest([1, 2]))
    assert off.loader_options(on_gpu=False)["worker_init_fn"] is None


def test_the_evaluation_loaders_retain_freed_memory_in_their_workers():
    records = [VideoRecord(Path("video.mp4"), 0)]  # nothing is read until a loader is iterated
    transform = ClipBatchTransform("residual")
    for retain, expected in ((True, retain_freed_memory_in_worker), (False, None)):
        reader = ClipReader((64, 64), 56, retain_freed_memory=retain)
        finetune = ClassifyDataModule(records, records, reader, transform, 17, 3, False, (4, 4), num_workers=2)
        assert finetune.train_dataloader().worker_init_fn is expected
        assert finetune.test_dataloader().worker_init_fn is expected
        features = FeatureExtractor(torch.nn.Identity(), "key", transform, reader, 3, 17, 4, 2, None, torch.device("cpu"))
        assert features.worker_init is expected
    in_process = ClassifyDataModule(records, records, ClipReader((64, 64), 56), transform, 17, 3, False, (4, 4),
                                    num_workers=0)
    assert in_process.train_dataloader().worker_init_fn is None
