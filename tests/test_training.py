"""Training pipeline: decode-aware caches, patch samplers, and the distributed, resumable loop.

Runs on tiny synthetic images (never ../shared), on the CPU, in a few seconds.  The loop test
starts two gloo ranks with torchrun, then resumes from the checkpoint in one process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.color import deltaE_ciede2000

from lumacodec import weights
from lumacodec.baselayer import LOSSLESS_QUALITY
from lumacodec.color import L_to_u8
from lumacodec.hints import upsample_hint
from lumacodec.networks import (
    Colorizer,
    HintRestorer,
    SuperResolution,
    load_network,
    save_network,
)
from lumacodec.resample import downsample

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from training import data  # noqa: E402
from training.metrics import ciede2000  # noqa: E402


def _synthetic_image(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A smooth colourful image with some edges (what a photo patch roughly looks like)."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    rgb = np.stack([np.sin(6 * xx + 3 * yy), np.cos(5 * yy - 2 * xx), np.sin(9 * xx * yy)], -1)
    rgb = 0.5 + 0.35 * rgb + 0.05 * rng.standard_normal((h, w, 3))
    rgb[h // 3 : h // 2, w // 4 : w // 2] = [0.9, 0.2, 0.1]
    return (np.clip(rgb, 0, 1) * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("datasets")
    rng = np.random.default_rng(1)
    for folder, n, size in (("train", 3, (128, 160)), ("val", 1, (128, 128))):
        (root / folder).mkdir()
        for i in range(n):
            Image.fromarray(_synthetic_image(rng, *size)).save(root / folder / f"{i}.png")
    (root / "train" / "README.md").write_text("not an image")
    return root


@pytest.fixture(scope="module")
def cached(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    images = data.list_images(dataset, ["train"])
    assert [p.name for p in images] == ["0.png", "1.png", "2.png"]
    files = data.build_cache(images, tmp_path_factory.mktemp("cache"), workers=1, log=False)
    return data.load_cache(files, ["L", "ab", *data.plane_keys()])


def test_ground_truth_is_reduced_by_an_integer_factor(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    Image.fromarray(_synthetic_image(rng, 250, 410)).save(tmp_path / "big.png")
    rgb = data.load_ground_truth(tmp_path / "big.png", max_side=210)
    assert rgb.dtype == np.uint8 and rgb.shape == (124, 204, 3)  # /2, then multiple of 4


def test_cache_planes_are_what_the_decoder_sees(cached: list[dict]) -> None:
    r = cached[0]
    assert r["L"].shape == (128, 160) and r["L"].dtype == np.float32
    assert r["ab"].shape == (2, 128, 160)
    for s in (2, 4):
        lossless = r[f"x{s}_q{LOSSLESS_QUALITY}"]
        np.testing.assert_array_equal(lossless, L_to_u8(downsample(r["L"], s)))
        coded = r[f"x{s}_q{data.SR_QUALITIES[s][0]}"]
        assert coded.shape == lossless.shape and coded.dtype == np.uint8
        assert 0 < np.abs(coded.astype(int) - lossless).mean() < 10  # lossy, but close
    full = r[f"x1_q{data.SR_QUALITIES[1][0]}"]  # the full-resolution rungs' coded plane
    assert full.shape == r["L"].shape and full.dtype == np.uint8
    assert 0 < np.abs(full.astype(int) - L_to_u8(r["L"])).mean() < 10
    assert r["hint_f32_q60"].shape == (2, 4, 5)
    assert r["hint_f4_q60"].shape == (2, 32, 40)


def test_cache_is_extended_not_recoded(dataset: Path, tmp_path: Path, monkeypatch) -> None:
    """A cache file made before a plane was added keeps its planes and gains the new one."""
    image = data.list_images(dataset, ["val"])[0]
    full = data.build_cache([image], tmp_path, workers=1, log=False)[0]
    with np.load(full) as z:
        complete = {k: z[k] for k in z.files}
    new_key = f"x1_q{data.SR_QUALITIES[1][-1]}"
    old = {k: v for k, v in complete.items() if k != new_key}
    old["x2_q10"] = np.zeros_like(old["x2_q10"])  # marks a plane that must be kept, not redone
    np.savez(full, **old)
    assert data.missing_keys(full) == [new_key]
    coded: list[list[str]] = []
    real = data.code_image
    monkeypatch.setattr(data, "code_image", lambda rgb, keys=None: coded.append(keys) or
                        real(rgb, keys))
    assert data.build_cache([image], tmp_path, workers=1, log=False) == [full]
    assert coded == [[new_key]]
    with np.load(full) as z:
        np.testing.assert_array_equal(z[new_key], complete[new_key])
        assert not z["x2_q10"].any()
    assert data.missing_keys(full) == []


def test_cache_codes_only_the_planes_asked_for(dataset: Path, tmp_path: Path) -> None:
    image = data.list_images(dataset, ["val"])[0]
    keys = ["L", "ab", "hint_f16_q50", "x2_q10"]
    path = data.build_cache([image], tmp_path, workers=1, log=False, keys=keys)[0]
    with np.load(path) as z:
        assert sorted(z.files) == sorted(keys)
    assert data.missing_keys(path, keys) == []
    assert "hint_f16_q70" in data.missing_keys(path)  # the complete set still lacks the rest


def test_sr_patches_shapes_and_ranges(cached: list[dict]) -> None:
    patches = data.SRPatches(cached, scale=2, patch=24)
    low, q, target = patches.sample(np.random.default_rng(0), 5)
    assert low.shape == (5, 1, 24, 24) and target.shape == (5, 1, 48, 48)
    assert q.shape == (5,)
    assert {round(v, 4) for v in q.tolist()} <= {0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 1.0}
    assert 0 <= low.min() and low.max() <= 1 and 0 <= target.min() and target.max() <= 1
    # the low patch is the (coded) downsampled target: bicubic-free check on the means
    assert abs(float(low.mean()) - float(target.mean())) < 0.05
    net = SuperResolution(2)
    assert net(low, q).shape == target.shape


def test_sr_patches_focus_and_clean(cached: list[dict]) -> None:
    rng = np.random.default_rng(0)
    focused = data.SRPatches(cached, scale=2, patch=16, focus=(10,), focus_share=0.8)
    q = np.concatenate([focused.sample(rng, 50)[1].numpy() for _ in range(4)])
    assert 0.75 < float(np.mean(np.isclose(q, 0.10))) < 0.95  # 0.8 + 0.2 / 9 expected
    records = [dict(r) for r in cached]
    data.add_clean_planes(records, 2)
    plane = records[0]["x2_bicubic"]
    assert plane.dtype == np.uint8 and plane.shape == records[0]["x2_q10"].shape
    assert not np.array_equal(plane, records[0][f"x2_q{LOSSLESS_QUALITY}"])  # not area
    low, q, target = data.SRPatches(records, scale=2, patch=16, clean=True).sample(rng, 6)
    assert torch.all(q == 1.0) and low.shape == (6, 1, 16, 16) and target.shape == (6, 1, 32, 32)


def test_sr_patches_of_restored_planes(cached: list[dict]) -> None:
    records = [dict(r) for r in cached]
    data.add_restored_planes(records, 2, (10, LOSSLESS_QUALITY), lambda low, q: low + 1.0,
                             log=False)
    assert set(records[0]) - set(cached[0]) == {"x2_q10_restored"}
    patches = data.SRPatches(records, scale=2, patch=16, qualities=(10,), restored=True)
    r = records[0]
    np.testing.assert_allclose(patches.low_plane(r, 10) - patches.low_plane(r, 10, raw=True),
                               1.0, atol=0.05)  # float16
    low, _, target = patches.sample(np.random.default_rng(0), 4)
    assert 0.005 < float(low.mean() - target.mean()) < 0.02  # the +1 L shows, /100


def test_sr_patches_at_scale_1_pair_the_coded_plane_with_the_original(cached: list[dict]) -> None:
    low, q, target = data.SRPatches(cached, scale=1, patch=32).sample(np.random.default_rng(0), 4)
    assert low.shape == target.shape == (4, 1, 32, 32)
    assert {round(v, 4) for v in q.tolist()} <= {x / 100 for x in data.SR_QUALITIES[1]}
    assert 0 < float((low - target).abs().mean()) < 0.05  # coded, so close but not equal
    assert SuperResolution(1, channels=8, blocks=1)(low, q).shape == target.shape


def test_slow_effort_planes_are_coded_at_that_effort_and_drawn_evenly(
        dataset: Path, tmp_path: Path, monkeypatch) -> None:
    image = data.list_images(dataset, ["val"])[0]
    keys = ["L", data.plane_key(1, 20), data.plane_key(1, 20, 2)]
    assert keys[1:] == ["x1_q20", "x1_q20_e2"] and keys[2] in data.slow_keys()
    efforts: list[int] = []
    real = data.encode_plane
    monkeypatch.setattr(data, "encode_plane", lambda plane, q, effort: efforts.append(effort)
                        or real(plane, q, effort))
    path = data.build_cache([image], tmp_path, workers=1, log=False, keys=keys)[0]
    assert sorted(efforts) == [data.EFFORT, 2]
    assert "x1_q20_e2" not in data.missing_keys(path)  # the default set has no slow planes
    record = data.load_cache([path], keys)[0]
    assert not np.array_equal(record["x1_q20"], record["x1_q20_e2"])  # another coding
    patches = data.SRPatches([record], scale=1, patch=128, qualities=(20,), efforts=(1, 2))
    pick = patches.low_plane(record, 20, effort=2) / 100
    low = patches.sample(np.random.default_rng(0), 40)[0].numpy()[:, 0]
    # a 128-px patch of a 128-px image is the plane up to a flip or rotation
    from_slow = [any(np.allclose(v, np.rot90(f, k)) for f in (pick, pick.T) for k in range(4))
                 for v in low]
    assert 10 < sum(from_slow) < 30


def test_color_patches_and_hint_crop(cached: list[dict]) -> None:
    patches = data.ColorPatches(cached, patch=64, p_no_hint=0.3)
    L, hint, factors, ab = patches.sample(np.random.default_rng(0), 8)
    assert L.shape == (8, 1, 64, 64) and hint.shape == ab.shape == (8, 2, 64, 64)
    assert set(factors) <= {0, 4, 8, 16, 32}
    for h, f in zip(hint, factors, strict=True):
        assert (f == 0) == bool((h == 0).all())
    assert float(ab.abs().max()) < 1.0 and 0 <= float(L.min()) and float(L.max()) <= 1
    assert Colorizer()(L, hint, factors).shape == ab.shape
    small = cached[1]["hint_f8_q60"].astype(np.float32)
    full = upsample_hint(small, 8, cached[1]["L"].shape)
    np.testing.assert_allclose(data.hint_crop(small, 8, 32, 64, 64), full[:, 32:96, 64:128],
                               atol=1e-5)


def _train(args: list[str], nproc: int, env: dict[str, str], module: str = "training.sr") -> str:
    head = [sys.executable]
    if nproc > 1:
        head += ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    proc = subprocess.run(head + ["-m", module, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
            "OMP_NUM_THREADS": "1"}


def _tiny_sr_run(dataset: Path, tmp_path: Path) -> list[str]:
    """training.sr arguments of a tiny x2 run on the synthetic dataset, all output in tmp."""
    return ["--scale", "2", "--data", str(dataset), "--train-sets", "train", "--val-set", "val",
            "--val-images", "1", "--val-crop", "64", "--patch", "16", "--batch", "2",
            "--warmup", "1", "--val-every", "2", "--workers", "1",
            "--cache", str(tmp_path / "cache"), "--checkpoint-dir", str(tmp_path / "ck"),
            "--weights-dir", str(tmp_path / "w"), "--channels", "8", "--blocks", "1"]


def test_hint_patches_pair_the_decoded_hint_with_the_uncoded_one(cached: list[dict]) -> None:
    patches = data.HintPatches(cached, factors=(16,), qualities=(50,), patch=6)
    coded, L, factors, qualities, target = patches.sample(np.random.default_rng(0), 4)
    assert coded.shape == target.shape == (4, 2, 6, 6) and L.shape == (4, 1, 6, 6)
    assert factors == [16] * 4 and qualities == [50] * 4
    record = next(r for r in cached if float(np.abs(r["ab"]).max()) > 2.0)
    grid_target, grid_L, grid_coded = patches.grids[16][0]
    np.testing.assert_allclose(grid_target, downsample(record["ab"].astype(np.float32), 16) / 128)
    np.testing.assert_allclose(grid_L[0], downsample(record["L"], 16) / 100)
    np.testing.assert_array_equal(grid_coded[50], record["hint_f16_q50"] / np.float32(128))
    # the coding error is what is left to learn, small but not zero
    err = float((coded - target).abs().mean())
    assert 0 < err < 0.05
    assert patches.crop_size(16) == 6 and data.HintPatches(cached, factors=(32,)).crop_size(32) < 16


def test_distributed_training_exports_and_resumes(dataset: Path, tmp_path: Path) -> None:
    env = _env()
    common = [*_tiny_sr_run(dataset, tmp_path), "--log-every", "1"]
    out = _train([*common, "--steps", "3"], nproc=2, env=env)
    assert "world 2" in out and "step 3" in out
    ck = torch.load(tmp_path / "ck" / "sr_x2.pt", weights_only=True)
    assert ck["state"]["step"] == 3
    assert "optimizer" not in ck  # a finished run's checkpoint stays small
    net = load_network(tmp_path / "w" / "sr_x2.safetensors")
    assert isinstance(net, SuperResolution) and net.config["channels"] == 8
    entry = json.loads((tmp_path / "w" / "manifest.json").read_text())["networks"]["sr_x2"]
    assert {"command", "data", "steps", "wall_time_s", "validation"} <= entry.keys()
    assert "gain_db" in entry["validation"]

    out = _train([*common, "--steps", "5", "--resume"], nproc=1, env=env)
    assert "resumed" in out and "at step 3" in out and "Adam starts afresh" in out
    assert "step 4" in out and "step 1 " not in out
    assert torch.load(tmp_path / "ck" / "sr_x2.pt", weights_only=True)["state"]["step"] == 5


def test_sr_training_options(dataset: Path, tmp_path: Path) -> None:
    """--clean trains enhance's network from --init weights; --focus decides the score."""
    env = _env()
    common = [*_tiny_sr_run(dataset, tmp_path), "--steps", "2"]
    _train([*common, "--focus", "10,15", "--loss", "mse", "--bf16"], nproc=1, env=env)
    first = tmp_path / "w" / "sr_x2.safetensors"
    manifest = json.loads((tmp_path / "w" / "manifest.json").read_text())["networks"]
    metrics = manifest["sr_x2"]["validation"]
    assert metrics["gain_db"] == pytest.approx((metrics["gain_q10"] + metrics["gain_q15"]) / 2)
    _train([*common, "--clean", "--init", str(first), "--blocks", "3"], nproc=1, env=env)
    net = load_network(tmp_path / "w" / "sr_x2_clean.safetensors")
    assert net.config["blocks"] == 3  # --init's one block, grown to --blocks
    shrink = subprocess.run(
        [sys.executable, "-m", "training.sr", *common, "--clean", "--name", "shrunk", "--init",
         str(tmp_path / "w" / "sr_x2_clean.safetensors"), "--blocks", "2"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert shrink.returncode == 2 and "only grows" in shrink.stderr
    assert not (tmp_path / "w" / "shrunk.safetensors").exists()
    manifest = json.loads((tmp_path / "w" / "manifest.json").read_text())["networks"]
    assert set(manifest["sr_x2_clean"]["validation"]) == {"psnr_bicubic", "gain_bicubic",
                                                         "gain_db"}
    assert "bicubic-downsampled" in manifest["sr_x2_clean"]["data"]
    _train([*common, "--restored-input", "--name", "cascade"], nproc=1, env=env)
    assert load_network(tmp_path / "w" / "cascade.safetensors").restored_input
    manifest = json.loads((tmp_path / "w" / "manifest.json").read_text())["networks"]
    assert "restored by sr_x1 (sha256" in manifest["cascade"]["data"]
    assert manifest["cascade"]["restored_by"] == weights.read_manifest()["networks"]["sr_x1"][
        "sha256"]
    _train([*common, "--restored-input", "--input-restorer", "fast", "--name", "cascade_fast"],
           nproc=1, env=env)
    assert load_network(tmp_path / "w" / "cascade_fast.safetensors").input_restorer == "fast"
    entry = json.loads((tmp_path / "w" / "manifest.json").read_text())["networks"][
        "cascade_fast"]
    bundled = weights.read_manifest()["networks"]
    assert entry["restored_by"] == {n: bundled[n]["sha256"] for n in entry["restored_by"]}
    assert {"sr_x1", "sr_x1_fast"} <= set(entry["restored_by"])


def test_sr_training_of_a_cascade_on_a_candidate_restorer_and_of_efforts(
        dataset: Path, tmp_path: Path) -> None:
    """--restorer puts a weights file in place of a bundled restorer, recorded in
    restored_by; --efforts other than effort 1's are for the full-resolution restorers."""
    env = _env()
    common = [*_tiny_sr_run(dataset, tmp_path), "--steps", "2"]
    candidate = tmp_path / "candidate.safetensors"
    save_network(SuperResolution(1, channels=8, blocks=1, max_quality=20), candidate)
    _train([*common, "--restored-input", "--input-restorer", "fast", "--name", "on_candidate",
            "--restorer", f"sr_x1_fast={candidate}"], nproc=1, env=env)
    entry = json.loads((tmp_path / "w" / "manifest.json").read_text())["networks"][
        "on_candidate"]
    assert entry["restored_by"]["sr_x1_fast"] == weights.file_sha256(candidate)
    assert entry["restored_by"]["sr_x1"] == weights.read_manifest()["networks"]["sr_x1"][
        "sha256"]
    assert str(candidate) in entry["data"]
    for bad, message in ((["--restorer", f"sr_x1_fast={candidate}"], "--restored-input"),
                         (["--restored-input", "--input-restorer", "fast", "--restorer",
                           f"sr_x2={candidate}"], "names one of"),
                         (["--efforts", "1,2"], "need --scale 1"),
                         (["--efforts", "3"], "--efforts must be among")):
        proc = subprocess.run([sys.executable, "-m", "training.sr", *common, *bad], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_grown_sr_network_computes_what_it_was_grown_from() -> None:
    from training.sr import grow_blocks

    torch.manual_seed(0)
    net = SuperResolution(2, channels=8, blocks=2)
    for p in net.parameters():  # a trained-looking net: no zero layers anywhere
        torch.nn.init.normal_(p, std=0.1)
    grown = grow_blocks(net, 5)
    assert grown.config["blocks"] == 5 and len(grown.body) == 6
    x, q = torch.rand(1, 1, 12, 10), torch.tensor([0.15])
    torch.testing.assert_close(grown(x, q), net(x, q))
    assert grown.body[4].conv1.weight.abs().sum() > 0  # new blocks can learn


def test_transplanted_restorer_starts_as_bicubic_with_its_features() -> None:
    from lumacodec.resample import upsample_tensor
    from training.sr import transplant

    torch.manual_seed(0)
    restorer = SuperResolution(1, channels=8, blocks=2, unshuffle=4, max_quality=20)
    for p in restorer.parameters():
        torch.nn.init.normal_(p, std=0.1)
    net = transplant(restorer, 2)
    assert net.scale == 2 and net.unshuffle == 4 and net.max_quality is None
    for name, value in restorer.state_dict().items():
        if not name.startswith("tail."):
            torch.testing.assert_close(net.state_dict()[name], value)
    assert net.tail[0].weight.shape[0] == (2 * 4) ** 2
    x, q = torch.rand(1, 1, 12, 20), torch.tensor([0.15])
    torch.testing.assert_close(net(x, q), upsample_tensor(x, 2))


def test_colorizer_training_validates_the_requested_factors(dataset: Path, tmp_path: Path) -> None:
    env = _env()
    _train(["--data", str(dataset), "--train-sets", "train", "--val-set", "val",
            "--val-images", "1", "--val-crop", "64", "--patch", "64", "--batch", "2",
            "--warmup", "1", "--steps", "2", "--val-every", "2", "--workers", "1",
            "--factors", "8,16", "--widths", "8,8,8", "--loss", "ciede2000", "--bf16",
            "--hint-qualities", "50", "--restored-hints",
            "--cache", str(tmp_path / "cache"),
            "--checkpoint-dir", str(tmp_path / "ck"), "--weights-dir", str(tmp_path / "w")],
           nproc=1, env=env, module="training.color")
    net = load_network(tmp_path / "w" / "colorizer.safetensors")
    assert isinstance(net, Colorizer) and net.out_gain == 10.0 and net.hint_factors == (8, 16)
    metrics = json.loads((tmp_path / "w" / "manifest.json").read_text())["networks"][
        "colorizer"]["validation"]
    assert {"de_f8", "de_f16", "de_nohint", "de_rel", "de_score"} <= metrics.keys()
    assert not {"de_f4", "de_f32"} & metrics.keys()
    entry = json.loads((tmp_path / "w" / "manifest.json").read_text())["networks"]["colorizer"]
    restorer = weights.read_manifest()["networks"]["hint_restorer"]["sha256"]
    assert entry["hint_restored_by"] == restorer and "restored by" in entry["data"]
    # a fast colorizer (U-Net at 1/4) distilled from that one, on hinted patches only
    _train(["--data", str(dataset), "--train-sets", "train", "--val-set", "val",
            "--val-images", "1", "--val-crop", "64", "--patch", "64", "--batch", "2",
            "--warmup", "1", "--steps", "2", "--val-every", "2", "--workers", "1",
            "--factors", "8,16", "--widths", "8,8,8", "--unshuffle", "4", "--p-no-hint", "0",
            "--distill", str(tmp_path / "w" / "colorizer.safetensors"), "--name", "student",
            "--hint-qualities", "50", "--cache", str(tmp_path / "cache"),
            "--checkpoint-dir", str(tmp_path / "ck"), "--weights-dir", str(tmp_path / "w")],
           nproc=1, env=env, module="training.color")
    student = load_network(tmp_path / "w" / "student.safetensors")
    assert isinstance(student, Colorizer) and student.unshuffle == 4
    entry = json.loads((tmp_path / "w" / "manifest.json").read_text())["networks"]["student"]
    assert "distilled from colorizer.safetensors" in entry["data"]
    assert "de_nohint" not in entry["validation"] and "de_f16" in entry["validation"]


def test_distillation_adds_the_distance_to_the_teachers_colour() -> None:
    """``--distill``: the loss on the true a/b plus the weighted L1 distance to the teacher's
    a/b (in a/b units under CIEDE2000); a teacher equal to the model adds nothing."""
    from training.color import ColorTask

    torch.manual_seed(0)
    model = Colorizer(widths=(8, 8, 8), out_gain=10.0, unshuffle=4)
    torch.nn.init.normal_(model.out.weight, std=0.01)
    teacher = Colorizer(widths=(8, 8, 8), out_gain=10.0)
    torch.nn.init.normal_(teacher.out.weight, std=0.01)
    L, hint = torch.rand(2, 1, 32, 32), (torch.rand(2, 2, 32, 32) - 0.5) * 0.2
    target = (torch.rand(2, 2, 32, 32) - 0.5) * 0.2
    batch = (L, hint, [8, 16], target)
    cpu = torch.device("cpu")
    for kind, scale in (("l1", 1.0), ("ciede2000", 128.0)):
        plain = ColorTask(model, None, [], 32, loss_kind=kind)  # type: ignore[arg-type]
        taught = ColorTask(model, None, [], 32, loss_kind=kind,  # type: ignore[arg-type]
                           teacher=teacher, teacher_weight=0.5)
        with torch.no_grad():
            gap = (model(L, hint, [8, 16]) - teacher(L, hint, [8, 16])).abs().mean()
            assert gap > 0
            torch.testing.assert_close(taught.loss(model, batch, cpu),
                                       plain.loss(model, batch, cpu) + 0.5 * scale * gap)
            itself = ColorTask(model, None, [], 32, loss_kind=kind,  # type: ignore[arg-type]
                               teacher=model)
            torch.testing.assert_close(itself.loss(model, batch, cpu),
                                       plain.loss(model, batch, cpu))


def test_hint_restorer_training_exports_a_restorer(dataset: Path, tmp_path: Path) -> None:
    _train(["--data", str(dataset), "--train-sets", "train", "--val-set", "val",
            "--val-images", "1", "--batch", "2", "--warmup", "1", "--steps", "2",
            "--val-every", "2", "--workers", "1", "--factors", "8,32", "--hint-qualities",
            "50,60", "--channels", "8", "--blocks", "1", "--bf16",
            "--cache", str(tmp_path / "cache"), "--checkpoint-dir", str(tmp_path / "ck"),
            "--weights-dir", str(tmp_path / "w")], nproc=1, env=_env(), module="training.hint")
    net = load_network(tmp_path / "w" / "hint_restorer.safetensors")
    assert isinstance(net, HintRestorer)
    assert net.hint_factors == (8, 32) and net.hint_qualities == (50, 60)
    metrics = json.loads((tmp_path / "w" / "manifest.json").read_text())["networks"][
        "hint_restorer"]["validation"]
    assert {"de_f8", "de_f8_decoded", "de_f32", "de_rel"} <= metrics.keys()


def test_luma_cache_holds_exact_and_decoded_L_at_the_working_size(
    dataset: Path, tmp_path: Path
) -> None:
    from lumacodec.luma_colour import working_size
    from training import luma_data

    images = data.list_images(dataset, ["train"])[:2]
    files = luma_data.build_cache(images, tmp_path, variants=2, workers=1)
    photos = luma_data.load_photos(files)
    for image, photo in zip(images, photos, strict=True):
        qualities = luma_data.photo_qualities(image, 2)
        assert sorted(photo.L) == sorted(["L", *(f"L_q{q}" for q in qualities)])
        assert photo.L["L"].shape == working_size(128, 160) == photo.ab.shape[1:]
        assert photo.ab.dtype == np.int8 and np.abs(photo.ab).max() > 10
        for q in qualities:  # decoded, so close to the exact L but not equal
            diff = np.abs(photo.L[f"L_q{q}"].astype(int) - photo.L["L"])
            assert 0 < diff.mean() < 12
    patches = luma_data.LumaPatches(photos, patch=96, p_clean=0.5)
    L, ab, mask = patches.sample(np.random.default_rng(0), 3)
    assert L.shape == mask.shape == (3, 1, 96, 96) and ab.shape == (3, 2, 96, 96)
    assert 0 <= float(L.min()) and float(L.max()) <= 1 and float(mask.min()) == 1.0
    small = luma_data.LumaPatches(photos, patch=192)  # larger than the photos: padded, masked
    L, ab, mask = small.sample(np.random.default_rng(0), 2)
    assert 0 < float(mask.mean()) < 1


def test_luma_colorizer_training_exports_a_network_with_its_prior(
    dataset: Path, tmp_path: Path
) -> None:
    from lumacodec.networks import LumaColorizer

    _train(["--data", str(dataset), "--colour-sets", "train", "--train-sets", "",
            "--holdout", "3", "--patch", "64", "--batch", "2", "--warmup", "1", "--steps", "2",
            "--val-every", "2", "--workers", "1", "--widths", "8,8,8,8,8",
            "--decoder-widths", "8,8,8", "--bf16", "--cache", str(tmp_path / "cache"),
            "--checkpoint-dir", str(tmp_path / "ck"), "--weights-dir", str(tmp_path / "w")],
           nproc=1, env=_env(), module="training.luma_color")
    net = load_network(tmp_path / "w" / "luma_colorizer.safetensors")
    assert isinstance(net, LumaColorizer)
    prior = net.log_prior.exp()
    assert abs(float(prior.sum()) - 1) < 1e-3
    assert int(prior.argmax()) != 0 and float(prior.max()) > 10 / prior.numel()  # not uniform
    entry = json.loads((tmp_path / "w" / "manifest.json").read_text())["networks"][
        "luma_colorizer"]
    assert {"de_clean", "de_clean_grey", "de_decoded", "bias_a", "bias_b", "de_rel"} <= \
        entry["validation"].keys()
    assert "1 held out" in entry["data"]


def test_ciede2000_loss_is_scikit_image_s_formula_with_finite_gradients() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    ref = np.stack([rng.uniform(0, 100, n), rng.uniform(-90, 90, n), rng.uniform(-90, 90, n)], 1)
    test = ref + rng.normal(0, 6, ref.shape)
    test[:100, 1:] = 0  # grey against colour, both ways: the zero-chroma branches
    ref[100:200, 1:] = 0
    test[200:300] = ref[200:300]  # identical pixels
    ref[300:400, 1:] = [[-40, -1e-3]] * 100  # hues on either side of the ±180° cut
    test[300:400, 1:] = [[-40, 1e-3]] * 100
    expected = deltaE_ciede2000(ref, test)

    def tensor(x: np.ndarray) -> torch.Tensor:
        return torch.tensor(x.T[None, :, :, None], dtype=torch.float64)

    pred = tensor(test).requires_grad_(True)
    got = ciede2000(tensor(ref), pred)[0, :, 0]
    np.testing.assert_allclose(got.detach().numpy(), expected, atol=1e-5)
    got.sum().backward()
    assert torch.isfinite(pred.grad).all()
    assert pred.grad[0, 1:, 200:300].abs().max() == 0  # at the minimum nothing pulls


def test_adopt_promotes_a_network_with_its_manifest_entry(tmp_path: Path) -> None:
    from training.adopt import adopt, quality_bounds

    run, bundle = tmp_path / "run", tmp_path / "bundle"
    run.mkdir()
    bundle.mkdir()
    save_network(SuperResolution(2, channels=8, blocks=1), run / "x2_try.safetensors")
    weights.write_manifest_entry("x2_try", run / "x2_try.safetensors", run, command="cmd",
                                 steps=7, validation={"gain_db": 0.3})
    target = adopt(run, "x2_try", "sr_x2", bundle)
    entry = weights.read_manifest(bundle)["networks"]["sr_x2"]
    assert target == bundle / "sr_x2.safetensors" and entry["file"] == "sr_x2.safetensors"
    assert entry["sha256"] == weights.file_sha256(target)
    assert entry["command"] == "cmd" and entry["steps"] == 7
    assert entry["validation"] == {"gain_db": 0.3}
    halved = adopt(run, "x2_try", "sr_x2_half", bundle, half=True)
    entry = weights.read_manifest(bundle)["networks"]["sr_x2_half"]
    assert entry["stored_as"] == "float16" and entry["steps"] == 7
    assert halved.stat().st_size < 0.6 * target.stat().st_size
    assert isinstance(load_network(halved), SuperResolution)
    capped = adopt(run, "x2_try", "sr_x2_capped", bundle, qualities=quality_bounds(":20"))
    assert load_network(capped).max_quality == 20 and load_network(target).max_quality is None
    entry = weights.read_manifest(bundle)["networks"]["sr_x2_capped"]
    assert entry["max_quality"] == 20 and "stored_as" not in entry
    shutil.copyfile(capped, run / capped.name)  # re-bounded: above 20 only
    weights.write_manifest_entry("capped", run / capped.name, run, steps=8)
    fine = load_network(adopt(run, "capped", "sr_x2_fine", bundle, qualities=(20, None)))
    assert (fine.min_quality, fine.max_quality) == (20, None)
    assert not fine.handles(20) and fine.handles(21) and fine.handles(100)
    entry = weights.read_manifest(bundle)["networks"]["sr_x2_fine"]
    assert entry["min_quality"] == 20 and "max_quality" not in entry
    (run / "x2_try.safetensors").write_bytes(b"changed since export")
    with pytest.raises(ValueError, match="does not match"):
        adopt(run, "x2_try", "sr_x2", bundle)


# --- guided colour (training.guided_data, training.guided_color) ----------------------------


def test_simulated_clicks_land_inside_regions_with_their_mean_colour() -> None:
    from training.guided_data import click_map, dense_guidance, point_count, simulate_marks

    L = np.full((40, 60), 30.0, np.float32)
    L[:, 30:] = 70.0  # one edge, down the middle
    ab = np.zeros((2, 40, 60), np.float32)
    ab[0, :, 30:] = 25.0
    where = click_map(L)
    assert where[:, :25].all() and not where[:, 29:31].any()  # never on the edge
    rng = np.random.default_rng(0)
    marks = simulate_marks(L, ab, 50, rng)
    assert len(marks) == 50 and simulate_marks(L, ab, 0, rng) == []
    for _, x, _, a, b in marks:
        assert abs(x - 29.5) > 1 and b == 0.0
        assert a == (25.0 if x >= 30 else 0.0)  # the square's mean: one region's colour
    counts = [point_count(rng, 0.25) for _ in range(2000)]
    assert 0.2 < np.mean(np.array(counts) == 0) < 0.3 and max(counts) <= 30
    known, mask = dense_guidance(ab, rng)
    assert known.shape == ab.shape and 0 < mask.mean() < 1


def test_guided_patches_carry_points_and_references() -> None:
    from lumacodec.networks.guided_colorizer import reference_size
    from training.guided_data import GuidedPatches
    from training.luma_data import Photo

    rng = np.random.default_rng(2)
    photos = [Photo({"L": rng.integers(0, 256, (48, 64)).astype(np.uint8)},
                    rng.normal(0, 20, (2, 48, 64)).astype(np.int8)) for _ in range(3)]
    patches = GuidedPatches(photos, ["a", "a", "b"], patch=32, p_none=0.0, p_reference=1.0)
    L, ab, mask, planes, refs = patches.sample(rng, 4)
    assert planes.shape == (4, 3, 32, 32) and refs.shape == (4, reference_size(10))
    assert (planes[:, 2].flatten(1).amax(1) == 1).all()  # every crop has a point
    assert (refs[:, -1] == 1).all()  # and a reference


def test_guided_colour_training_exports_a_guided_network(dataset: Path, tmp_path: Path
                                                        ) -> None:
    from lumacodec.networks import GuidedColorizer, LumaColorizer

    init = tmp_path / "luma.safetensors"
    save_network(LumaColorizer(widths=(8, 8, 8, 8, 8), decoder_widths=(8, 8, 8), bin_step=20.0),
                 init)
    _train(["--data", str(dataset), "--colour-sets", "train", "--train-sets", "",
            "--holdout", "3", "--patch", "64", "--batch", "2", "--warmup", "1", "--steps", "2",
            "--val-every", "2", "--workers", "1", "--init", str(init),
            "--cache", str(tmp_path / "cache"), "--checkpoint-dir", str(tmp_path / "ck"),
            "--weights-dir", str(tmp_path / "w")],
           nproc=1, env=_env(), module="training.guided_color")
    net = load_network(tmp_path / "w" / "guided_colorizer.safetensors")
    assert isinstance(net, GuidedColorizer) and net.reference_bins == 10
    entry = json.loads((tmp_path / "w" / "manifest.json").read_text())["networks"][
        "guided_colorizer"]
    assert {"de_p0_rel", "de_p1_rel", "de_p5_rel", "de_p10_rel", "de_ref_rel", "bias_a",
            "bias_b", "de_rel"} <= entry["validation"].keys()
