"""UCF101 reader, decoding, the pace-clip dataset and the batch transform, on the real clips."""

from fractions import Fraction

import numpy as np
import pytest
import torch

from pacepred.data.clip_reader import ClipReader
from pacepred.data.datamodules import jitter_seed
from pacepred.data.datasets import PaceClipDataset, SeededShardSampler, sample_seed
from pacepred.data.decoding import VideoDecodeError, read_clip
from pacepred.data.records import SplitFileError, VideoRecord
from pacepred.data.sources import UCF101Split, read_class_index
from pacepred.data.colour_jitter import ColourJitter, color_jitter_linear, color_jitter_sequential
from pacepred.data.transforms import ClipBatchTransform, crop_and_flip

PACES = [Fraction(1), Fraction(2), Fraction(3), Fraction(4)]


def test_ucf101_reader_reads_official_layout(ucf101_layout):
    split = UCF101Split(ucf101_layout, split=1)
    train, classes = split.records("train")
    test, _ = split.records("test")
    assert classes == ["ApplyEyeMakeup", "ArmWrestling"]
    assert [r.label for r in train] == [0, 1] and [r.label for r in test] == [0, 1]
    assert all(r.path.is_file() for r in train + test)


def test_ucf101_missing_root_names_path_and_layout(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere.*ucfTrainTestlist"):
        UCF101Split(tmp_path / "nowhere").records("train")


def test_malformed_split_line_names_file_and_line(ucf101_layout):
    trainlist = ucf101_layout / "ucfTrainTestlist" / "trainlist01.txt"
    trainlist.write_text(trainlist.read_text() + "ArmWrestling/v_x.avi seven\n")
    with pytest.raises(SplitFileError, match=r"trainlist01.txt:3: label 'seven'"):
        UCF101Split(ucf101_layout).records("train")


def test_class_index_with_gap_is_rejected(tmp_path):
    (tmp_path / "classInd.txt").write_text("1 A\n3 B\n")
    with pytest.raises(SplitFileError, match="without gaps"):
        read_class_index(tmp_path / "classInd.txt")
    (tmp_path / "classInd.txt").write_text("1 A\n2 B\n2 C\n3 D\n")  # not a silent ['A', 'C', 'D']
    with pytest.raises(SplitFileError, match=r"classInd.txt:3: class id 2 again \('B' had it\)"):
        read_class_index(tmp_path / "classInd.txt")


@pytest.mark.parametrize("name", ["ucf101_apply_eye_makeup.avi", "kinetics_arm_wrestling.mp4", "kinetics_flipping_pancake.mkv"])
def test_read_clip_resizes_and_repeats_frames(real_videos, name):
    frames = read_clip(real_videos / name, lambda n: np.array([5, 5, 6, 0, 5]), size=(64, 80))
    assert frames.shape == (5, 64, 80, 3) and frames.dtype == np.uint8
    assert np.array_equal(frames[0], frames[1]) and np.array_equal(frames[0], frames[4])
    assert not np.array_equal(frames[0], frames[3])


def test_read_clip_native_size(real_videos):
    frames = read_clip(real_videos / "ucf101_apply_eye_makeup.avi", lambda n: np.arange(3))
    assert frames.shape == (3, 240, 320, 3)


def test_corrupted_video_names_file_and_reason(real_videos):
    with pytest.raises(VideoDecodeError, match=r"corrupted_h264.mp4.*decoding frames failed"):
        read_clip(real_videos / "corrupted_h264.mp4", lambda n: np.arange(n))


def test_missing_video_is_named(tmp_path):
    with pytest.raises(VideoDecodeError, match=r"missing.mp4: file does not exist"):
        read_clip(tmp_path / "missing.mp4", lambda n: np.arange(2))


def test_dataset_two_views_at_different_paces(ucf101_layout):
    records, _ = UCF101Split(ucf101_layout).records("train")
    ds = PaceClipDataset(records, ClipReader((64, 80), 56), PACES, num_samples=17, num_views=2, boundary="fit",
                         train=True, flip=True)
    item = ds[(1, 123)]
    assert item["video"].shape == (2, 17, 3, 56, 56) and item["video"].dtype == torch.uint8
    assert item["pace_label"].shape == (2,) and item["pace_label"][0] != item["pace_label"][1]
    assert item["label"].item() == 1 and item["video_idx"].item() == 1
    again = ds[(1, 123)]
    assert torch.equal(item["video"], again["video"]), "same key -> same sample"
    assert not torch.equal(item["video"], ds[(1, 124)]["video"])


def test_cache_decoded_gives_the_same_clips_and_decodes_each_video_once(ucf101_layout, monkeypatch, tmp_path):
    import pacepred.data.decoding.read as decoding  # read_clip's module: its decoder and its cache

    records, _ = UCF101Split(ucf101_layout).records("train")
    options = dict(num_samples=17, num_views=2, boundary="fit", train=True, flip=True)
    cache = ClipReader((64, 80), 56, cache_decoded=True)
    plain = PaceClipDataset(records, ClipReader((64, 80), 56), PACES, **options)
    cached = PaceClipDataset(records, cache, PACES, **options)
    decodes = []
    real_decode = decoding._read_decord
    monkeypatch.setattr(decoding, "_read_decord", lambda path, *a: decodes.append(path) or real_decode(path, *a))
    for key in [(1, 5), (1, 6), (0, 7), (1, 5)]:
        expected, got = plain[key], cached[key]
        assert torch.equal(expected["video"], got["video"]) and torch.equal(expected["pace_label"], got["pace_label"])
    assert decodes.count(records[1].path) == 3 + 1 and decodes.count(records[0].path) == 1 + 1  # plain 3 + 1, cached 1 + 1
    # a rewritten file (new size / mtime) is decoded again, never served from the old copy
    copy = tmp_path / records[0].path.name
    copy.write_bytes(records[0].path.read_bytes())
    first = PaceClipDataset([VideoRecord(copy, 0)], cache, PACES, **options)
    before = first[(0, 7)]["video"]
    copy.write_bytes(records[1].path.read_bytes())
    assert not torch.equal(first[(0, 7)]["video"], before) and decodes.count(copy) == 2
    assert len([key for key in decoding._DECODED if key[0] == str(copy)]) == 1, "the old copy is dropped"
    with pytest.raises(IndexError, match=copy.name):  # cached frames are checked as decoded ones
        decoding.read_clip(copy, lambda n: np.array([n]), (64, 80), cache=True)


def test_sampler_shards_disjointly_and_reproducibly():
    shards = [list(SeededShardSampler(10, seed=3, shuffle=True, rank=r, world_size=2)) for r in (0, 1)]
    indices = [i for shard in shards for i, _ in shard]
    assert sorted(indices) == list(range(10))
    assert shards[0] == list(SeededShardSampler(10, seed=3, shuffle=True, rank=0, world_size=2))
    sampler = SeededShardSampler(10, seed=3, shuffle=True)
    first = list(sampler)
    sampler.set_epoch(1)
    assert list(sampler) != first, "each epoch reshuffles and redraws"
    assert len(SeededShardSampler(10, 0, True, repeat=3)) == 30
    val = list(SeededShardSampler(5, 0, shuffle=False))
    assert val == [(i, sample_seed(0, -1, i)) for i in range(5)]


def test_unpadded_validation_shards_take_every_video_once():
    """Training shards wrap to equal lengths; validation shards (pad=False) may differ by one."""
    padded = [[i for i, _ in SeededShardSampler(7, 0, shuffle=False, rank=r, world_size=3)] for r in range(3)]
    assert [len(s) for s in padded] == [3, 3, 3] and sum(padded, []).count(0) == 2
    shards = [SeededShardSampler(7, 0, shuffle=False, rank=r, world_size=3, pad=False) for r in range(3)]
    assert [len(s) for s in shards] == [3, 2, 2] and [len(list(s)) for s in shards] == [3, 2, 2]
    assert sorted(i for s in shards for i, _ in s) == list(range(7))
    alone = SeededShardSampler(2, 0, shuffle=False, rank=2, world_size=3, pad=False)
    assert len(alone) == 0 and list(alone) == [], "a rank beyond the data gets nothing, not a duplicate"


def test_crop_and_flip():
    frames = np.arange(2 * 8 * 10 * 3, dtype=np.uint8).reshape(2, 8, 10, 3)
    centre = crop_and_flip(frames, 4, None, flip=True)
    assert centre.shape == (2, 3, 4, 4)
    assert torch.equal(centre, torch.from_numpy(frames[:, 2:6, 3:7]).permute(0, 3, 1, 2))
    with pytest.raises(ValueError, match="crop_size=12 is larger than the decoded frames"):
        crop_and_flip(frames, 12, None, flip=False)
    seen = set()
    for seed in range(16):  # random crops, mirrored half of the time, pixels copied out of the frames
        clip = crop_and_flip(frames, 4, np.random.default_rng(seed), flip=True).permute(0, 2, 3, 1)
        assert clip.is_contiguous() and clip.untyped_storage().data_ptr() != frames.ctypes.data
        crops = {(top, left): torch.from_numpy(frames[:, top:top + 4, left:left + 4]) for top in range(5) for left in range(7)}
        matches = [torch.equal(clip, crop) for crop in crops.values()] + [torch.equal(clip, crop.flip(2)) for crop in crops.values()]
        assert sum(matches) == 1
        seen.add(matches.index(True) >= len(crops))
    assert seen == {False, True}


def linear_on_images(x, factors, **kwargs):
    """color_jitter_linear on images (N, 3, H, W), as clips of one frame."""
    return color_jitter_linear(x[:, None], factors, **kwargs)[:, :, 0]


def test_jitter_seeds_differ_for_every_batch_and_rank():
    for world in (1, 8, 256):  # beyond 101 ranks too (rank 101 of batch 0 once met rank 0 of batch 1)
        seeds = {jitter_seed(3, batch, rank, world) for batch in range(20) for rank in range(world)}
        assert len(seeds) == 20 * world
    assert jitter_seed(3, 7, 0, 1) == jitter_seed(3, 7, 0, 1) != jitter_seed(4, 7, 0, 1)


@pytest.mark.parametrize("jitter", [color_jitter_sequential, linear_on_images])
def test_color_jitter_identity_and_brightness(jitter):
    x = torch.rand(3, 3, 8, 8)
    ones, zeros = torch.ones(3), torch.zeros(3)
    same = jitter(x, {"brightness": ones, "contrast": ones, "saturation": ones, "hue": zeros})
    assert torch.allclose(same, x, atol=1e-5), "identity factors leave the image unchanged"
    darker = jitter(x, {"brightness": ones * 0.5, "contrast": ones, "saturation": ones, "hue": zeros})
    assert torch.allclose(darker, x * 0.5, atol=1e-5)


def test_linear_jitter_equals_sequential_without_clipping_and_rotates_hue_like_hsv():
    x = torch.rand(4, 3, 6, 6) * 0.4 + 0.3  # mid-range: no intermediate clamp is active
    factors = {"brightness": torch.tensor([1.0, 1.1, 0.9, 1.05]), "contrast": torch.tensor([1.0, 1.2, 0.8, 0.9]),
               "saturation": torch.tensor([1.3, 1.0, 0.7, 0.9]), "hue": torch.zeros(4)}
    assert torch.allclose(linear_on_images(x, factors), color_jitter_sequential(x, factors), atol=1e-5)
    assert torch.allclose(linear_on_images(x * 255, factors, scale=1 / 255), color_jitter_sequential(x, factors), atol=1e-5)
    # hue: greys stay grey, luma is kept, and red turns towards yellow (green up) as in HSV
    hue_only = {"brightness": torch.ones(2), "contrast": torch.ones(2), "saturation": torch.ones(2),
                "hue": torch.tensor([0.1, 0.1])}
    pixels = torch.tensor([[0.5, 0.5, 0.5], [0.6, 0.4, 0.4]]).view(2, 3, 1, 1)
    linear, hsv = linear_on_images(pixels, hue_only), color_jitter_sequential(pixels, hue_only)
    assert torch.allclose(linear[0], pixels[0], atol=1e-5)
    luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    assert torch.allclose((linear * luma).sum(1)[1], (pixels * luma).sum(1)[1], atol=1e-5)
    assert linear[1, 1] > pixels[1, 1] and hsv[1, 1] > pixels[1, 1]
    # on random mid-range images both change colours in a similar direction and by a similar amount
    x_hue = {**hue_only, "hue": torch.full((4,), 0.05), "brightness": torch.ones(4), "contrast": torch.ones(4),
             "saturation": torch.ones(4)}
    rotated, shifted = (linear_on_images(x, x_hue) - x).flatten(), (color_jitter_sequential(x, x_hue) - x).flatten()
    assert torch.nn.functional.cosine_similarity(rotated, shifted, dim=0) > 0.5
    assert 0.8 < rotated.norm() / shifted.norm() < 1.25


def test_linear_jitter_clamps_then_normalises_into_the_clip_layout():
    """Image n * T + t of the factors jitters frame t of clip n; the clamp to [0, 1] comes before
    the normalisation folded into the colour map; the result is (N, 3, T, H, W)."""
    x = torch.rand(2, 3, 3, 5, 5)  # 2 clips of 3 frames
    brightness = torch.tensor([0.5, 1.8, 1.0, 1.4, 0.7, 1.9])  # values above 1 are clamped
    ones = torch.ones(6)
    factors = {"brightness": brightness, "contrast": ones, "saturation": ones, "hue": torch.zeros(6)}
    mean, std = (0.4, 0.5, 0.3), (0.2, 0.25, 0.3)
    out = color_jitter_linear(x * 255, factors, scale=1 / 255, mean=mean, std=std)
    clamped = (x * brightness.view(2, 3, 1, 1, 1)).clamp(0, 1)
    expected = (clamped - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    assert out.shape == (2, 3, 3, 5, 5)
    assert torch.allclose(out, expected.permute(0, 2, 1, 3, 4), atol=1e-5)


def test_random_jitter_order_applies_each_images_own_order():
    """jitter.order=random (torchvision draws an order per call): each image gets the four
    operations in its own order; with the clamps after each, orders give different images."""
    from pacepred.data.colour_jitter import JITTER_OPERATIONS

    names = list(JITTER_OPERATIONS)
    x = torch.rand(6, 3, 8, 8)
    factors = {"brightness": torch.full((6,), 1.7), "contrast": torch.full((6,), 1.6),
               "saturation": torch.full((6,), 0.3), "hue": torch.full((6,), 0.15)}
    orders = torch.tensor([[0, 1, 2, 3], [3, 2, 1, 0], [1, 0, 3, 2], [0, 1, 2, 3], [2, 3, 0, 1], [3, 2, 1, 0]])
    out = color_jitter_sequential(x, factors, orders)
    for i in range(6):
        expected = x[i:i + 1]
        for k in orders[i].tolist():
            expected = JITTER_OPERATIONS[names[k]](expected, factors[names[k]][i:i + 1])
        assert torch.allclose(out[i:i + 1], expected, atol=1e-6), i
    assert torch.equal(out[0], color_jitter_sequential(x, factors)[0])  # the fixed order is [0, 1, 2, 3]
    twice = color_jitter_sequential(x[:1].repeat(2, 1, 1, 1), {k: v[:2] for k, v in factors.items()}, orders[:2])
    assert (twice[0] - twice[1]).abs().max() > 0.05  # one image, two orders: two results

    video = torch.randint(0, 256, (2, 1, 4, 3, 8, 8), dtype=torch.uint8)
    transform = ClipBatchTransform("rgb", jitter=ColourJitter(impl="sequential", order="random", prob=1.0))
    drawn = transform.jitter.draw_factors(2, 4, torch.Generator().manual_seed(0), "cpu")
    assert drawn["orders"].shape == (8, 4) and (drawn["orders"].sort(dim=1).values == torch.arange(4)).all()
    assert len(drawn["orders"].unique(dim=0)) > 1  # per frame: the orders differ
    fixed = ClipBatchTransform("rgb", jitter=ColourJitter(impl="sequential", prob=1.0))
    same_draws = fixed.jitter.draw_factors(2, 4, torch.Generator().manual_seed(0), "cpu")
    assert all(torch.equal(drawn[k], same_draws[k]) for k in same_draws)  # the order is drawn after the factors
    assert transform(video, train=True, generator=torch.Generator().manual_seed(0)).shape == (2, 3, 4, 8, 8)
    with pytest.raises(ValueError, match="jitter.order=random needs jitter.impl=sequential"):
        ClipBatchTransform("rgb", jitter=ColourJitter(order="random"))


def test_batch_transform_shapes_residual_and_jitter_modes():
    video = torch.randint(0, 256, (2, 2, 5, 3, 8, 8), dtype=torch.uint8)
    rgb = ClipBatchTransform("rgb", jitter=ColourJitter(mode="none"))(video, train=True)
    assert rgb.shape == (4, 3, 5, 8, 8) and rgb.dtype == torch.float32
    residual = ClipBatchTransform("residual", jitter=ColourJitter(mode="none"))(video, train=True)
    assert residual.shape == (4, 3, 4, 8, 8)
    assert torch.allclose(residual, rgb[:, :, 1:] - rgb[:, :, :-1], atol=1e-6)
    centred = ClipBatchTransform("rgb_centred", jitter=ColourJitter(mode="none"))(video, train=True)
    assert torch.allclose(centred, rgb - rgb.mean(dim=2, keepdim=True), atol=1e-6)  # the static scene removed
    # per_clip: every frame of a constant clip gets the same factors -> residual stays zero.
    constant = video[:, :, :1].expand(-1, -1, 5, -1, -1, -1)
    per_clip = ClipBatchTransform("residual", jitter=ColourJitter(mode="per_clip", prob=1.0))
    assert per_clip(constant, train=True, generator=torch.Generator().manual_seed(0)).abs().max() < 1e-5
    per_frame = ClipBatchTransform("residual", jitter=ColourJitter(mode="per_frame", prob=1.0))
    assert per_frame(constant, train=True, generator=torch.Generator().manual_seed(0)).abs().max() > 0.05
    # evaluation: no jitter
    assert torch.equal(per_frame(video, train=False), residual)
    # the two implementations agree on everything but the jitter itself
    sequential = ClipBatchTransform("residual", jitter=ColourJitter(mode="per_clip", impl="sequential", prob=1.0))
    assert sequential(constant, train=True, generator=torch.Generator().manual_seed(0)).abs().max() < 1e-5
    with pytest.raises(ValueError, match="jitter.impl='fast'"):
        ClipBatchTransform("rgb", jitter=ColourJitter(impl="fast"))
    video_clip = video[:, :1]
    assert torch.equal(ClipBatchTransform("rgb")(video_clip, train=True), rgb[::2])  # no jitter node: no jitter
    with pytest.raises(ValueError, match=r"std=\[0.2, 0.0, 0.2\]: expected 3 values each, std positive"):
        ClipBatchTransform("rgb", std=(0.2, 0.0, 0.2))


@pytest.mark.parametrize("impl", ["linear", "sequential"])
def test_bgr_jitter_is_the_rgb_jitter_of_the_frames_with_red_and_blue_swapped(impl):
    """jitter.channels=bgr (the official code's ColorJitter on OpenCV's BGR arrays): red and blue
    swapped, jittered as rgb with the same draws, swapped back; normalised per RGB channel."""
    video = torch.randint(0, 256, (2, 1, 3, 3, 8, 8), dtype=torch.uint8)
    mean, std = (0.45, 0.4, 0.35), (0.2, 0.25, 0.3)
    options = {"impl": impl, "mode": "per_frame", "prob": 1.0}
    bgr = ClipBatchTransform("rgb", mean, std, jitter=ColourJitter(channels="bgr", **options))
    rgb = ClipBatchTransform("rgb", mean, std, jitter=ColourJitter(**options))
    rgb_of_swapped = ClipBatchTransform("rgb", mean[::-1], std[::-1], jitter=ColourJitter(**options))  # its channel k is RGB's 2 - k

    def draws():
        return torch.Generator().manual_seed(0)

    out = bgr(video, train=True, generator=draws())
    expected = rgb_of_swapped(video.flip(3), train=True, generator=draws()).flip(1)
    assert torch.allclose(out, expected, atol=1e-5)
    assert (out - rgb(video, train=True, generator=draws())).abs().max() > 0.1  # hue and saturation act otherwise
    assert torch.equal(bgr(video, train=False), rgb(video, train=False))  # evaluation: no jitter
    with pytest.raises(ValueError, match=r"jitter.channels='rbg': expected one of \('rgb', 'bgr'\)"):
        ClipBatchTransform("rgb", jitter=ColourJitter(channels="rbg"))


def test_clips_longer_than_the_videos_whose_length_is_known_are_warned_of(caplog, tmp_path):
    from types import SimpleNamespace

    from pacepred.data.datamodules import ClipRequest, PaceDataModule
    from pacepred.data.loading import LoaderSettings
    from pacepred.data.video_list import VideoList

    module = PaceDataModule(VideoList(SimpleNamespace(root=tmp_path)), ClipReader((64, 64), 56), LoaderSettings(2),
                            ClipBatchTransform("rgb"), 16, ClipRequest([Fraction(1), Fraction(4)]), "fit", flip=False)
    records = [VideoRecord("a", 0, num_frames=40), VideoRecord("b", 0, num_frames=100), VideoRecord("c", 0)]
    with caplog.at_level("WARNING"):
        assert module._check_lengths(records, "train") == records  # counted, kept
    assert "pace 4: a clip of 16 frames spans 61, longer than 1 of the 2 train videos whose length is known" in caplog.text
    caplog.clear()
    module._check_lengths(records[1:], "train")
    assert caplog.text == ""


def test_tuples_longer_than_the_videos_whose_length_is_known_are_warned_of(caplog, tmp_path):
    """Clip-order tuples (3 clips of 16 frames, 8 apart: 64 frames) are checked against the known
    lengths instead of the pace clips, after data.min_frames has left videos out."""
    from types import SimpleNamespace

    from pacepred.data.clip_order import TupleLayout
    from pacepred.data.datamodules import ClipRequest, PaceDataModule
    from pacepred.data.loading import LoaderSettings
    from pacepred.data.video_list import VideoList

    module = PaceDataModule(VideoList(SimpleNamespace(root=tmp_path)), ClipReader((64, 64), 56), LoaderSettings(2),
                            ClipBatchTransform("rgb"), 16, ClipRequest([Fraction(1)], 1, TupleLayout(3, 8)), "fit",
                            flip=False)
    records = [VideoRecord("a", 0, num_frames=40), VideoRecord("b", 0, num_frames=100)]
    with caplog.at_level("WARNING"):
        assert module._check_lengths(records, "train") == records
    assert "a tuple of 3 clips of 16 frames, 8 apart, spans 64 frames, longer than 1 of the 2 train videos" in caplog.text
    caplog.clear()
    module.videos.min_frames = 64
    with caplog.at_level("WARNING"):
        assert module._check_lengths(records, "train") == records[1:]
    assert caplog.text == ""


def test_the_batch_moves_to_the_device_but_its_skip_bookkeeping_stays_on_the_host():
    """The bad-video report reads ``skipped_idx`` every step: on the host that costs no wait for the GPU."""
    from pacepred.data.datamodules import ClipRequest, PaceDataModule
    from pacepred.data.loading import LoaderSettings
    from pacepred.data.video_list import VideoList

    module = PaceDataModule(VideoList(None), ClipReader((64, 64), 56), LoaderSettings(2), ClipBatchTransform("rgb"), 16,
                            ClipRequest([Fraction(1), Fraction(4)]), "fit", flip=False)
    batch = {"video": torch.zeros(2, 1, 16, 3, 8, 8, dtype=torch.uint8), "skipped_idx": torch.full((2, 3), -1)}
    moved = module.transfer_batch_to_device(batch, torch.device("meta"), 0)
    assert moved["video"].device.type == "meta" and moved["skipped_idx"] is batch["skipped_idx"]
