"""Folder transcoding on Ray (lumacodec.ray_engine, engine="ray"): the same outputs, byte for
byte, and the same summary as the local engine in one process, on a local Ray instance with
2 CPUs started by the first call; the command line's --engine ray.  Skipped without Ray
(``pip install lumacodec[ray]``; the ``dev`` extra has it, so CI runs these): about 35 s on
2 cores, most of it Ray and its actors starting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from test_batch import tiny_photo, tree

import lumacodec
from lumacodec.batch import Summary
from lumacodec.cli import main
from lumacodec.errors import LumacodecError

ray = pytest.importorskip("ray")

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context"),  # Ray's own
]

#: The images of the ``photos`` fixture, by path relative to the folder.
PHOTOS = ("a.png", "b.jpg", "sub/c.webp", "sub/deeper/d.png")


@pytest.fixture(scope="module", autouse=True)
def ray_down_at_the_end() -> Iterator[None]:
    """The first engine="ray" call starts a local Ray (2 CPUs: jobs=2) that the others reuse;
    shut it down when the module is done."""
    assert not ray.is_initialized()
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """photos/: four 32x24 images in nested folders and a truncated JPEG."""
    root = tmp_path_factory.mktemp("ray") / "photos"
    for seed, rel in enumerate(PHOTOS):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(tiny_photo(seed)).save(root / rel)
    (root / "sub" / "broken.jpg").write_bytes((root / "b.jpg").read_bytes()[:40])
    return root


def same_outputs(local: Path, on_ray: Path) -> None:
    """The same files under both folders, byte for byte."""
    assert tree(local) == tree(on_ray)
    for rel in tree(local):
        assert (on_ray / rel).read_bytes() == (local / rel).read_bytes(), rel


def same_summary(local: Summary, on_ray: Summary) -> None:
    """Every figure of the two summaries but the wall time."""
    assert (on_ray.done, on_ray.skipped, on_ray.failed) == (local.done, local.skipped,
                                                            local.failed)
    assert (on_ray.bytes_in, on_ray.bytes_out) == (local.bytes_in, local.bytes_out)
    assert on_ray.mean_bpp == pytest.approx(local.mean_bpp)


def test_encode_and_decode_as_the_local_engine(photos: Path, tmp_path: Path) -> None:
    local = lumacodec.encode_files(photos, tmp_path / "local", quality=3, jobs=1)
    on_ray = lumacodec.encode_files(photos, tmp_path / "ray", quality=3, jobs=2, engine="ray")
    assert ray.is_initialized() and ray.cluster_resources()["CPU"] == 2
    same_summary(local, on_ray)
    assert local.done == 4 and len(local.failed) == 1
    path, reason = on_ray.failed[0]  # the corrupt file: recorded, not raised
    assert path == photos / "sub" / "broken.jpg" and "not a readable image" in reason
    same_outputs(tmp_path / "local", tmp_path / "ray")
    assert tree(tmp_path / "ray") == {str(Path(r).with_suffix(".lmc").as_posix()) for r in PHOTOS}

    again = lumacodec.encode_files(photos, tmp_path / "ray", quality=3, jobs=2, engine="ray")
    assert (again.done, again.skipped, len(again.failed)) == (0, 4, 1)  # resumed: only the bad

    for enhance in (False, True):  # classical, then the networks (loaded once per actor)
        streams, name = tmp_path / "ray", f"png-{enhance}"
        local = lumacodec.decode_files(streams, tmp_path / "local" / name, enhance=enhance,
                                       device="cpu")
        on_ray = lumacodec.decode_files(streams, tmp_path / "ray" / name, enhance=enhance,
                                        device="cpu", jobs=2, engine="ray")
        same_summary(local, on_ray)
        assert on_ray.done == 4 and on_ray.ok
        same_outputs(tmp_path / "local" / name, tmp_path / "ray" / name)


def test_command_line(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["encode", str(photos), str(out), "-q", "3", "--jobs", "2",
                                       "--engine", "ray"])
    assert result.exit_code == 1  # the corrupt file
    assert "4 done, 0 skipped, 1 failed" in result.stdout
    assert f"{photos / 'sub' / 'broken.jpg'} is not a readable image" in result.stderr
    expected = lumacodec.encode(Image.open(photos / "a.png"), 3)
    assert (out / "a.lmc").read_bytes() == expected


def test_cuda_without_a_gpu(photos: Path, tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("a local Ray has this machine's GPU")
    lumacodec.encode_files(photos / "a.png", tmp_path / "streams")
    with pytest.raises(LumacodecError, match="device='cuda' but the Ray cluster has no GPU"):
        lumacodec.decode_files(tmp_path / "streams", tmp_path / "png", device="cuda",
                               engine="ray")


def test_an_address_where_nothing_listens_is_refused_at_once() -> None:
    """``ray.init`` would retry for minutes; a closed port on this machine is refused before."""
    from lumacodec import ray_engine

    for address in ("127.0.0.1:1", "ray://127.0.0.1:1"):
        with pytest.raises(lumacodec.LumacodecError, match=f"cannot reach the Ray cluster at "
                                                           f"{address}"):
            ray_engine._check_reachable(address)
    ray_engine._check_reachable("auto")  # left to ray.init
