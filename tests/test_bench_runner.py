"""End-to-end runs of the benchmark on a tiny data set: outputs, agreement with an
independent computation, the result cache, the command line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from lumacodec.bench import run_bench
from lumacodec.bench.cli import bench_command

JPEG_Q = [10, 40, 80]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two 176x176 crops of scikit-image photos (big enough for MS-SSIM)."""
    from skimage import data

    root = tmp_path_factory.mktemp("images")
    Image.fromarray(data.astronaut()[60:236, 180:356]).save(root / "a.png")
    Image.fromarray(data.coffee()[120:296, 220:396]).save(root / "b.png")
    return root


@pytest.fixture(scope="module")
def run(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    ref = out.parent / "ref.json"
    ref.write_text(
        json.dumps({"name": "Published", "results": {"bpp": [0.3, 1.0], "psnr-rgb": [28, 34]}})
    )
    run_bench(
        str(folder),
        ["jpeg", "webp"],
        out,
        references=[ref],
        qualities={"jpeg": JPEG_Q, "webp": [20, 70]},
        sheet_bpp=[0.5],
        progress=False,
    )
    return out


def independent_jpeg_curve(folder: Path, qualities: list[int]) -> tuple[list[float], list[float]]:
    """Pillow + numpy only: mean bpp and mean PSNR-RGB over the images, per quality."""
    bpps, psnrs = [], []
    for q in qualities:
        b, p = [], []
        for path in sorted(folder.glob("*.png")):
            rgb = np.asarray(Image.open(path).convert("RGB"))
            buf = io.BytesIO()
            Image.fromarray(rgb).save(buf, format="JPEG", quality=q)
            rec = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
            mse = np.mean((rgb.astype(np.float64) - rec) ** 2)
            b.append(len(buf.getvalue()) * 8 / (rgb.shape[0] * rgb.shape[1]))
            p.append(10 * np.log10(255**2 / mse))
        bpps.append(float(np.mean(b)))
        psnrs.append(float(np.mean(p)))
    return bpps, psnrs


def test_outputs(run: Path) -> None:
    for name in (
        "summary.md",
        "per_image.csv",
        "rd-psnr-rgb.png",
        "rd-ms-ssim-rgb.png",
        "rd-color.png",
        "comparison.png",
        "bd.json",
        "run.json",
    ):
        assert (run / name).is_file(), name
    curve = json.loads((run / "webp.json").read_text())
    assert curve["name"] == "webp"
    assert set(curve["results"]) >= {
        "bpp",
        "psnr-rgb",
        "ms-ssim-rgb",
        "psnr-l",
        "ssim-rgb",
        "ciede2000",
        "encoding_time",
        "decoding_time",
    }
    rows = list(csv.DictReader((run / "per_image.csv").open()))
    assert len(rows) == 2 * (3 + 2) and rows[0]["image"] == "a.png"
    summary = (run / "summary.md").read_text()
    assert "| jpeg |" in summary and "vs jpeg" in summary and "Published" in summary
    bd = json.loads((run / "bd.json").read_text())
    assert bd["bd-rate-psnr-rgb"]["webp"]["jpeg"]["value"] < 0  # WebP beats JPEG
    with Image.open(run / "comparison.png") as sheet:
        assert sheet.width > 3 * 176


def test_jpeg_curve_agrees_with_an_independent_computation(run: Path, folder: Path) -> None:
    results = json.loads((run / "jpeg.json").read_text())["results"]
    bpp, psnr = independent_jpeg_curve(folder, JPEG_Q)
    assert results["quality"] == JPEG_Q
    np.testing.assert_allclose(results["bpp"], bpp, rtol=0, atol=1e-12)
    np.testing.assert_allclose(results["psnr-rgb"], psnr, rtol=0, atol=0.01)


def test_second_run_computes_nothing(run: Path, folder: Path) -> None:
    first = json.loads((run / "run.json").read_text())
    assert first["computed"] == 10 and first["cached"] == 0
    kwargs = dict(qualities={"jpeg": JPEG_Q, "webp": [20, 70]}, sheet_bpp=[0.5], progress=False)
    run_bench(str(folder), ["jpeg", "webp"], run, **kwargs)
    again = json.loads((run / "run.json").read_text())
    assert again["computed"] == 0 and again["cached"] == 10 and again["tasks"] == 0
    kwargs["qualities"] = {"jpeg": [*JPEG_Q, 95], "webp": [20, 70]}
    run_bench(str(folder), ["jpeg", "webp"], run, **kwargs)
    more = json.loads((run / "run.json").read_text())
    assert more["computed"] == 2 and more["cached"] == 10  # only the new quality, per image


def test_cli(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    args = [
        "--dataset",
        str(folder),
        "--codecs",
        "jpeg",
        "--qualities",
        "jpeg=20,60",
        "--output",
        str(out),
        "--limit",
        "1",
        "--no-progress",
    ]
    result = CliRunner().invoke(bench_command, args)
    assert result.exit_code == 0, result.output
    assert (out / "summary.md").is_file() and (out / "jpeg.json").is_file()
    assert "--limit 1" in json.loads((out / "run.json").read_text())["command"]
    bad = CliRunner().invoke(bench_command, ["--dataset", str(tmp_path / "nope")])
    assert bad.exit_code != 0 and "dataset folder not found" in bad.output
    bad = CliRunner().invoke(bench_command, ["--dataset", str(folder), "--codecs", "bpg"])
    assert bad.exit_code != 0 and "unknown codec" in bad.output


@pytest.mark.slow
def test_parallel_jobs_give_the_same_numbers(folder: Path, tmp_path: Path) -> None:
    kwargs = dict(
        codecs=["jpeg", "avif"],
        qualities={"jpeg": [30], "avif": [40]},
        sheet_bpp=[0.5],
        progress=False,
    )
    run_bench(str(folder), output=tmp_path / "one", jobs=1, **kwargs)
    run_bench(str(folder), output=tmp_path / "two", jobs=2, **kwargs)
    for name in ("jpeg", "avif"):
        one = json.loads((tmp_path / "one" / f"{name}.json").read_text())["results"]
        two = json.loads((tmp_path / "two" / f"{name}.json").read_text())["results"]
        for key in ("bpp", "psnr-rgb", "ms-ssim-rgb", "ciede2000"):
            assert one[key] == pytest.approx(two[key], rel=1e-6), (name, key)


def test_the_most_colourful_quarter_is_chosen_by_chroma(tmp_path: Path) -> None:
    from lumacodec.bench.datasets import load_dataset
    from lumacodec.bench.report import most_colourful

    for i in range(16):  # from grey (0) to saturated red (15), named out of that order
        rgb = np.full((16, 16, 3), 128, np.uint8)
        rgb[..., 0] = 128 + 8 * i
        Image.fromarray(rgb).save(tmp_path / f"{(5 * i) % 16:02d}.png")
    dataset = load_dataset(str(tmp_path))
    assert most_colourful(dataset, 0.25) == [f"{(5 * i) % 16:02d}.png" for i in (15, 14, 13, 12)]
    assert most_colourful(dataset, 0.2) == []  # under four images: no subset


def test_ladder_breaks_name_the_images_where_a_quality_is_no_larger() -> None:
    from lumacodec.bench.codecs import make_codecs
    from lumacodec.bench.report import ladder_breaks

    codecs, _ = make_codecs(["jpeg", "lumacodec"], qualities={"jpeg": [10, 50, 90]})
    records = [{"codec": "jpeg", "image": i, "quality": q, "bytes": b}
               for i, sizes in (("a", (10, 20, 30)), ("b", (10, 30, 30))) for q, b in
               zip((10, 50, 90), sizes, strict=True)]
    records += [{"codec": c, "image": i, "quality": q, "bytes": q}
                for c in ("lumacodec", "lumacodec-classical") for i in "ab" for q in range(1, 11)]
    assert ladder_breaks(records, codecs, ["a", "b"]) == {"jpeg": ["b"], "lumacodec": []}
