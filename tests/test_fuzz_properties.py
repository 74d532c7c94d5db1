"""Bounded property-based fuzzing of the decoder (hypothesis), run in CI.

Any byte string, any truncation, any bit flip of the seed corpus and any structure-aware
mutation of it (:mod:`fuzz.streams`: fields and payloads changed, CRCs made valid again) gives
an image of the header's size or a :class:`LumacodecError`, never another exception.  The
long coverage-guided run is ``tests/fuzz/fuzz_decode.py`` (docs/spec/reliability.md).
"""

from __future__ import annotations

import random

import pytest
from fuzz import streams
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lumacodec
from lumacodec.container import MAGIC, VERSION, parse_header
from lumacodec.errors import LumacodecError

CORPUS = streams.corpus()
NAMES = sorted(CORPUS)
MAX_PIXELS = 1 << 20
BOUNDED = settings(max_examples=150, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow])


def decodes_or_refuses(data: bytes, enhance: bool = False) -> bool:
    """True when ``data`` decoded (to the header's size), False when it was refused."""
    try:
        image = lumacodec.decode(data, enhance=enhance, max_pixels=MAX_PIXELS, device="cpu")
    except LumacodecError:
        return False
    header = parse_header(data, MAX_PIXELS)[0]
    assert image.size == (header.width, header.height)
    assert image.mode == ("RGB" if header.source_mode.is_colour else "L")
    return True


def test_the_corpus_has_every_kind_of_stream() -> None:
    kinds = {(i["base_codec"], i["scale"], i["hint_factor"] > 0, i["source_mode"])
             for i in map(lumacodec.info, CORPUS.values())}
    assert {k[0] for k in kinds} == {"AV1", "AVIF", "LOSSLESS"}
    assert {k[1] for k in kinds} == {1, 2, 4}
    assert {k[2] for k in kinds} == {True, False}
    assert {k[3] for k in kinds} == {"GREY", "RGB", "RGBA", "GREY_ALPHA"}
    assert any(len(streams.split(d).sections) > 2 for d in CORPUS.values())  # ancillary


@pytest.mark.parametrize("name", NAMES)
def test_every_seed_decodes_with_the_networks(name: str) -> None:
    assert decodes_or_refuses(CORPUS[name], enhance=True)


@BOUNDED
@given(st.binary(max_size=600))
def test_any_bytes(data: bytes) -> None:
    decodes_or_refuses(data)
    decodes_or_refuses(MAGIC + bytes([VERSION]) + data)


@BOUNDED
@given(st.sampled_from(NAMES), st.data())
def test_any_truncation(name: str, data: st.DataObject) -> None:
    seed = CORPUS[name]
    cut = data.draw(st.integers(0, len(seed) - 1))
    assert not decodes_or_refuses(seed[:cut])


@BOUNDED
@given(st.sampled_from(NAMES), st.data())
def test_any_bit_flip(name: str, data: st.DataObject) -> None:
    seed = bytearray(CORPUS[name])
    at = data.draw(st.integers(0, len(seed) - 1))
    seed[at] ^= 1 << data.draw(st.integers(0, 7))
    decodes_or_refuses(bytes(seed))


@BOUNDED
@given(st.sampled_from(NAMES), st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_any_structure_aware_mutation(name: str, seed: int, rounds: int) -> None:
    """Mutations past the CRCs: most of them reach a plane decoder; those that decode go
    through the networks too."""
    rng = random.Random(seed)
    data = CORPUS[name]
    for _ in range(rounds):
        data = streams.mutate(data, 4096, rng,
                              lambda d, n: streams.flip_bytes(d, n, rng))
    if decodes_or_refuses(data) and len(data) < 4096:
        decodes_or_refuses(data, enhance=True)


def test_mutations_reach_the_plane_decoders() -> None:
    """The mutator is worth its name: many mutants pass the container's checks (CRCs
    included), so the plane decoders see them, and some still decode."""
    from lumacodec.container import parse

    rng = random.Random(0)
    parsed = decoded = 0
    for i in range(400):
        data = streams.mutate(CORPUS[NAMES[i % len(NAMES)]], 4096, rng,
                              lambda d, n: streams.flip_bytes(d, n, rng))
        try:
            parse(data, MAX_PIXELS)
        except LumacodecError:
            continue
        parsed += 1
        decoded += decodes_or_refuses(data)
    assert parsed > 150
    assert 0 < decoded < parsed
