"""Integration: the real command line on generated videos: resume after a kill, two-process
DDP on CPU, a multirun sweep, and a reduced default run that must learn pace."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.helpers.common import REPO, TINY_SYNTHETIC

pytestmark = pytest.mark.slow

SMALL = TINY_SYNTHETIC + ["data.batch_size=4", "data.num_workers=0", "trainer.log_every_n_steps=1"]


def cli(args: list[str], tmp: Path, **kwargs) -> subprocess.Popen:
    """Start ``python -m pacepred.train`` with data and logs under ``tmp``."""
    # the repository on the path, so that a run can load test helpers such as tests.helpers.seen_videos.SeenVideos
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": pythonpath}
    flags = [a for a in args if a.startswith("-")]  # e.g. -m must precede the overrides
    overrides = [a for a in args if not a.startswith("-")]
    command = [sys.executable, "-m", "pacepred.train", *flags,
               f"paths.data_dir={tmp / 'data'}", f"paths.log_dir={tmp / 'logs'}", *overrides]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def finish(process: subprocess.Popen, timeout: float = 600) -> str:
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-4000:]
    return output


def metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())["metrics"]


#: Small enough for several kills in a row: 48 train videos in 6 batches of 8 (two clips each),
#: 2 epochs, clips of 4 frames at 32x32, a loader worker, a checkpoint after every step.
RESUMABLE = TINY_SYNTHETIC + [
    "data.batch_size=8", "data.num_workers=1", "model=pace_ctr_context", "backbone=r3d_w16", "data.clip_len=4",
    "data.decode_size=[32,32]", "data.crop_size=32", "trainer.max_epochs=2", "trainer.deterministic=true", "seed=7",
    "trainer.log_every_n_steps=1", "callbacks.step_checkpoint.every_n_train_steps=1", "callbacks.progress=null",
    "+trainer.enable_model_summary=false",
]
STEPS_PER_EPOCH, EPOCHS = 6, 2


def start_logged(command: list[str], log: Path) -> subprocess.Popen:
    """Start ``command`` (``python -m pacepred.train ...``) in its own session, its output into ``log``."""
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": pythonpath}
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable if command[0] == "python" else command[0], *command[1:]], cwd=REPO,
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def printed_resume_command(log: Path) -> list[str]:
    """The resume command a run prints when it starts (a killed run prints nothing at the end)."""
    lines = log.read_text().splitlines()
    at = lines.index("pacepred: if this run stops, resume it from its last checkpoint with")
    return shlex.split(lines[at + 1])


def kill_after_step(process: subprocess.Popen, run_dir: Path, step: int, log: Path) -> None:
    """SIGKILL ``process`` (and its loader worker) as soon as its checkpoint of a step >= ``step`` exists."""
    deadline = time.time() + 300
    while not any(int(p.stem[4:]) >= step for p in (run_dir / "checkpoints").glob("step*.ckpt")):
        assert process.poll() is None, f"the run ended before step {step}:\n{log.read_text()[-3000:]}"
        assert time.time() < deadline, f"no checkpoint of step {step} after 300 s"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_a_run_killed_at_random_steps_resumes_to_the_metrics_of_an_uninterrupted_run(tmp_path):
    """SIGKILL three times in a row at random steps (inside epochs, in both epochs), each segment
    resumed with the command the run printed (ckpt_path=last: the newest step checkpoint), with a
    loader worker and the contrastive model: the final metrics equal an uninterrupted run's."""
    import random

    data = [f"paths.data_dir={tmp_path / 'data'}", f"paths.log_dir={tmp_path / 'logs'}"]
    full_dir, killed_dir = tmp_path / "full", tmp_path / "killed"
    train = ["python", "-m", "pacepred.train", *data, *RESUMABLE]
    full = start_logged(train + [f"hydra.run.dir={full_dir}"], tmp_path / "full.log")  # side by side
    kills = sorted(random.sample(range(1, STEPS_PER_EPOCH * EPOCHS - 1), 3))
    command = train + [f"hydra.run.dir={killed_dir}"]
    for segment, step in enumerate(kills):
        log = tmp_path / f"segment{segment}.log"
        kill_after_step(start_logged(command, log), killed_dir, step, log)
        assert not (killed_dir / "metrics.json").exists(), f"killed after the run ended (kills at steps {kills})"
        command = printed_resume_command(log)
        assert command[-2:] == [f"hydra.run.dir={killed_dir}", "ckpt_path=last"]
    last = start_logged(command, tmp_path / "last.log")
    for process, log in ((full, tmp_path / "full.log"), (last, tmp_path / "last.log")):
        assert process.wait(timeout=600) == 0, log.read_text()[-4000:]
    assert "Restoring states from the checkpoint" in (tmp_path / "last.log").read_text()
    expected, resumed = metrics(full_dir), metrics(killed_dir)
    assert set(resumed) == set(expected)
    for key, value in expected.items():
        assert resumed[key] == pytest.approx(value, rel=1e-6, abs=1e-7), f"{key} (kills after steps {kills})"
    # every killed segment's metric history and command are kept beside the last one's
    assert sorted(p.name for p in killed_dir.glob("run_info*.json")) == [
        "run_info.json", "run_info.segment1.json", "run_info.segment2.json", "run_info.segment3.json"]
    assert "ckpt_path=last" not in json.loads((killed_dir / "run_info.segment1.json").read_text())["command"]
    assert json.loads((killed_dir / "run_info.json").read_text())["resume_command"] == shlex.join(command)
    assert (killed_dir / "csv" / "metrics.segment3.csv").is_file()


def test_two_process_ddp_on_cpu_each_rank_reads_different_videos(tmp_path):
    """Also: no steady step waits (no barrier, no host read; tests/helpers/host_waits.py) on either rank."""
    run_dir, seen_dir, waits_dir = tmp_path / "ddp", tmp_path / "seen", tmp_path / "waits"
    # workers decode (as in training: the main process does no data work) and logging is rare
    steady = [a for a in SMALL if not a.startswith(("trainer.log_every_n_steps", "data.num_workers"))] + [
        "trainer.log_every_n_steps=1000", "data.num_workers=1"]
    output = finish(cli(steady + ["trainer=ddp_cpu", "model=pace_ctr_context", "trainer.max_epochs=1",
                                          "+callbacks.seen._target_=tests.helpers.seen_videos.SeenVideos", f"+callbacks.seen.dir={seen_dir}",
                                          "+callbacks.waits._target_=tests.helpers.host_waits.RecordSteadySteps",
                                          f"+callbacks.waits.dir={waits_dir}", f"hydra.run.dir={run_dir}"], tmp_path))
    assert "Initializing distributed: GLOBAL_RANK: 1, MEMBER: 2/2" in output
    result = json.loads((run_dir / "metrics.json").read_text())
    assert result["epochs"] == 1 and "train/contrastive_loss" in result["metrics"]
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    ranks = [set(json.loads((seen_dir / f"seen_rank{r}.json").read_text())) for r in (0, 1)]
    assert ranks[0] and ranks[1] and not ranks[0] & ranks[1], "each rank must read different videos"
    assert ranks[0] | ranks[1] == set(range(12 * 4)), "together the ranks cover the 48 train videos"
    for rank in (0, 1):  # steps 2-5 of 6 (4 videos each per rank)
        notes = json.loads((waits_dir / f"waits_rank{rank}.json").read_text())
        # Lightning's own: under DDP it broadcasts a SIGTERM flag and reads it before every step
        # (those before steps 3, 4 and 5 fall after step 2, 3 and 4 began)
        sigterm = [w for w in notes["waits"] if "loops/training_epoch_loop.py" in w[2]]
        assert [w[0] for w in sigterm if w[1] == "aten._local_scalar_dense.default"] == [2, 3, 4]
        assert notes["last_step"] == 5 and [w for w in notes["waits"] if w not in sigterm] == [], notes


def test_two_nodes_launched_by_torchrun_train_one_run_on_different_videos(tmp_path):
    """Multi-node as a simulation on one machine: two torchrun launches (--nnodes=2, one process
    each, node ranks 0 and 1, rendezvous on 127.0.0.1) of trainer=ddp_cpu with num_nodes=2 and one
    device: Lightning takes the ranks from torchrun's variables, the nodes train on different
    videos, and there is one run directory (rank 0 writes it)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run_dir, seen_dir = tmp_path / "run", tmp_path / "seen"
    overrides = [a for a in SMALL if not a.startswith("data.num_workers")] + [
        f"paths.data_dir={tmp_path / 'data'}", f"paths.log_dir={tmp_path / 'logs'}", "data.num_workers=1",
        "trainer=ddp_cpu", "trainer.num_nodes=2", "trainer.devices=1", "trainer.max_epochs=1",
        "+callbacks.seen._target_=tests.helpers.seen_videos.SeenVideos", f"+callbacks.seen.dir={seen_dir}", f"hydra.run.dir={run_dir}"]
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": pythonpath}
    nodes = [subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--nnodes=2", "--nproc-per-node=1",
                               f"--node-rank={rank}", "--master-addr=127.0.0.1", f"--master-port={port}",
                               "-m", "pacepred.train", *overrides],
                              cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for rank in (0, 1)]
    outputs = [finish(node) for node in nodes]
    assert "Initializing distributed: GLOBAL_RANK: 0, MEMBER: 1/2" in outputs[0]
    assert "Initializing distributed: GLOBAL_RANK: 1, MEMBER: 2/2" in outputs[1]
    result = json.loads((run_dir / "metrics.json").read_text())
    assert result["epochs"] == 1 and (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert (run_dir / "config.yaml").is_file() and not (tmp_path / "logs").exists()  # no second run directory
    ranks = [set(json.loads((seen_dir / f"seen_rank{r}.json").read_text())) for r in (0, 1)]
    assert ranks[0] and ranks[1] and not ranks[0] & ranks[1], "each node must read different videos"
    assert ranks[0] | ranks[1] == set(range(12 * 4)), "together the nodes cover the 48 train videos"


def test_two_process_ddp_validation_counts_every_video_once(tmp_path):
    """7 validation videos over 2 processes: the ranks validate 4 and 3 videos (no padded
    duplicate), the run does not hang on the uneven shards, and the accuracy is a count of 7."""
    run_dir, seen_dir = tmp_path / "ddp", tmp_path / "seen"
    finish(cli(SMALL + ["trainer=ddp_cpu", "data.source.class_set=kinds", "data.source.num_test_per_class=1",
                        "trainer.max_epochs=1", "+callbacks.seen._target_=tests.helpers.seen_videos.SeenVideos",
                        f"+callbacks.seen.dir={seen_dir}", f"hydra.run.dir={run_dir}"], tmp_path))
    validated = [json.loads((seen_dir / f"val_rank{r}.json").read_text()) for r in (0, 1)]
    assert sorted(map(len, validated)) == [3, 4] and sorted(validated[0] + validated[1]) == list(range(7))
    accuracy = metrics(run_dir)["val/pace_acc"]
    assert accuracy * 7 == pytest.approx(round(accuracy * 7), abs=1e-4), accuracy


def test_multirun_sweep_one_directory_per_job_and_its_summary(tmp_path):
    sweep_dir = tmp_path / "sweep"
    finish(cli(SMALL + ["-m", "pace=3,4", "debug=fast", f"hydra.sweep.dir={sweep_dir}"], tmp_path))
    jobs = sorted(p for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit())
    assert [p.name for p in jobs] == ["0", "1"]
    assert [len(json.loads((j / "metrics.json").read_text())["paces"]) for j in jobs] == [3, 4]

    def check_summary():
        table = (sweep_dir / "summary.md").read_text().splitlines()
        assert "| job | pace |" in table[2] and table[4].startswith("| 0 | 3 |") and table[5].startswith("| 1 | 4 |")
        assert (sweep_dir / "summary.png").stat().st_size > 1000

    check_summary()  # written when the sweep ended (pacepred.sweeps.SweepSummary)
    (sweep_dir / "summary.md").unlink()
    summary = subprocess.run([sys.executable, "-m", "pacepred.sweeps", str(sweep_dir)], capture_output=True, text=True)
    assert summary.returncode == 0, summary.stderr
    check_summary()  # and by the command, from the jobs' folders


def test_pace_sweep_experiment_through_the_submitit_local_launcher(tmp_path):
    sweep_dir = tmp_path / "submitit"
    finish(cli(SMALL + ["-m", "experiment=pace_sweep", "hydra/launcher=submitit_local", "debug=fast",
                        f"hydra.sweep.dir={sweep_dir}"], tmp_path))
    paces = [len(json.loads((sweep_dir / j / "metrics.json").read_text())["paces"]) for j in ("0", "1", "2")]
    assert paces == [3, 4, 5]


def test_paper_r21d_command_runs_in_debug_mode(tmp_path):
    """`python -m pacepred.train backbone=r21d pace=4` with the paper's R(2+1)D (14.4M), a few batches,
    with gradient accumulation and bf16 mixed precision on the CPU."""
    run_dir = tmp_path / "r21d"
    finish(cli(SMALL + ["backbone=r21d", "pace=4", "debug=fast", "trainer.accumulate_grad_batches=2",
                        "trainer.precision=bf16-mixed", f"hydra.run.dir={run_dir}"], tmp_path))
    config = (run_dir / "config.yaml").read_text()
    assert "pacepred.models.r21d.R2Plus1D" in config and "base_width: 64" in config
    assert json.loads((run_dir / "metrics.json").read_text())["paces"] == ["1", "2", "3", "4"]


def test_reduced_default_run_learns_pace(tmp_path):
    """The default recipe with 4 epochs instead of 10: validation pace accuracy clearly above chance
    (0.25 for 4 paces; one standard error on the 360 validation clips is about 0.026)."""
    run_dir = tmp_path / "default"
    finish(cli(["trainer.max_epochs=4", f"hydra.run.dir={run_dir}"], tmp_path))
    accuracy = metrics(run_dir)["val/pace_acc"]
    assert accuracy > 0.40, f"val/pace_acc {accuracy:.3f} is not clearly above chance (0.25)"
