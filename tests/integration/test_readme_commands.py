"""The README's commands run, so that a renamed option breaks the build rather than a reader.

Every ```bash block of README.md carries a marker comment on the line above it, and each mode is
tested as follows:

- ``<!-- commands: run -->``: every command runs as a subprocess in a temporary folder, shortened
  with Lightning's limit flags (``debug=fast``: one epoch of two batches; evaluations with 2 clips
  per video, loading in the main process, and one fine-tuning epoch of two batches on the CPU), and
  must exit with status 0. The quick start runs on a tiny generated dataset and must print the
  README's output line. UCF101's archives
  are not here: the unpacking lines (``unrar``, ``unzip``) are replaced by the real clips of
  ``tests/data/videos`` arranged in UCF101's layout (``make_ucf101``, with its split-1 lists copied
  as splits 2 and 3) at the folder they unpack to; ``/datasets`` is a folder of the test, frames
  are read at 64x80 with 56-pixel crops, and ``workers=`` is 2. A block without a training command
  of its own (the evaluations) reads the checkpoints of the first run block (the quick start).
- ``<!-- commands: compose -->``: the configuration of every ``pacepred.train``/``pacepred.eval``
  command is composed (each point of a ``-m`` sweep), which fails on any unknown group, choice or
  key; nothing is trained. A ``make`` target must exist (``make -n``).
- ``<!-- commands: skip ... -->``: not run (the reason is in the marker: installing packages).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser

from pacepred.config import compose_config
from tests.helpers.common import REAL_VIDEOS, REPO, TINY_SYNTHETIC, make_ucf101

pytestmark = pytest.mark.slow

README = REPO / "README.md"
BLOCK = re.compile(r"<!-- commands: (?P<mode>run|compose|skip)[^>]*-->\n```bash\n(?P<body>.*?)```", re.DOTALL)
SMALL_FRAMES = ["data.decode_size=[64,80]", "data.crop_size=56"]
UNPACKERS = ("unrar", "unzip")
CPU_TRAINER = ["trainer.accelerator=cpu", "trainer.devices=1", "trainer.precision=32-true"]  # the presets' is a GPU


def readme_blocks() -> list[tuple[str, list[str]]]:
    """(mode, commands) of every marked block, continuation lines joined, comments dropped."""
    blocks = []
    for match in BLOCK.finditer(README.read_text()):
        body = match["body"].replace("\\\n", " ")
        lines = [re.sub(r"\s+#\s.*$", "", line).strip() for line in body.splitlines()]
        blocks.append((match["mode"], [line for line in lines if line and not line.startswith("#")]))
    return blocks


def test_every_bash_block_is_marked():
    assert len(readme_blocks()) == README.read_text().count("```bash"), \
        "every ```bash block of README.md needs a <!-- commands: run|compose|skip --> line above it"


def entry_point(argv: list[str]) -> str | None:
    """``pacepred.train`` and the like for ``python -m pacepred.X ...``, else None."""
    return argv[2] if argv[:2] == ["python", "-m"] and argv[2].startswith("pacepred.") else None


def shortened(argv: list[str]) -> list[str]:
    """The command with the limits of the module docstring appended."""
    module, args = entry_point(argv), argv[3:]
    synthetic = not any(a.startswith(("data=", "experiment=", "protocol=", "data.root=")) for a in args)
    data = TINY_SYNTHETIC if synthetic else SMALL_FRAMES
    if module == "pacepred.train":
        return argv + ["debug=fast", *data]
    if module == "pacepred.eval":
        finetune = any(a in ("task=finetune",) or a.startswith("protocol=paper_finetune") for a in args)
        limits = ["task.max_epochs=1", "trainer.limit_train_batches=2", *CPU_TRAINER] if finetune else []
        return argv + ["task.num_clips=2", "data.num_workers=0", *limits, *data]
    return [a if not a.startswith("workers=") else "workers=2" for a in argv]


def unpack_fixture(argv: list[str], datasets: Path) -> None:
    """In place of an archive: the real clips in UCF101's layout where the README unpacks it."""
    target = Path(argv[-1].replace("/datasets", str(datasets)))
    assert "ucf101" in target.name, f"only UCF101's archives have a stand-in: {shlex.join(argv)}"
    if not (target / "UCF-101").is_dir():
        make_ucf101(target, REAL_VIDEOS)
        lists = target / "ucfTrainTestlist"
        for split in (2, 3):
            for kind in ("train", "test"):
                shutil.copy(lists / f"{kind}list01.txt", lists / f"{kind}list0{split}.txt")


def test_run_blocks(tmp_path):
    datasets = tmp_path / "datasets"
    blocks = [commands for mode, commands in readme_blocks() if mode == "run"]
    assert blocks, "README.md has no runnable block"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")]),
           "PACEPRED_DATA_DIR": str(tmp_path / "data")}
    first_logs = None
    for index, commands in enumerate(blocks):
        trains = any(entry_point(shlex.split(c)) == "pacepred.train" for c in commands)
        logs = tmp_path / f"logs{index}" if trains or first_logs is None else first_logs
        first_logs = first_logs or logs
        for command in commands:
            argv = shlex.split(command.replace("/datasets", str(datasets)))
            if argv[0] in UNPACKERS:
                unpack_fixture(shlex.split(command), datasets)
                continue
            assert entry_point(argv), f"README command of a run block that this test cannot run: {command}"
            argv = [sys.executable, *shortened(argv)[1:]]
            done = subprocess.run(argv, cwd=tmp_path, env={**env, "PACEPRED_LOG_DIR": str(logs)},
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            if index == 0 and command == "python -m pacepred.train":
                shown = re.search(r"```\n(final val/pace_acc = )<accuracy>( \(chance .*?\))\n", README.read_text())
                assert shown, "the quick start's output line is missing from README.md"
                assert re.search(re.escape(shown[1]) + r"\d\.\d{3}" + re.escape(shown[2]), done.stdout), done.stdout[-2000:]


def sweep_points(overrides: list[str]) -> list[list[str]]:
    """Every point of a Hydra sweep (``pace=3,4,5``), as ``-m`` would run them."""
    parsed = OverridesParser.create().parse_overrides(overrides)
    return [point for batch in BasicSweeper.split_arguments(parsed, None) for point in batch]


def test_compose_blocks(tmp_path):
    commands = [c for mode, block in readme_blocks() if mode == "compose" for c in block]
    assert commands, "README.md has no compose block"
    for command in commands:
        argv = shlex.split(command)
        if argv[0] == "make":
            done = subprocess.run(["make", "-n", *argv[1:]], cwd=REPO, capture_output=True, text=True)
            assert done.returncode == 0, f"{command}: {done.stderr}"
            continue
        module = entry_point(argv)
        assert module in ("pacepred.train", "pacepred.eval"), f"compose block command not understood: {command}"
        overrides = [a for a in argv[3:] if a not in ("-m", "--multirun")]
        for point in sweep_points(overrides):
            cfg = compose_config(module.split(".")[1], point, tmp_path / "run", tmp_path / "data")
            assert cfg.task_name, command
