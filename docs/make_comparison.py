"""Make the visual comparison page of the documentation: docs/comparison.md and its images.

For each of a few sample photos bundled with scikit-image:

- **codecs at one file size**: the photo coded by lumacodec's default encode (at the highest
  quality whose stream is at most ``BPP`` bits per pixel), by its best mode (effort 2, the highest
  quality that fits that stream's size), and
  by JPEG, WebP and AVIF (Pillow), each at the highest quality whose file is not larger than
  the default encode's, all decoded, and the same crop of each shown enlarged;
- **colour for enhance**: the photo's lightness alone (grey), ``lumacodec.enhance`` on it
  with no help (automatic colour), the same with a few colour points taken from the original
  (guided colour: ``enhance(grey, 1, points=[(x, y, "#rrggbb"), ...])``), and the original.

Run from the repository root (about two minutes on one CPU thread)::

    python docs/make_comparison.py

The images are small JPEGs under docs/_static/comparison/ (committed, under 3 MB in all);
the page is rewritten whole, so edit this script rather than the page.
"""

from __future__ import annotations

import argparse
import io
import os
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

import lumacodec  # noqa: E402
from lumacodec.color import rgb_to_lab  # noqa: E402

DOCS = Path(__file__).resolve().parent
OUT = DOCS / "_static" / "comparison"
PAGE = DOCS / "comparison.md"

#: Sample photo → (crop top, crop left) of the enlarged crop, chosen for detail.
PHOTOS = {
    "astronaut": (40, 150),
    "coffee": (200, 300),
    "chelsea": (60, 160),
}
CROP = 150  # pixels of the photo
ZOOM = 2  # the crop is shown at twice its size (nearest neighbour: the pixels as decoded)
#: The file size of every codec's image: bits per pixel of the whole photo.
BPP = 0.25
#: Colour points taken from the original for guided colour.
N_POINTS = 8
JPEG_QUALITY = 88  # of the images on the page, not of the comparison


@dataclass
class Coded:
    """One codec's image of a photo."""

    label: str
    rgb: np.ndarray
    size: int | None  # bytes of the file; None for the original


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse)) if mse > 0 else float("inf")


def pillow_at_size(rgb: np.ndarray, fmt: str, budget: int, qualities: range,
                   **options: object) -> tuple[bytes, int]:
    """The file of the highest quality whose size is at most ``budget`` (the lowest quality
    if none fits), by bisection over ``qualities`` (sizes grow with quality)."""

    def code(q: int) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, fmt, quality=q, **options)
        return buf.getvalue()

    lo, hi = 0, len(qualities) - 1
    best = (code(qualities[0]), qualities[0])
    while lo <= hi:
        mid = (lo + hi) // 2
        blob = code(qualities[mid])
        if len(blob) <= budget:
            best, lo = (blob, qualities[mid]), mid + 1
        else:
            hi = mid - 1
    return best


def decode_pillow(blob: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(blob)) as im:
        return np.asarray(im.convert("RGB"))


def lumacodec_at_size(rgb: np.ndarray, budget: int, effort: int) -> tuple[bytes, int]:
    """The stream of the highest quality (the default encode: settings chosen per image)
    whose size is at most ``budget``, and that quality (quality 1's if none fits)."""
    lo, hi, best = 1, len(lumacodec.QUALITIES), None
    while lo <= hi:
        mid = (lo + hi) // 2
        stream = lumacodec.encode(rgb, quality=mid, effort=effort)
        if len(stream) <= budget or best is None and mid == 1:
            best, lo = (stream, mid), mid + 1
        else:
            hi = mid - 1
    if best is None:
        best = (lumacodec.encode(rgb, quality=1, effort=effort), 1)
    return best


def codecs(rgb: np.ndarray) -> list[Coded]:
    """The photo from each codec at (at most) the same number of bytes: lumacodec's default
    encode at the highest quality that fits ``BPP``, then best mode and each other codec at
    the highest quality whose file is not larger than that stream."""
    h, w = rgb.shape[:2]
    out = [Coded("original", rgb, None)]
    stream, q = lumacodec_at_size(rgb, int(BPP * h * w / 8), 1)
    budget = len(stream)
    best, q_best = lumacodec_at_size(rgb, budget, 2)
    for label, data_ in ((f"lumacodec -q {q}", stream),
                         (f"lumacodec best: -q {q_best} --effort 2", best)):
        out.append(Coded(label, np.asarray(lumacodec.decode(data_, device="cpu")), len(data_)))
    for label, fmt, qualities, options in (
        ("AVIF", "AVIF", range(0, 101), {"speed": 6}),
        ("WebP", "WEBP", range(0, 101), {}),
        ("JPEG", "JPEG", range(1, 96), {}),
    ):
        blob, quality = pillow_at_size(rgb, fmt, budget, qualities, **options)
        out.append(Coded(f"{label} quality {quality}", decode_pillow(blob), len(blob)))
    return out


def colour_points(rgb: np.ndarray, count: int) -> list[tuple[int, int, str]]:
    """A few points a person might give: on a grid over the photo, the most colourful place
    first, then each time the place whose colour differs most from those chosen (so the
    neutral and dark regions get their point too), spread apart; each with the original's
    colour there (the median of a small patch)."""
    h, w = rgb.shape[:2]
    lab = rgb_to_lab(rgb)
    candidates = []
    for y in np.linspace(h * 0.08, h * 0.92, 9).astype(int):
        for x in np.linspace(w * 0.08, w * 0.92, 9).astype(int):
            rows, cols = slice(max(0, y - 3), y + 4), slice(max(0, x - 3), x + 4)
            colour = np.median(rgb[rows, cols].reshape(-1, 3), axis=0).astype(int)
            mean_lab = np.median(lab[rows, cols].reshape(-1, 3), axis=0)
            candidates.append((int(x), int(y), colour, mean_lab))
    first = max(candidates, key=lambda c: float(np.hypot(c[3][1], c[3][2])))
    chosen = [first]
    while len(chosen) < count:
        def novelty(c: tuple) -> float:
            if any(np.hypot(c[0] - o[0], c[1] - o[1]) < 0.15 * max(h, w) for o in chosen):
                return -1.0
            return min(float(np.linalg.norm((c[3] - o[3]) * (0.5, 1, 1))) for o in chosen)

        best = max(candidates, key=novelty)
        if novelty(best) < 0:
            break
        chosen.append(best)
    return [(x, y, "#{:02x}{:02x}{:02x}".format(*colour)) for x, y, colour, _ in chosen]


def colours(rgb: np.ndarray) -> tuple[list[Coded], list[tuple[int, int, str]]]:
    """Grey, automatic colour, guided colour and the original, and the points used."""
    grey = np.asarray(Image.fromarray(rgb).convert("L"))
    points = colour_points(rgb, N_POINTS)
    auto = lumacodec.enhance(Image.fromarray(grey), 1, device="cpu")
    guided = lumacodec.enhance(Image.fromarray(grey), 1, points=points, device="cpu")
    grey_rgb = np.repeat(grey[..., None], 3, axis=2)
    return [Coded("grey (the input)", grey_rgb, None),
            Coded("automatic colour", np.asarray(auto), None),
            Coded(f"guided: {len(points)} points", np.asarray(guided), None),
            Coded("original", rgb, None)], points


def save_jpeg(rgb: np.ndarray, name: str) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(OUT / name, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return f"_static/comparison/{name}"


def crop(rgb: np.ndarray, top: int, left: int) -> np.ndarray:
    part = rgb[top:top + CROP, left:left + CROP]
    return part.repeat(ZOOM, axis=0).repeat(ZOOM, axis=1)


def mark_points(rgb: np.ndarray, points: list[tuple[int, int, str]]) -> np.ndarray:
    """The picture with each point drawn as a ringed square of its colour (sized to be seen
    on the page's thumbnail)."""
    marked = rgb.copy()
    r = max(4, rgb.shape[1] // 60)
    for x, y, colour in points:
        value = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
        marked[max(0, y - r - 2):y + r + 3, max(0, x - r - 2):x + r + 3] = 255
        marked[max(0, y - r - 1):y + r + 2, max(0, x - r - 1):x + r + 2] = 0
        marked[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1] = value
    return marked


def thumbnail(rgb: np.ndarray, width: int = 300) -> np.ndarray:
    h, w = rgb.shape[:2]
    size = (width, round(h * width / w))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))


def figure(src: str, caption: str) -> str:
    return (f'<figure class="cmp-item"><img src="{src}" alt="{caption}" loading="lazy">'
            f"<figcaption>{caption}</figcaption></figure>")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", default=",".join(PHOTOS),
                        help="comma-separated sample photos of skimage.data")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for old in OUT.glob("*.jpg"):
        old.unlink()
    codec_html, colour_html, gains = [], [], []
    for name in args.photos.split(","):
        rgb = getattr(data, name)()
        top, left = PHOTOS[name]
        h, w = rgb.shape[:2]
        items = []
        coded_all = codecs(rgb)
        by_codec = {c.label.split(" ")[0]: psnr(rgb, c.rgb) for c in coded_all[1:]
                    if "best" not in c.label}
        gains.append(f"{by_codec['lumacodec'] - by_codec['AVIF']:+.2f} dB ({name})")
        for coded in coded_all:
            slug = coded.label.split(" ")[0].lower() + ("-best" if "best" in coded.label else "")
            src = save_jpeg(crop(coded.rgb, top, left), f"{name}-{slug}.jpg")
            if coded.size is None:
                caption = "original"
            else:
                caption = (f"{coded.label}<br>{coded.size:,} bytes, "
                           f"{coded.size * 8 / (h * w):.3f} bpp, "
                           f"PSNR {psnr(rgb, coded.rgb):.2f} dB")
            items.append(figure(src, caption))
        codec_html.append(f"### {name} ({w}×{h})\n\n<div class=\"cmp-grid\">\n"
                          + "\n".join(items) + "\n</div>\n")
        shown, points = colours(rgb)
        items = []
        for coded, slug in zip(shown, ("grey", "auto", "guided", "original"), strict=True):
            picture = mark_points(coded.rgb, points) if slug == "guided" else coded.rgb
            items.append(figure(save_jpeg(thumbnail(picture), f"{name}-colour-{slug}.jpg"),
                                coded.label))
        colour_html.append(f"### {name}\n\n<div class=\"cmp-grid cmp-colour\">\n"
                           + "\n".join(items) + "\n</div>\n\n"
                           + "Points: " + ", ".join(f"`({x}, {y}, \"{c}\")`"
                                                    for x, y, c in points) + "\n")
    total = sum(p.stat().st_size for p in OUT.glob("*.jpg"))
    PAGE.write_text(PAGE_TEMPLATE.format(
        bpp=BPP, crop=CROP, zoom=ZOOM, n_points=N_POINTS, kb=total // 1024,
        codecs="\n".join(codec_html), colours="\n".join(colour_html), gains=", ".join(gains),
        version=lumacodec.__version__,
    ), encoding="utf-8")
    print(f"wrote {PAGE} and {len(list(OUT.glob('*.jpg')))} images ({total / 1e6:.2f} MB)")


PAGE_TEMPLATE = """\
<!-- Generated by docs/make_comparison.py: edit the script, then run it again. -->

# Visual comparison

What lumacodec does to a photo, against the usual codecs at the same file size, and what
`lumacodec enhance` makes of a grey photo. Every image below was made by
`python docs/make_comparison.py` from the sample photos bundled with scikit-image
(lumacodec {version}, on the CPU), not by hand.

## The same file size

Each photo is coded by lumacodec's default encode at the highest quality whose stream is at
most {bpp} bits per pixel; that stream's size is the budget of the others: lumacodec's best
mode (`--effort 2`), AVIF (libaom through Pillow, speed 6), WebP and JPEG, each at the
highest quality whose file fits. The crops are {crop}×{crop} pixels of the decoded photo,
shown {zoom}× enlarged so that the artefacts can be seen; the PSNR is that of the whole photo.
lumacodec's ten qualities are about 1.4× apart in size, so best mode's file (the largest
that fits) can be well under the budget; JPEG cannot get that small on every photo: its file
is then its smallest, and larger. (Rate control, `--target-size`, would match the size
exactly, but it does not yet make the per-image choice of settings that the default encode
makes, and lost up to 2.9 dB of PSNR to it on these photos.)

{codecs}

PSNR of the whole photo at this size, lumacodec's default encode against AVIF: {gains}.
lumacodec spends its bits on lightness; colour comes back from a small hint and the
networks, so a colour detail finer than the hint comes back muted or bleeds a little. The
figures over whole data sets are on the [results](results.md) page.

## Colour for old photos

`lumacodec enhance` on the photo's lightness alone: the grey input, the automatic colour
(no help: `lumacodec enhance grey.png out.png --scale 1`), guided colour from {n_points}
colour points taken from the original (marked on the result; `--points points.json`, or
`lumacodec.enhance(grey, 1, points=[(x, y, "#rrggbb"), ...])`), and the original.

{colours}

Automatic colour is plausible but muted: nothing in the grey says that the suit was orange
or the saucer red. A few points say it, and the network spreads each colour over the region
it belongs to — and somewhat beyond, where the grey does not show an edge.
"""


if __name__ == "__main__":
    main()
