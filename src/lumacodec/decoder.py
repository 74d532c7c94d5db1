"""Decoder: a ``.lmc`` stream back to pixels.

::

    bytes → parse + CRCs → base plane ─→ L_low ─→ SR ×scale (network) ──→ L ─────────────┐
                          hint plane ─→ a|b ─→ hint restorer(a|b, L on the hint grid)   │
                                     ─→ bicubic ─→ colorizer(L, hint) ─→ a,b ─→ Lab → RGB
                          (no hint: colour from L alone, lumacodec.luma_colour ─→ a,b)

At scale 1 the "SR" network is the ×1 restoration network (coding artefacts out, no upsampling).

With ``enhance=False`` both networks are replaced by their classical counterparts (bicubic L,
bicubic hint or grey): the honest baseline the networks must beat.  Everything that decides
how bits are read happens before any network runs, so the structure of the output never
depends on floating-point results.

Big images: each network runs on overlapping tiles once the image is larger than one piece
(:data:`WHOLE`), each tile reading its network's receptive radius of context and writing
straight into the output plane, and the Lab → RGB conversion goes a strip of rows at a time;
a full-size plane is dropped as soon as it has been used.  Beyond the planes themselves (L,
the bicubic hint and a/b: 20 bytes a pixel) memory is that of one tile, and a 24-megapixel
photo decodes in 1.35 GB (benchmarks/results/big-image.md).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from . import weights
from .baselayer import LOSSLESS_QUALITY, decode_base, upsample_base
from .color import AB_OFFSET, L_to_grey_u8, planes_to_rgb_u8
from .container import Header, parse
from .errors import LumacodecError
from .hints import decode_hint, upsample_hint
from .luma_colour import check_colour, colour_from_luma
from .networks import SuperResolution
from .networks.colorizer import NO_HINT_LOWPASS, Colorizer
from .progress import report
from .resample import downsample


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` picks CUDA when available, else the CPU; an unavailable CUDA is an error."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise LumacodecError(f"unknown device {device!r} (use 'cpu' or 'cuda')") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise LumacodecError("device 'cuda' requested but no CUDA GPU is available")
    if dev.type not in ("cpu", "cuda"):
        raise LumacodecError(f"unsupported device {device!r} (use 'cpu' or 'cuda')")
    return dev


def _networks_for(header: Header, networks: weights.NetworkSet | None) -> weights.NetworkSet:
    """The set to run: the stream's own, or an earlier set this one still decodes exactly; a
    stream or a set with the all-zero id matches any (experiments)."""
    nets = networks if networks is not None else weights.bundled()
    kind = ("hinted" if header.has_hint else "luma") if header.source_mode.is_colour else "grey"
    matching = nets.for_stream(header.network_id, kind, header.scale)
    if matching is None:
        raise LumacodecError(
            f"this stream needs network set {header.network_id.hex()}, but this lumacodec has "
            f"{nets.id.hex()}; install the matching lumacodec or decode with enhance=False"
        )
    return matching


def _to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).to(device)
    t = t[None, None] if t.ndim == 2 else t[None]
    return t.contiguous(memory_format=torch.channels_last)


#: Set to "0" to keep the networks in float32 on CPUs with native bfloat16 (bit-identical
#: output across CPUs, about 2.5x slower).
BF16_ENV = "LUMACODEC_CPU_BF16"


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX), as torch detects it
    (private probes: a torch without them gets float32)."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


@contextlib.contextmanager
def inference(device: torch.device) -> Iterator[None]:
    """No autograd; on a CPU with native bfloat16, convolutions in bfloat16 (2.5x faster on
    768x512; L moves by at most ~0.1 of 100, well under one 8-bit output step); on a GPU,
    in half precision (its tensor cores' format)."""
    if device.type == "cuda":
        with torch.inference_mode(), torch.autocast("cuda", torch.float16):
            yield
        return
    bf16 = (device.type == "cpu" and os.environ.get(BF16_ENV, "1") != "0"
            and cpu_has_native_bf16())
    with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=bf16):
        yield


#: Tiles of one shape that a GPU runs as one batch (a CPU runs them one at a time: no faster
#: in a batch, and one tile's memory).
GPU_TILE_BATCH = 8


def _tile_batch(device: torch.device) -> int:
    return GPU_TILE_BATCH if device.type == "cuda" else 1


#: Each network runs in one piece on an image of at most WHOLE + TILE_MARGIN output pixels a
#: side (the SR networks: WHOLE / s + TILE_MARGIN / s input pixels at scale s, twice the
#: margin for a cascade), as small images always have; a larger image runs on overlapping
#: tiles, so that decoding memory beyond the image's own planes stays that of one tile
#: however large the image.  Each tile's margin is its network's receptive radius.
WHOLE = 1024
TILE_MARGIN = 64
#: Tile side of the colorizer and the hint restorer on larger images (output pixels), and of
#: the SR networks (input pixels, where their 32-channel activations live), measured on a
#: 2048² plane against a 768×512 one in one piece, one CPU thread
#: (benchmarks/results/big-image.md).  SR: 384 and 512 run as fast per pixel as one piece,
#: 768 1.2× slower (out of the caches).  Colorizer: tiles of 1024 are the fastest (1.1× one
#: piece, against 1.6× for 768) but need twice the memory (0.42 GB against 0.21), which took a
#: 24-megapixel decode to 1.53 GB instead of 1.34; it is about a quarter of the decode's time.
TILE = 768
SR_TILE = 512


def _conv_radius(net: torch.nn.Module) -> int:
    """Input pixels of context one output pixel of ``net`` reads on each side, for a network
    that is a chain of unstrided convolutions (the SR networks and the hint restorer: their
    residual blocks add branches of such chains): the sum of the convolutions' half-widths.
    A tile whose margin is at least this computes what the whole image would at the pixels
    it writes."""
    radius = sum(
        (m.kernel_size[0] - 1) // 2 * m.dilation[0]
        for m in net.modules()
        if isinstance(m, torch.nn.Conv2d)
    )
    # A body at 1/u resolution reads u input pixels per pixel of context, and its tile must
    # start on its own grid: a multiple of u.
    u = getattr(net, "unshuffle", 1)
    return radius if u == 1 else u * (radius + 1)


def _colorizer_margin(net: Colorizer, factor: int) -> int:
    """Context a colorizer tile reads on each side for a hint at 1/``factor``: the U-Net's
    receptive radius (about 54 px for a body at 1/2, 108 at 1/4) plus that of L's low-pass at
    the hint's scale (area f × f, then bicubic: 2.5 f), rounded up to a multiple of f and of
    the U-Net's deepest grid, so that a tile's pooling grids are the image's."""
    f = factor or NO_HINT_LOWPASS
    step = max(net.multiple, f)
    return -(-(net.receptive_radius + 5 * f // 2) // step) * step


def _tiled(
    fn: Callable[[torch.Tensor], torch.Tensor],
    tile_input: Callable[[slice, slice], torch.Tensor],
    size: tuple[int, int],
    out: np.ndarray,
    *,
    scale: int,
    tile: int,
    margin: int,
    whole: int,
    gain: float,
    batch: int = 1,
    stage: str = "network",
) -> np.ndarray:
    """Run ``fn``, which maps (N, C, h, w) to (N, C', h·scale, w·scale), over an input of
    ``size`` and write its output times ``gain`` into ``out`` (C', H', W'), cropped to it.

    An input of at most ``whole`` pixels a side runs in one piece; a larger one on tiles of
    ``tile`` pixels, each of which reads ``margin`` pixels of context on every side and writes
    only its centre.  ``tile_input(rows, columns)`` builds each piece (1, C, h, w) from the
    caller's arrays, so neither the network's whole input nor its whole output exists as a
    tensor: beyond ``out``, memory is that of ``batch`` tiles.  Up to ``batch`` consecutive
    tiles of one shape (the inner ones) run as one batch.  Each finished batch is reported
    to :func:`lumacodec.progress.report` as a step of ``stage``.
    """
    h, w = size
    if h <= whole and w <= whole:
        tile, margin = max(h, w), 0
    s = scale
    boxes = []  # (input rows, input columns, output rows, output columns, top, left)
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            ya, xa = max(0, y0 - margin), max(0, x0 - margin)
            ye, xe = min(h, y0 + tile), min(w, x0 + tile)
            boxes.append((slice(ya, min(h, ye + margin)), slice(xa, min(w, xe + margin)),
                          slice(y0 * s, ye * s), slice(x0 * s, xe * s), (y0 - ya) * s,
                          (x0 - xa) * s))

    def extent(box: tuple) -> tuple[int, int]:
        return box[0].stop - box[0].start, box[1].stop - box[1].start

    i = 0
    while i < len(boxes):
        group = [boxes[i]]
        while (len(group) < batch and i + len(group) < len(boxes)
               and extent(boxes[i + len(group)]) == extent(boxes[i])):
            group.append(boxes[i + len(group)])
        pieces = fn(torch.cat([tile_input(b[0], b[1]) for b in group]))
        for piece, (_, _, rows, cols, top, left) in zip(pieces, group, strict=True):
            dst = out[:, rows, cols]
            centre = piece[:, top : top + dst.shape[1], left : left + dst.shape[2]]
            np.multiply(centre.float().cpu().numpy(), gain, out=dst)
        i += len(group)
        if len(boxes) > 1:
            report(f"{stage}, tile", i, len(boxes))
    return out


def sr_networks(
    nets: weights.NetworkSet, scale: int, base_quality: int, *, clean: bool = False
) -> tuple[SuperResolution | None, SuperResolution | None]:
    """The network that brings a base layer of ``scale`` and ``base_quality`` to full
    resolution (at scale 1, the restorer of that quality, and none for a lossless plane: it is
    L itself; ``clean``: the set's network for uncoded L), and the ×1 network that restores
    the coded low-resolution plane before it when it is a cascade (None: not one, or a
    lossless plane)."""
    if clean:
        return nets.sr_clean.get(scale, nets.sr[scale]), None
    if scale == 1:
        if base_quality == LOSSLESS_QUALITY:
            return None, None
        return nets.restorer_for(base_quality), None
    net = nets.sr[scale]
    if not net.restored_input or base_quality == LOSSLESS_QUALITY:
        return net, None
    return net, nets.restorer_for(base_quality) if net.input_restorer == "fast" else nets.sr[1]


def super_resolve(
    L_low: np.ndarray,
    scale: int,
    base_quality: int,
    size: tuple[int, int],
    nets: weights.NetworkSet,
    device: torch.device,
    *,
    clean: bool = False,
) -> np.ndarray:
    """L (H, W) from the decoded low-resolution L with the SR network of ``scale`` (at scale 1,
    the restoration network).

    A ×2/×4 network trained on restored planes (``restored_input``) gets a coded plane after
    the ×1 network it was trained after (its ``input_restorer``) has taken the coding
    artefacts out, at low resolution, as in its training.
    ``clean``: ``L_low`` was never coded (:func:`lumacodec.enhance`), so the set's clean-input
    network of ``scale`` runs where it has one.  Large images run on tiles of
    :data:`SR_TILE` whose margin is the networks' receptive radius: the same L as in one piece
    up to floating-point rounding (the order of a convolution's sums depends on its size).
    """
    q = 1.0 if base_quality == LOSSLESS_QUALITY else base_quality / 100.0
    net, first = sr_networks(nets, scale, base_quality, clean=clean)
    if net is None:  # lossless full-resolution L: nothing to restore
        return L_low.astype(np.float32, copy=True)
    quality = torch.tensor([q], device=device)

    def run(t: torch.Tensor) -> torch.Tensor:
        if first is not None:
            t = first(t, quality)
        return net(t, quality)

    def tile_input(rows: slice, cols: slice) -> torch.Tensor:
        return _to_device(L_low[rows, cols] / 100.0, device)

    margin = _conv_radius(net) + (_conv_radius(first) if first is not None else 0)
    u = math.lcm(net.unshuffle, first.unshuffle if first is not None else 1)
    margin = -(-margin // u) * u  # tiles start on the grids of bodies at 1/u
    whole = WHOLE // scale + TILE_MARGIN // scale * (2 if first is not None else 1)
    out = np.empty((1, *size), np.float32)
    with inference(device):
        _tiled(run, tile_input, L_low.shape, out, scale=scale, tile=SR_TILE,
               margin=margin, whole=whole, gain=100.0, batch=_tile_batch(device),
               stage="super-resolution" if scale > 1 else "restoration")
    return out[0]


def restore_hint(
    hint_small: np.ndarray,
    L: np.ndarray,
    factor: int,
    quality: int,
    nets: weights.NetworkSet,
    device: torch.device,
) -> np.ndarray:
    """The decoded hint a/b (2, h, w) with its coding errors reduced by the set's hint
    restorer of this factor and quality, guided by the decoded L (H, W) averaged onto the
    hint's grid; returned as it is when the set has none trained on them."""
    net = nets.hint_restorer_for(factor, quality)
    if net is None:
        return hint_small

    def run(x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        return net(x[:, :2], x[:, 2:], [factor] * n, [quality] * n)

    with inference(device):
        x = np.concatenate([hint_small / AB_OFFSET, downsample(L / 100.0, factor)[None]])
        return _tiled(run, lambda rows, cols: _to_device(x[:, rows, cols], device),
                      x.shape[1:], np.empty_like(hint_small), scale=1, tile=TILE,
                      margin=_conv_radius(net), whole=WHOLE + TILE_MARGIN // 4, gain=AB_OFFSET,
                      batch=_tile_batch(device), stage="hint restoration")


def colorize(
    L: np.ndarray,
    hint_ab: np.ndarray | None,
    factor: int,
    nets: weights.NetworkSet,
    device: torch.device,
) -> np.ndarray:
    """a/b (2, H, W) from full-resolution L and the bicubic hint (None: colour from L alone).

    A hint denser than the colorizer was trained on (its ``hint_factors``) is returned as it
    is: the bundled one is trained on 1/8 and sparser, since a 1/4 bicubic hint left it
    nothing to gain (CIEDE2000 1.958 vs 1.960 when it was trained on it, and up to 0.16 dB of
    PSNR-RGB lost at the top qualities).
    """
    if hint_ab is not None and factor < min(nets.colorizer.hint_factors):
        return hint_ab
    factors = [factor if hint_ab is not None else 0]

    def run(x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        m = nets.colorizer.multiple
        x = F.pad(x, (0, (-w) % m, 0, (-h) % m), mode="replicate")
        return nets.colorizer(x[:, :1], x[:, 1:], factors * x.shape[0])[..., :h, :w]

    def tile_input(rows: slice, cols: slice) -> torch.Tensor:
        L_tile = L[rows, cols][None] / 100.0
        hint = (hint_ab[:, rows, cols] / AB_OFFSET if hint_ab is not None
                else np.zeros((2, *L_tile.shape[1:]), np.float32))
        return _to_device(np.concatenate([L_tile, hint], dtype=np.float32), device)

    with inference(device):
        return _tiled(run, tile_input, L.shape, np.empty((2, *L.shape), np.float32), scale=1,
                      tile=TILE, margin=_colorizer_margin(nets.colorizer, factors[0]),
                      whole=WHOLE + TILE_MARGIN,
                      gain=AB_OFFSET, batch=_tile_batch(device), stage="colour")


def colour_from_L(
    L: np.ndarray, nets: weights.NetworkSet, device: torch.device, colour: str = "faithful"
) -> np.ndarray:
    """a/b (2, H, W) from L alone: the set's colour-from-L network (:mod:`lumacodec.luma_colour`),
    or, for a set without one, its colorizer given no hint (``colour`` then has no effect)."""
    check_colour(colour)
    if nets.luma_colorizer is None:
        return colorize(L, None, 0, nets, device)
    with inference(device):
        return colour_from_luma(L, nets.luma_colorizer, device, colour)


def decode(
    data: bytes,
    *,
    enhance: bool = True,
    device: str | torch.device | None = None,
    networks: weights.NetworkSet | None = None,
    max_pixels: int | None = None,
    colour: str = "faithful",
) -> Image.Image:
    """Decode a lumacodec stream to a PIL image ("RGB", or "L" for a greyscale source).

    Parameters
    ----------
    data
        The whole stream.
    enhance
        Run the networks (default).  ``False`` gives the classical reconstruction.
    device
        ``"cpu"``, ``"cuda"`` or ``None`` (CUDA when available).
    networks
        A :class:`lumacodec.weights.NetworkSet` to run instead of the bundled one.
    max_pixels
        Refuse streams whose header declares more pixels (default
        :data:`lumacodec.container.MAX_IMAGE_PIXELS`).
    colour
        For a colour stream without a hint (colour from L alone): ``"faithful"`` (default,
        the colour closest to the original on average) or ``"vivid"`` (plausible, saturated
        colour).  Streams with a hint decode the same either way.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise LumacodecError(f"expected bytes, got {type(data).__name__}")
    check_colour(colour)
    stream = parse(bytes(data), max_pixels)
    h = stream.header
    size = (h.height, h.width)
    L_low = decode_base(stream.base, h.height, h.width, h.scale)
    hint_small = (
        decode_hint(stream.hint, h.height, h.width, h.hint_factor)
        if stream.hint is not None
        else None
    )

    if enhance:
        dev = resolve_device(device)
        nets = _networks_for(h, networks).to(dev)
        L = super_resolve(L_low, h.scale, h.base_quality, size, nets, dev)
        del L_low  # every full-size plane is dropped as soon as it has been used
        np.clip(L, 0.0, 100.0, out=L)
        if not h.source_mode.is_colour:
            return Image.fromarray(L_to_grey_u8(L), "L")
        if hint_small is not None:
            hint_small = restore_hint(hint_small, L, h.hint_factor, h.hint_quality, nets, dev)
            ab = colorize(L, upsample_hint(hint_small, h.hint_factor, size), h.hint_factor,
                          nets, dev)
        else:
            ab = colour_from_L(L, nets, dev, colour)
    else:
        L = upsample_base(L_low, h.scale, size)
        del L_low
        if not h.source_mode.is_colour:
            return Image.fromarray(L_to_grey_u8(L), "L")
        ab = upsample_hint(hint_small, h.hint_factor, size) if hint_small is not None else None

    rgb = planes_to_rgb_u8(L, ab)
    del L, ab
    return Image.fromarray(rgb, "RGB")
