"""Tests of the synthetic motion benchmark (pacepred.data.synthetic)."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from pacepred.data import synthetic as syn
from pacepred.data.synthetic import motion
from pacepred.data.synthetic import CLASSES, SyntheticConfig, ensure, generate, render_video

TINY = SyntheticConfig(num_train_per_class=2, num_test_per_class=1, num_frames=24, size=32, seed=3)
NAME_RE = re.compile(r"^v_(?P<cls>[A-Za-z]+)_g(?P<g>\d{2,})_c(?P<c>\d{2,})\.mp4$")


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng(list(key))


def _track(video: np.ndarray, thresh: float = 30.0) -> np.ndarray:
    """Object centre per frame (T, 2) as (x, y), unwrapped on the torus.

    Foreground = pixels far from the temporal median (the static scene); the centre is the
    circular mean of the foreground along each axis, so wrap-around does not break it.
    """
    v = video.astype(np.float32)
    size = v.shape[1]
    fg = (np.abs(v - np.median(v, axis=0)).max(-1) > thresh).astype(np.float64)
    phase = np.exp(2j * np.pi * (np.arange(size) + 0.5) / size)
    coords = []
    for axis in (1, 2):  # sum over rows -> profile along x; over columns -> along y
        z = (fg.sum(axis=axis) * phase).sum(1)
        coords.append(np.unwrap(np.angle(z)) * size / (2 * np.pi))
    return np.stack(coords, 1)


def _foreground_fraction(video: np.ndarray, thresh: float = 30.0) -> float:
    v = video.astype(np.float32)
    return float((np.abs(v - np.median(v, axis=0)).max(-1) > thresh).mean())


def _lag_energy(video: np.ndarray, lag: int) -> float:
    v = video.astype(np.float32)
    return float(np.abs(v[lag:] - v[:-lag]).mean())


def _mtimes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


# ------------------------------------------------------------------------------ render_video


def test_class_names():
    assert 10 <= len(CLASSES) <= 12
    assert len(set(CLASSES)) == len(CLASSES)
    for name in CLASSES:
        assert re.fullmatch(r"[A-Z][A-Za-z]+", name), name


def test_render_deterministic_shape_dtype():
    a = render_video("OrbitClockwise", _rng(1, 2), 20, 48)
    b = render_video("OrbitClockwise", _rng(1, 2), 20, 48)
    c = render_video("OrbitClockwise", _rng(1, 3), 20, 48)
    assert a.shape == (20, 48, 48, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 5
    with pytest.raises(ValueError):
        render_video("Jump", _rng(0), 8, 32)


@pytest.mark.parametrize("class_set", ["directions", "kinds"])
def test_same_generator_state_differs_only_in_motion(class_set):
    """Appearance draws precede motion draws (a kind's direction included): frame 0 is identical
    across classes."""
    classes = SyntheticConfig(class_set=class_set).classes
    for seed in range(6):
        frames0 = [render_video(c, _rng(11, seed), 4, 32, class_set=class_set)[0] for c in classes]
        for f in frames0[1:]:
            np.testing.assert_array_equal(f, frames0[0])


@pytest.mark.parametrize(
    "cls, direction",
    [("MoveRight", (1, 0)), ("MoveLeft", (-1, 0)), ("MoveUp", (0, -1)), ("MoveDown", (0, 1))],
)
def test_translation_direction_and_speed(cls, direction):
    for seed in range(4):
        track = _track(render_video(cls, _rng(7, seed), 64, 64))
        t = np.arange(len(track))
        vx, vy = np.polyfit(t, track[:, 0], 1)[0], np.polyfit(t, track[:, 1], 1)[0]
        along = vx * direction[0] + vy * direction[1]
        across = vx * direction[1] - vy * direction[0]
        assert 0.6 < along < 1.0, (seed, vx, vy)  # 0.8 px/frame +-10 % at size 64
        assert abs(across) < 0.1, (seed, vx, vy)


@pytest.mark.parametrize("cls, sign", [("OrbitClockwise", 1), ("OrbitCounterClockwise", -1)])
def test_orbit_direction_in_pixels(cls, sign):
    for seed in range(4):
        track = _track(render_video(cls, _rng(8, seed), 64, 64))
        x, y = (track - track.mean(0)).T
        # shoelace area of the (closed) track; with the y axis down, clockwise on screen is > 0
        area = 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
        assert sign * area > 50, (seed, area)


def test_static_has_no_object_motion_and_movers_do():
    for seed in range(4):
        static = render_video("Static", _rng(9, seed), 48, 64)
        assert _foreground_fraction(static) < 0.05
        for cls in ("MoveRight", "OrbitClockwise", "ZigZag", "Oscillate"):
            moving = render_video(cls, _rng(9, seed), 48, 64)
            assert _foreground_fraction(moving) > _foreground_fraction(static) + 0.02, (cls, seed)


def test_frame_difference_energy_of_static_does_not_grow_with_gap():
    """Jitter and noise are i.i.d. per frame: for Static the lag-k difference energy is flat
    (no pace shortcut), while real motion makes it grow."""
    static = [render_video("Static", _rng(10, seed), 64, 64) for seed in range(8)]
    ratio = sum(_lag_energy(v, 4) for v in static) / sum(_lag_energy(v, 1) for v in static)
    assert abs(ratio - 1) < 0.06, ratio
    moving = [render_video("MoveLeft", _rng(10, seed), 64, 64) for seed in range(8)]
    ratio = sum(_lag_energy(v, 4) for v in moving) / sum(_lag_energy(v, 1) for v in moving)
    assert ratio > 1.2, ratio


@pytest.mark.parametrize("factor", [1.0, 0.5])
def test_trajectory_speeds_equal_across_classes_and_no_aliasing_at_pace_4(factor):
    size, frames = 64, 200
    translation_like = ["MoveRight", "MoveLeft", "MoveUp", "MoveDown", "OrbitClockwise",
                        "OrbitCounterClockwise", "ZigZag"]  # fmt: skip
    lo, hi = 0.8 * 0.9 * factor - 1e-6, 0.8 * 1.1 * factor + 1e-6
    for seed in range(20):
        for cls in CLASSES:
            tr = motion._trajectory(cls, _rng(12, seed), frames, size, factor)
            assert lo <= tr["speed"] <= hi
            dx = np.diff(tr["x"])
            dy = np.diff(tr["y"])
            dx = (dx + size / 2) % size - size / 2
            dy = (dy + size / 2) % size - size / 2
            step = np.hypot(dx, dy)
            if cls in translation_like:  # constant speed (ZigZag: except at the turning points)
                assert math.isclose(np.median(step), tr["speed"], rel_tol=0.01), cls
                assert step.max() <= tr["speed"] * 1.001, cls
            elif cls == "Oscillate":
                assert math.isclose(np.sqrt(np.mean(step**2)), tr["speed"], rel_tol=0.1)
                assert step.max() * 4 < 0.5 * np.ptp(np.hypot(tr["x"] - tr["x"][0], tr["y"] - tr["y"][0]))
            elif cls in ("Expand", "Contract"):
                assert np.allclose(np.abs(np.diff(tr["radial"])), tr["speed"])
                assert np.sign(np.diff(tr["radial"])[0]) == (1 if cls == "Expand" else -1)
                # radial texture period >= 9 px: 4 steps stay below half a period
                assert 4 * tr["speed"] < 9.0 / 2
            elif cls == "Spin":
                omega = abs(np.diff(tr["theta"])[0])
                assert math.isclose(omega * motion._spin_reference_radius(size), tr["speed"], rel_tol=1e-6)
                assert 4 * omega < math.pi / 5  # at most 5 sectors: below half an angular period
            else:
                assert step.max() == 0 and np.all(tr["radial"] == 0)
            if cls.startswith("Orbit"):
                # orbit radius >= 0.18 * size: the angle per frame at pace 4 is below a quarter turn
                assert 4 * tr["speed"] / (0.18 * size) < math.pi / 4


def test_first_frame_appearance_does_not_identify_the_class():
    """Nearest-class-mean on frame-0 colour statistics stays near chance (1/12)."""
    per_class = 12
    feats, labels = [], []
    for ci, cls in enumerate(CLASSES):
        for i in range(per_class):
            f0 = render_video(cls, _rng(13, ci, i), 2, 32)[0].reshape(-1, 3).astype(np.float64)
            feats.append(np.concatenate([f0.mean(0), f0.std(0)]))
            labels.append(ci)
    x, y = np.array(feats), np.array(labels)
    x = (x - x.mean(0)) / x.std(0)
    correct = 0
    for i in range(len(x)):  # leave-one-out
        keep = np.arange(len(x)) != i
        means = np.stack([x[keep & (y == c)].mean(0) for c in range(len(CLASSES))])
        correct += int(np.argmin(((means - x[i]) ** 2).sum(1)) == y[i])
    assert correct / len(x) < 0.2  # chance 0.083; a class-dependent appearance would be far above


# ------------------------------------------------------------------------------ generate


def _read_lists(root: Path):
    lists = root / "ucfTrainTestlist"
    class_ind = [line.split() for line in (lists / "classInd.txt").read_text().splitlines()]
    train = [line.split() for line in (lists / "trainlist01.txt").read_text().splitlines()]
    test = [line.split() for line in (lists / "testlist01.txt").read_text().splitlines()]
    return class_ind, train, test


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "tiny"
    assert generate(root, TINY, workers=2) == root
    return root


def test_generate_layout_and_split_files(tiny):
    class_ind, train, test = _read_lists(tiny)
    assert [int(i) for i, _ in class_ind] == list(range(1, len(CLASSES) + 1))
    assert [name for _, name in class_ind] == list(CLASSES)
    assert len(train) == 2 * len(CLASSES) and len(test) == len(CLASSES)
    train_groups, test_groups = set(), set()
    for entry in train:
        assert len(entry) == 2
        rel, label = entry
        cls, fname = rel.split("/")
        assert CLASSES[int(label) - 1] == cls  # 1-based labels
        m = NAME_RE.match(fname)
        assert m and m["cls"] == cls
        train_groups.add((cls, int(m["g"])))
    for entry in test:
        assert len(entry) == 1  # no label, as UCF101
        cls, fname = entry[0].split("/")
        m = NAME_RE.match(fname)
        assert m and m["cls"] == cls and cls in CLASSES
        test_groups.add((cls, int(m["g"])))
    assert not {g for _, g in train_groups} & {g for _, g in test_groups}
    files = sorted(p.relative_to(tiny / "UCF-101").as_posix() for p in (tiny / "UCF-101").rglob("*.mp4"))
    assert files == sorted([e[0] for e in train] + [e[0] for e in test])
    meta = json.loads((tiny / "synthetic.json").read_text())
    assert meta["complete"] is True and list(meta)[-1] == "complete"
    assert meta["config"] == dataclasses.asdict(TINY) and meta["classes"] == list(CLASSES)


def test_every_file_decodes_with_decord(tiny):
    decord = pytest.importorskip("decord")
    for path in sorted((tiny / "UCF-101").rglob("*.mp4")):
        reader = decord.VideoReader(str(path))
        assert len(reader) == TINY.num_frames, path
        frames = reader.get_batch(list(range(len(reader)))).asnumpy()
        assert frames.shape == (TINY.num_frames, TINY.size, TINY.size, 3)
        assert abs(reader.get_avg_fps() - TINY.fps) < 1e-6


def test_decoded_matches_rendered_and_codec_adds_no_pace_cue(tiny):
    decord = pytest.importorskip("decord")
    ci = CLASSES.index("Static")
    decoded = []
    for index, (group, clip) in enumerate([(1, 1), (1, 2)]):
        path = tiny / "UCF-101" / "Static" / syn.video_name("Static", group, clip)
        video = decord.VideoReader(str(path)).get_batch(list(range(TINY.num_frames))).asnumpy()
        rendered = render_video("Static", syn.video_rng(TINY.seed, "train", ci, index), TINY.num_frames, TINY.size)
        assert np.abs(video.astype(np.float32) - rendered).mean() < 10  # lossy, but the same video
        decoded.append(video)
    # intra-only coding: no codec state shared between frames, so no lag-dependent similarity
    ratio = sum(_lag_energy(v, 4) for v in decoded) / sum(_lag_energy(v, 1) for v in decoded)
    assert abs(ratio - 1) < 0.08, ratio


def test_generate_is_cached(tiny, capsys):
    before = _mtimes(tiny)
    assert generate(tiny, TINY, workers=2) == tiny
    assert ensure(tiny, TINY) == tiny
    assert "reusing" in capsys.readouterr().out
    assert _mtimes(tiny) == before


def test_a_folder_from_before_a_setting_was_added_is_still_reused(tiny, tmp_path, capsys):
    """A marker without a setting added since (colour_levels, whose default renders as before)
    reads as that setting's default: the videos are not generated again."""
    import shutil

    old = tmp_path / "old"
    shutil.copytree(tiny, old)
    marker = json.loads((old / "synthetic.json").read_text())
    del marker["config"]["colour_levels"]
    (old / "synthetic.json").write_text(json.dumps(marker))
    before = _mtimes(old)
    assert ensure(old, TINY) == old and "reusing" in capsys.readouterr().out
    assert _mtimes(old) == before


def test_generation_independent_of_worker_count(tiny, tmp_path):
    root = generate(tmp_path / "one_worker", TINY, workers=1)
    for rel in ("MoveUp/v_MoveUp_g01_c02.mp4", "Spin/v_Spin_g02_c01.mp4"):
        assert (root / "UCF-101" / rel).read_bytes() == (tiny / "UCF-101" / rel).read_bytes()


def test_regenerates_on_new_seed_and_incomplete_marker(tmp_path):
    root = tmp_path / "data"
    generate(root, TINY, workers=2)
    probe = root / "UCF-101" / "Expand" / syn.video_name("Expand", 1, 1)
    first = probe.read_bytes()

    other = SyntheticConfig(**{**dataclasses.asdict(TINY), "seed": TINY.seed + 1})
    generate(root, other, workers=2)
    assert json.loads((root / "synthetic.json").read_text())["config"]["seed"] == TINY.seed + 1
    assert probe.read_bytes() != first

    marker = root / "synthetic.json"
    meta = json.loads(marker.read_text())
    meta["complete"] = False
    marker.write_text(json.dumps(meta))
    old_mtime = probe.stat().st_mtime_ns
    generate(root, other, workers=2)
    assert json.loads(marker.read_text())["complete"] is True
    assert probe.stat().st_mtime_ns != old_mtime  # rewritten
    assert not list(tmp_path.glob(".data.tmp-*"))  # no temporary folders left behind


def test_refuses_to_replace_a_foreign_folder(tmp_path):
    root = tmp_path / "mine"
    root.mkdir()
    (root / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        generate(root, TINY, workers=1)
    assert (root / "notes.txt").read_text() == "keep me"


def test_ensure_accepts_a_mapping_and_cli_prints_summary(tmp_path, capsys):
    root = tmp_path / "cli"
    assert syn.main(["--root", str(root), "--train-per-class", "1", "--test-per-class", "1",
                     "--size", "32", "--frames", "16", "--workers", "1"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert f"{len(CLASSES)} train + {len(CLASSES)} test videos" in out and "MiB" in out
    cfg = {"num_train_per_class": 1, "num_test_per_class": 1, "num_frames": 16, "size": 32}
    before = _mtimes(root)
    ensure(root, cfg, workers=1)
    assert "reusing" in capsys.readouterr().out
    assert _mtimes(root) == before


def test_config_validation():
    with pytest.raises(ValueError):
        SyntheticConfig(size=33)
    with pytest.raises(ValueError):
        SyntheticConfig(num_frames=1)
    with pytest.raises(TypeError):
        SyntheticConfig.from_any({"sizes": 64})


def test_speed_ladder_gives_each_direction_pair_two_speeds():
    config = syn.SyntheticConfig(class_speeds="ladder")
    assert {c: config.speed_factor(c) for c in CLASSES} == syn.SPEED_LADDER
    assert syn.SyntheticConfig().speed_factor("MoveLeft") == 1.0  # uniform: every class alike
    for a, b in [("MoveRight", "MoveLeft"), ("MoveUp", "MoveDown"), ("OrbitClockwise", "OrbitCounterClockwise"),
                 ("Expand", "Contract")]:
        assert max(config.speed_factor(a), config.speed_factor(b)) == 2 * min(config.speed_factor(a), config.speed_factor(b))
    fast, slow = (_track(render_video(c, _rng(7, 0), 64, 64, config.speed_factor(c))) for c in ("MoveRight", "MoveLeft"))
    t = np.arange(64)
    # the rendered track (foreground centroid) under-reads slow motion a little: 0.26-0.32 measured
    assert 0.25 < -np.polyfit(t, slow[:, 0], 1)[0] / np.polyfit(t, fast[:, 0], 1)[0] < 0.6
    with pytest.raises(ValueError, match="class_speeds"):
        syn.SyntheticConfig(class_speeds="fast")
    with pytest.raises(ValueError, match="typical_object_percent must be in"):
        syn.SyntheticConfig(typical_object_percent=120)


def test_typical_objects_are_distinct_per_class_and_drawn_after_the_motion():
    assert len({syn.typical_object(c) for c in CLASSES}) == len(CLASSES)
    plain = render_video("Spin", _rng(3, 1), 8, 32)
    assert np.array_equal(render_video("Spin", _rng(3, 1), 8, 32, typical_object_percent=0), plain)
    typical = [render_video("Spin", _rng(3, seed), 8, 32, typical_object_percent=100) for seed in range(4)]
    others = [render_video("Spin", _rng(3, seed), 8, 32) for seed in range(4)]
    assert any(not np.array_equal(a, b) for a, b in zip(typical, others))  # the object was replaced


def test_kinds_class_set_names_ladder_and_typical_objects():
    config = SyntheticConfig(class_set="kinds", class_speeds="ladder")
    assert config.classes == tuple(syn.KINDS) and SyntheticConfig().classes == CLASSES
    assert {c: config.speed_factor(c) for c in config.classes} == syn.KIND_SPEED_LADDER
    for a, b in [("Translate", "Orbit"), ("ZigZag", "Radial"), ("Oscillate", "Spin")]:  # pace needs the kind
        assert config.speed_factor(a) == 2 * config.speed_factor(b)
    assert len({syn.typical_object(c, "kinds") for c in config.classes}) == len(config.classes)
    with pytest.raises(ValueError, match="class_set must be one of"):
        SyntheticConfig(class_set="actions")
    with pytest.raises(ValueError, match="of class_set 'kinds'"):
        render_video("MoveRight", _rng(0), 8, 32, class_set="kinds")


def test_kinds_draw_their_direction_per_video():
    """A kind is one class whatever its direction: translations go every way, orbits both ways."""
    angles, areas = [], []
    for seed in range(8):
        track = _track(render_video("Translate", _rng(13, seed), 64, 64, class_set="kinds"))
        t = np.arange(len(track))
        vx, vy = np.polyfit(t, track[:, 0], 1)[0], np.polyfit(t, track[:, 1], 1)[0]
        assert 0.6 < math.hypot(vx, vy) < 1.0, (seed, vx, vy)  # 0.8 px/frame +-10 %, at any angle
        angles.append(math.atan2(vy, vx))
        x, y = _track(render_video("Orbit", _rng(13, seed), 64, 64, class_set="kinds")).T
        x, y = x - x.mean(), y - y.mean()
        areas.append(0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
    quadrants = {(math.cos(a) > 0, math.sin(a) > 0) for a in angles}
    assert len(quadrants) >= 3, angles
    assert min(areas) < -50 and max(areas) > 50, areas  # clockwise and counter-clockwise
    # the radial flow goes out in some videos and in in others, at the kind's ladder speed
    shifts = [motion._trajectory("Radial", _rng(14, seed), 8, 64, syn.KIND_SPEED_LADDER["Radial"])["radial"][-1]
              for seed in range(8)]
    assert min(shifts) < 0 < max(shifts)
    assert all(0.5 * 0.8 * 0.9 * 7 - 1e-6 <= abs(shift) <= 0.5 * 0.8 * 1.1 * 7 + 1e-6 for shift in shifts)


def test_kinds_source_writes_seven_classes(tmp_path):
    source = syn.SyntheticUCF101(tmp_path, num_train_per_class=1, num_test_per_class=1, num_frames=8, size=16,
                                 class_set="kinds")
    records, classes = source.records("train")
    assert source.root.name.startswith("motion7_") and source.root.name.endswith("_kinds")
    assert list(classes) == list(syn.KINDS) and sorted(r.label for r in records) == list(range(len(syn.KINDS)))
    lines = (source.root / "ucfTrainTestlist" / "classInd.txt").read_text().splitlines()
    assert lines == [f"{i + 1} {name}" for i, name in enumerate(syn.KINDS)]


def test_source_generates_with_every_parameter_in_a_subprocess(tmp_path):
    source = syn.SyntheticUCF101(tmp_path, num_train_per_class=1, num_test_per_class=0, num_frames=8, size=16,
                                 class_speeds="ladder", typical_object_percent=50)
    records, _ = source.records("train")
    assert len(records) == len(CLASSES) and source.root.name.endswith("_ladder_typical50")
    assert {r.num_frames for r in records} == {8}  # known lengths: a pace whose clips wrap is warned of
    config = json.loads((source.root / "synthetic.json").read_text())["config"]
    assert config["class_speeds"] == "ladder" and config["typical_object_percent"] == 50


def test_source_folder_names_every_non_default_parameter(tmp_path):
    """Datasets that differ only in their encoding live in folders of their own."""
    names = {syn.SyntheticUCF101(tmp_path, **extra).root.name
             for extra in ({}, {"crf": 30}, {"keyint": 8}, {"fps": 30})}
    assert len(names) == 4
    assert syn.SyntheticUCF101(tmp_path).root.name == "motion12_n40-30_f96_s64_seed0"  # existing caches keep their name
    assert syn.SyntheticUCF101(tmp_path, crf=30, keyint=8).root.name.endswith("_seed0_crf30_keyint8")


# ------------------------------------------------------------------- parts and scene clutter


def test_three_parts_from_three_seeds_in_their_own_groups(tmp_path):
    """train / validation / test: lists of their own, groups that follow each other, each part drawn
    from its own seed, so that regenerating the test part with another seed leaves the others as they are."""
    config = dict(num_train_per_class=2, num_val_per_class=1, num_test_per_class=1, num_frames=8, size=16,
                  class_set="kinds", seed=10, val_seed=11, test_seed=12)
    source = syn.SyntheticUCF101(tmp_path, **config)
    assert source.stages == ("train", "val", "test") and "_n2-1-1_" in source.root.name
    assert "_seed10-11-12" in source.root.name
    groups = {}
    for stage in source.stages:
        records, classes = source.records(stage)
        assert len(records) == len(syn.KINDS) * config[f"num_{stage}_per_class"] and list(classes) == list(syn.KINDS)
        groups[stage] = {int(NAME_RE.match(r.path.name)["g"]) for r in records}
    assert max(groups["train"]) < min(groups["val"]) and max(groups["val"]) < min(groups["test"])
    other = syn.SyntheticUCF101(tmp_path, **{**config, "test_seed": 99})
    assert other.root != source.root
    decoded = {}
    for src in (source, other):
        for stage in ("train", "test"):
            record = src.records(stage)[0][0]
            decoded[src.root.name, stage] = record.path.read_bytes()
    assert decoded[source.root.name, "train"] == decoded[other.root.name, "train"]
    assert decoded[source.root.name, "test"] != decoded[other.root.name, "test"]


def test_a_dataset_without_validation_part_refuses_val_and_keeps_its_name(tmp_path):
    source = syn.SyntheticUCF101(tmp_path, num_train_per_class=1, num_test_per_class=1, num_frames=8, size=16)
    assert source.stages == ("train", "test") and source.root.name == "motion12_n1-1_f8_s16_seed0"
    with pytest.raises(ValueError, match="has no 'val' part .*num_val_per_class"):
        source.records("val")


def test_full_clutter_renders_as_before_and_less_clutter_leaves_a_plain_scene():
    """``clutter=full`` draws exactly what the generator drew before the option existed; ``none``
    leaves a solid background with no distractor, so a static object's class shows alone."""
    import hashlib

    # digests of these renders by the generator before the clutter option existed
    for name, class_set, digest in (("Static", "directions", "3e6acdd4799f2c41"), ("Orbit", "kinds", "aa40e3c26f053eac")):
        full = render_video(name, _rng(5), 6, 32, 1.0, 75, class_set, clutter="full")
        assert hashlib.sha256(full.tobytes()).hexdigest()[:16] == digest
    plain = render_video("Static", _rng(5), 6, 32, typical_object_percent=100, clutter="none")
    background = np.median(plain.reshape(-1, 3), axis=0)
    away = np.abs(plain.astype(np.int16) - background).max(-1) > 40
    assert 0.02 < away.mean() < 0.35  # the object and nothing else stands out of the background
    with pytest.raises(ValueError, match="clutter must be one of"):
        SyntheticConfig(clutter="busy")


def test_colour_levels_restrict_background_and_object_colours():
    """colour_levels=2: background and object colours in the 8 corners of the RGB cube (each
    channel's draw rounded); 0, the default, keeps any colour."""
    from pacepred.data.synthetic import video_rng
    from pacepred.data.synthetic.scene import _sample_background, _sample_object

    rng_levels, rng_plain = np.random.default_rng(7), np.random.default_rng(7)
    bg = _sample_background(rng_levels, 32, ("solid",), colour_levels=2)
    obj = _sample_object(rng_levels, 32, 0.5, bg["c1"], colour_levels=2)
    assert all(set(np.unique(c)) <= {0.0, 255.0} for c in (bg["c1"], bg["c2"], obj["c1"], obj["c2"]))
    plain_bg = _sample_background(rng_plain, 32, ("solid",))
    assert np.array_equal(np.round(plain_bg["c1"] / 255) * 255, bg["c1"])  # the same draw, rounded
    plain = render_video("Translate", video_rng(0, "train", 0, 3), 4, 32, 1.0, 0, "kinds", "none", 1.0)
    levels = render_video("Translate", video_rng(0, "train", 0, 3), 4, 32, 1.0, 0, "kinds", "none", 1.0, 2)
    assert not np.array_equal(plain, levels) and len(np.unique(levels.reshape(-1, 3), axis=0)) > 8  # noise, shading
    assert SyntheticConfig().colour_levels == 0
    with pytest.raises(ValueError, match="colour_levels must be 0"):
        SyntheticConfig(colour_levels=1)
