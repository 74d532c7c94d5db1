"""lumacodec.film.colour_chain: colour that holds still, follows the motion, restarts at cuts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from film_clips import cut_frames, moving_frames

from lumacodec import weights
from lumacodec.color import grey_u8_to_L
from lumacodec.decoder import colour_from_L
from lumacodec.film.colour_chain import CARRY, CARRY_MODES, ColourChain, fill_holes, key_colours

CPU = torch.device("cpu")
STEP = 2  # pixels the test picture moves a frame


@pytest.fixture(scope="module")
def nets() -> weights.NetworkSet:
    """The bundled networks (in the package: no download, no shared data)."""
    return weights.bundled()


def grainy_film(count: int, seed: int = 0) -> list[np.ndarray]:
    """L of a picture moving STEP px a frame, with fresh film grain (σ 2.5 L) on each frame:
    what makes colour made frame by frame flicker."""
    rng = np.random.default_rng(seed)
    frames = moving_frames(count, 64, 96, step=STEP)
    return [np.clip(grey_u8_to_L(np.ascontiguousarray(f[..., 0]))
                    + rng.normal(0, 2.5, f.shape[:2]).astype(np.float32), 0, 100)
            for f in frames]


def flicker(abs_: list[np.ndarray]) -> float:
    """Mean squared a/b change between consecutive frames along the known motion (frame t+1
    at x shows what frame t showed at x + STEP), away from the borders."""
    m = 8
    return float(np.mean([np.mean((b[:, m:-m, m:-m - STEP] - a[:, m:-m, m + STEP:-m]) ** 2)
                          for a, b in zip(abs_, abs_[1:], strict=False)]))


def test_carried_colour_flickers_less_than_automatic(nets: weights.NetworkSet) -> None:
    film = grainy_film(10)
    chain = ColourChain(nets, CPU, "vivid")
    carried = [chain(t, L) for t, L in enumerate(film)]
    automatic = [colour_from_L(L, nets, CPU, "vivid") for L in film]
    assert not chain.cuts
    assert flicker(automatic) > 0.05  # the baseline does flicker on this film
    assert flicker(carried) < 0.5 * flicker(automatic)
    # and it is still colour, not grey held still
    assert np.abs(carried[-1]).mean() > 0.5 * np.abs(automatic[-1]).mean()


@pytest.mark.parametrize("carry", CARRY_MODES)
def test_every_carry_mode_follows_the_motion(carry: str, nets: weights.NetworkSet) -> None:
    film = grainy_film(4)
    chain = ColourChain(nets, CPU, "faithful", carry=carry)
    out = [chain(t, L) for t, L in enumerate(film)]
    assert all(ab.shape == (2, 64, 96) and ab.dtype == np.float32 for ab in out)
    assert min(chain.valid_shares) > 0.8


def test_scene_cut_restarts_the_chain(nets: weights.NetworkSet) -> None:
    film = [grey_u8_to_L(np.ascontiguousarray(f[..., 0])) for f in cut_frames(8, 5)]
    chain = ColourChain(nets, CPU, "faithful")
    out = [chain(t, L) for t, L in enumerate(film)]
    assert chain.cuts == [5]
    # the new shot's first frame is coloured afresh, from its own L alone
    np.testing.assert_array_equal(out[5], colour_from_L(film[5], nets, CPU, "faithful"))
    assert chain.valid_shares[5] == 1.0


def test_keyframe_restarts_with_its_colour(nets: weights.NetworkSet) -> None:
    film = grainy_film(6)
    red = np.stack([np.full((64, 96), 40.0, np.float32), np.full((64, 96), 20.0, np.float32)])
    chain = ColourChain(nets, CPU, "faithful", keys={3: lambda L: red})
    out = [chain(t, L) for t, L in enumerate(film)]
    np.testing.assert_array_equal(out[3], red)
    assert out[2][0].mean() < 20.0  # before the keyframe: automatic colour
    assert out[4][0].mean() > 30.0  # after it: its colour carried on


def test_keyframe_points_colour_their_frame(nets: weights.NetworkSet) -> None:
    film = grainy_film(2)
    keys, auto = key_colours({0: [(48, 32, "#2040ff", 6)]}, None, "faithful", nets, CPU)
    assert auto is None and set(keys) == {0}
    blue = keys[0](film[0])[:, 26:38, 42:54].mean(axis=(1, 2))
    plain = colour_from_L(film[0], nets, CPU, "faithful")[:, 26:38, 42:54].mean(axis=(1, 2))
    assert blue[1] < plain[1] - 10  # b (yellow–blue) towards blue at the point


def test_a_set_without_the_guided_network_carries_directly(tiny_networks: weights.NetworkSet
                                                           ) -> None:
    without = dataclasses.replace(tiny_networks, guided_colorizer=None)
    chain = ColourChain(without, CPU, "faithful", carry="guided-direct")
    assert chain.carry == "direct"
    assert CARRY in CARRY_MODES
    with pytest.raises(ValueError, match="carry must be one of"):
        ColourChain(tiny_networks, CPU, carry="sideways")


def test_fill_holes_takes_the_colour_around() -> None:
    ab = np.zeros((2, 20, 30), np.float32)
    ab[0, :, :15], ab[0, :, 15:] = 30.0, -30.0
    valid = np.ones((20, 30), bool)
    valid[8:12, 2:6] = False  # a hole on the left: left's colour
    valid[8:12, 24:28] = False  # one on the right: right's
    broken = ab.copy()
    broken[:, ~valid] = 99.0
    filled = fill_holes(broken, valid)
    np.testing.assert_allclose(filled[0, 8:12, 2:6], 30.0, atol=1.0)
    np.testing.assert_allclose(filled[0, 8:12, 24:28], -30.0, atol=1.0)
    np.testing.assert_array_equal(filled[:, valid], broken[:, valid])  # the rest untouched
    everywhere = np.zeros((20, 30), bool)
    assert fill_holes(broken, everywhere) is broken  # nothing to take colour from
