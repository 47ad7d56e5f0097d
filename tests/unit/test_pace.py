"""Pace sets and the pace sampler (docs/method.md, "Pace prediction")."""

from fractions import Fraction

import numpy as np
import pytest

from pacepred.data.pace import (
    clip_indices,
    clip_span,
    draw_pace_labels,
    explicit_paces,
    fast_paces,
    sample_pace_clip,
    sample_start,
    slow_fast_paces,
)

F = Fraction


def test_fast_paces_are_the_official_set():
    assert fast_paces(4) == [1, 2, 3, 4]
    assert fast_paces(2) == [1, 2]


@pytest.mark.parametrize(
    "n, expected",
    [(3, [F(1, 2), 1, 2]), (4, [F(1, 2), 1, 2, 3]), (5, [F(1, 3), F(1, 2), 1, 2, 3]), (2, [1, 2])],
)
def test_slow_fast_paces_match_method(n, expected):
    assert slow_fast_paces(n) == expected


def test_explicit_paces_sorted_slowest_first_and_parsed():
    assert explicit_paces([4, "1/2", 1, 2.0]) == [F(1, 2), 1, 2, 4]
    assert explicit_paces([0.25, 1]) == [F(1, 4), 1]


def test_explicit_duplicates_name_the_value():
    with pytest.raises(ValueError, match=r"duplicate paces: \['2'\]"):
        explicit_paces([1, 2, "2/1"])


@pytest.mark.parametrize("bad", [[1, -2], [1, 0], [1, "fast"], []])
def test_explicit_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        explicit_paces(bad)


def test_a_single_pace_is_natural_speed_for_supervised_runs_and_no_pace_task():
    """pace=1 (or one explicit pace) serves training on the labels at natural speed; a pace loss
    on it is refused (nothing to tell apart)."""
    from pacepred.data.pace import fast_paces
    from pacepred.models.r3d import R3D
    from pacepred.modules.pretrain import PacePretrainModule

    assert fast_paces(1) == [1] and explicit_paces([1]) == [1]
    with pytest.raises(ValueError, match="pace task needs at least 2 paces.*model=supervised"):
        PacePretrainModule(R3D(base_width=4), [F(1)], optimizer=None)
    module = PacePretrainModule(R3D(base_width=4), [F(1)], optimizer=None, num_classes=3,
                                loss_weights={"pace": 0.0, "contrastive": 0.0, "supervised": 1.0})
    assert not module.has_pace_task and module.val_class_acc is not None


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_pace_count_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="pace="):
        fast_paces(bad)


@pytest.mark.parametrize(
    "pace, expected",
    [
        (F(1), [10, 11, 12, 13, 14, 15]),
        (F(2), [10, 12, 14, 16, 18, 20]),
        (F(3), [10, 13, 16, 19, 22, 25]),
        (F(4), [10, 14, 18, 22, 26, 30]),
        (F(1, 2), [10, 10, 11, 11, 12, 12]),
        (F(1, 3), [10, 10, 10, 11, 11, 11]),
    ],
)
def test_one_index_formula_for_every_pace(pace, expected):
    assert clip_indices(10, 6, pace, num_frames=100).tolist() == expected


def test_loop_restarts_at_the_first_frame_as_the_official_code():
    # start 8 of a 10-frame video at pace 2: 8, then 10 is past the end: 0, 2, 4
    assert clip_indices(8, 4, F(2), num_frames=10).tolist() == [8, 0, 2, 4]
    # the restart keeps the pace from frame 0 (not (start + i * pace) mod num_frames, which gives 2, 5, 8)
    assert clip_indices(3, 16, F(3), num_frames=40).tolist() == list(range(3, 40, 3)) + [0, 3, 6]
    # slow paces repeat the last frame before the restart
    assert clip_indices(7, 6, F(1, 2), num_frames=9).tolist() == [7, 7, 8, 8, 0, 0]


@pytest.mark.parametrize("pace", [F(1, 3), F(1, 2), F(1), F(2), F(3), F(4)])
def test_span_matches_indices(pace):
    idx = clip_indices(0, 16, pace, num_frames=10_000)
    assert clip_span(16, pace) == idx[-1] + 1


@pytest.mark.parametrize("pace", [F(1, 2), F(1), F(2), F(3), F(4)])
def test_fit_never_wraps_when_the_clip_fits(pace):
    rng = np.random.default_rng(0)
    num_frames = clip_span(16, pace) + 3
    starts = set()
    for _ in range(300):
        idx = sample_pace_clip(num_frames, 16, pace, "fit", rng)
        assert np.all(np.diff(idx) >= 0), "a fitted clip must not jump back"
        assert idx[-1] < num_frames
        starts.add(int(idx[0]))
    assert starts == {0, 1, 2, 3}, "every start that fits must be drawn"


def test_fit_loops_only_when_the_video_is_shorter_than_the_span():
    # UCF101 has 29-frame videos; 16 frames at pace 4 span 61 frames.
    rng = np.random.default_rng(0)
    idx = sample_pace_clip(29, 16, F(4), "fit", rng)
    assert idx.tolist() == 2 * list(range(0, 29, 4))  # 0 .. 28, then again from frame 0
    assert sample_start(29, 16, F(4), "fit", rng) == 0


def test_loop_draws_start_over_all_frames_and_wraps():
    rng = np.random.default_rng(1)
    starts = {sample_start(50, 16, F(4), "loop", rng) for _ in range(2000)}
    assert starts == set(range(50))
    # 100 frames, span 61: the clip wraps when the start is past frame 39, 60% of the time.
    wrapped = [np.any(np.diff(sample_pace_clip(100, 16, F(4), "loop", rng)) < 0) for _ in range(2000)]
    assert np.mean(wrapped) == pytest.approx(0.6, abs=0.04)


def test_loop_on_short_video_indices_stay_in_range():
    rng = np.random.default_rng(2)
    for pace in (F(1, 2), F(4)):
        idx = sample_pace_clip(29, 17, pace, "loop", rng)
        assert idx.min() >= 0 and idx.max() < 29 and len(idx) == 17


def test_unknown_boundary_is_named():
    with pytest.raises(ValueError, match="boundary='wrap'"):
        sample_start(100, 16, F(1), "wrap", np.random.default_rng(0))


def test_two_views_get_two_different_paces_uniformly():
    rng = np.random.default_rng(0)
    pairs = np.array([draw_pace_labels(4, 2, rng) for _ in range(4000)])
    assert np.all(pairs[:, 0] != pairs[:, 1])
    counts = np.bincount(pairs.ravel(), minlength=4) / pairs.size
    assert np.allclose(counts, 0.25, atol=0.02)


def test_more_views_than_paces_is_an_error():
    with pytest.raises(ValueError, match="3 views"):
        draw_pace_labels(2, 3, np.random.default_rng(0))


def test_the_grouped_settings_reach_the_loggers_and_an_old_mode_string_is_refused():
    """The contrastive and acceleration settings are saved as plain dicts in the hyper-parameters
    the loggers record (hparams_initial), not only in the checkpoint's."""
    from pacepred.models.r3d import R3D
    from pacepred.modules.pretrain import PacePretrainModule
    from pacepred.modules.settings import Acceleration, Contrastive

    module = PacePretrainModule(R3D(base_width=4), [F(1), F(2)], optimizer=None,
                                contrastive=Contrastive("context", temperature=0.2), acceleration=Acceleration(compile=False))
    logged = module.hparams_initial
    assert logged["contrastive"] == {"positives": "context", "proj_hidden": 512, "proj_dim": 128, "temperature": 0.2}
    assert logged["acceleration"]["channels_last"] is None and logged["paces"] == ["1", "2"]
    with pytest.raises(ValueError, match="model.contrastive.positives=context"):
        PacePretrainModule(R3D(base_width=4), [F(1), F(2)], optimizer=None, contrastive="context")
