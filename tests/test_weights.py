"""The network set: manifest, identity, verification."""

from __future__ import annotations

import json

import pytest
import torch

from lumacodec import weights
from lumacodec.errors import LumacodecError
from lumacodec.networks import (
    Colorizer,
    HintRestorer,
    LumaColorizer,
    SuperResolution,
    save_network,
)


def _make_set(directory) -> None:
    nets = {
        "sr_x1": SuperResolution(1, channels=8, blocks=1),
        "sr_x1_fast": SuperResolution(1, channels=8, blocks=1, unshuffle=4),
        "sr_x2": SuperResolution(2, channels=8, blocks=1),
        "sr_x4": SuperResolution(4, channels=8, blocks=1),
        "colorizer": Colorizer(widths=(8, 8, 8)),
        "hint_restorer": HintRestorer(channels=8, blocks=1),
        "sr_x2_clean": SuperResolution(2, channels=8, blocks=1),
        "luma_colorizer": LumaColorizer(widths=(8, 8, 8, 8, 8), decoder_widths=(8, 8, 8)),
    }
    for name, net in nets.items():
        path = directory / f"{name}.safetensors"
        save_network(net, path)
        weights.write_manifest_entry(name, path, directory=directory, steps=0)


def test_network_id_is_order_independent_and_content_bound() -> None:
    a = weights.network_id({"sr_x2": "aa", "colorizer": "bb"})
    assert a == weights.network_id({"colorizer": "bb", "sr_x2": "aa"})
    assert a != weights.network_id({"sr_x2": "aa", "colorizer": "bc"})
    assert len(a) == 8


def test_load_network_set_and_id(tmp_path) -> None:
    _make_set(tmp_path)
    manifest = weights.read_manifest(tmp_path)
    nets = weights.load_network_set(tmp_path)
    assert set(nets.sr) == {1, 2, 4} and set(nets.sr_clean) == {2}
    assert isinstance(nets.hint_restorer, HintRestorer)
    assert isinstance(nets.luma_colorizer, LumaColorizer)
    assert nets.id.hex() == manifest["network_id"]


def test_a_set_without_the_fast_restorer_is_decoded_with_sr_x1(tmp_path) -> None:
    """The set before ``sr_x1_fast`` is recorded as an earlier set: its streams get this one
    back, with ``sr_x1`` restoring their full-resolution planes as then; any other id is
    refused."""
    _make_set(tmp_path)
    manifest = weights.read_manifest(tmp_path)
    six = {n: e["sha256"] for n, e in manifest["networks"].items()
           if n in weights.DECODER_NETWORKS and n != "sr_x1_fast"}
    earlier = weights.network_id(six)
    manifest["earlier_sets"] = [{"id": earlier.hex(), "networks": six}]
    (tmp_path / weights.MANIFEST).write_text(json.dumps(manifest))
    nets = weights.load_network_set(tmp_path)
    assert list(nets.restorers) == ["sr_x1_fast"]
    assert nets.for_stream(nets.id) is nets and nets.for_stream(bytes(8)) is nets
    for kind in ("hinted", "luma", "grey"):
        old = nets.for_stream(earlier, kind)
        assert old is not None and old.id == earlier and not old.restorers
        assert old.sr is nets.sr and old.colorizer is nets.colorizer
    assert nets.for_stream(b"\x01" * 8) is None
    del manifest["networks"]["sr_x1_fast"]  # without sr_x1_fast: the earlier set itself
    (tmp_path / weights.MANIFEST).write_text(json.dumps(manifest))
    without = weights.load_network_set(tmp_path)
    assert without.id == earlier and not without.restorers


def test_replacing_a_network_keeps_the_streams_that_do_not_run_it(tmp_path) -> None:
    """A new colour-from-L network: the replaced set is recorded, its hinted and grey streams
    still decode (with the fast restorer it had), its pure-luma streams are refused; then a
    new ×2 network: its streams of scales 1 and 4 still decode, those of scale 2 not."""
    _make_set(tmp_path)
    before = weights.load_network_set(tmp_path).id
    path = tmp_path / "luma_colorizer.safetensors"
    save_network(LumaColorizer(widths=(8, 8, 8, 8, 8), decoder_widths=(8, 8, 8),
                               curve_knots=4), path)
    weights.write_manifest_entry("luma_colorizer", path, directory=tmp_path, steps=1)
    weights.write_manifest_entry("luma_colorizer", path, directory=tmp_path, steps=2)
    manifest = weights.read_manifest(tmp_path)
    assert [e["id"] for e in manifest["earlier_sets"]] == [before.hex()]  # recorded once
    nets = weights.load_network_set(tmp_path)
    assert nets.id != before
    assert nets.earlier[0].changed == {"luma_colorizer"}
    for kind in ("hinted", "grey"):
        old = nets.for_stream(before, kind)
        assert old is not None and old.id == before and old.restorers == nets.restorers
    assert nets.for_stream(before, "luma") is None
    path = tmp_path / "sr_x2.safetensors"  # a new x2 network: streams of scale 2 are refused
    save_network(SuperResolution(2, channels=8, blocks=2), path)
    weights.write_manifest_entry("sr_x2", path, directory=tmp_path, steps=1)
    nets = weights.load_network_set(tmp_path)
    for scale in (1, 4):
        assert nets.for_stream(before, "grey", scale) is not None
    assert nets.for_stream(before, "grey", 2) is None and nets.for_stream(before, "grey") is None
    path = tmp_path / "sr_x2_clean.safetensors"  # not a stream's network: nothing recorded
    save_network(SuperResolution(2, channels=8, blocks=2), path)
    weights.write_manifest_entry("sr_x2_clean", path, directory=tmp_path, steps=1)
    assert len(weights.read_manifest(tmp_path)["earlier_sets"]) == 2


def test_the_dense_hint_restorer_serves_the_hints_the_first_leaves(tmp_path) -> None:
    """``hint_restorer`` restores the sparse hints it was trained on, ``hint_restorer_dense``
    the dense ones; streams of the set before it decode without it (hints as decoded)."""
    _make_set(tmp_path)
    before = weights.load_network_set(tmp_path)
    assert before.hint_restorer_for(4, 70) is None and not before.hint_restorers
    path = tmp_path / "hint_restorer_dense.safetensors"
    save_network(HintRestorer(channels=8, blocks=1, hint_factors=(2, 4),
                              hint_qualities=(50, 70, 90)), path)
    weights.write_manifest_entry("hint_restorer_dense", path, directory=tmp_path, steps=1)
    nets = weights.load_network_set(tmp_path)
    dense = nets.hint_restorers["hint_restorer_dense"]
    assert nets.id != before.id and [e.id for e in nets.earlier] == [before.id]
    assert nets.hint_restorer_for(8, 50) is nets.hint_restorer
    assert nets.hint_restorer_for(4, 70) is dense and nets.hint_restorer_for(2, 90) is dense
    assert nets.hint_restorer_for(4, 40) is None and nets.hint_restorer_for(8, 90) is None
    for kind in ("hinted", "luma", "grey"):
        old = nets.for_stream(before.id, kind)
        assert old is not None and not old.hint_restorers
        assert old.hint_restorer_for(2, 70) is None and old.hint_restorer is nets.hint_restorer
    assert nets.to(torch.device("cpu")).hint_restorers.keys() == {"hint_restorer_dense"}


def test_fast_restorers_of_coarse_fine_and_top_planes(tmp_path) -> None:
    """Each fast ×1 network restores the base qualities its config names, ``sr_x1`` the rest;
    adding one records the set before it, whose streams decode without it."""
    _make_set(tmp_path)
    before = weights.load_network_set(tmp_path)
    for name, bounds in (("sr_x1_fast", {"max_quality": 20}),
                         ("sr_x1_fine", {"min_quality": 20, "max_quality": 60}),
                         ("sr_x1_top", {"min_quality": 60, "max_quality": 80})):
        path = tmp_path / f"{name}.safetensors"
        save_network(SuperResolution(1, channels=8, blocks=1, unshuffle=4, **bounds), path)
        weights.write_manifest_entry(name, path, directory=tmp_path, steps=1)
    nets = weights.load_network_set(tmp_path)
    fast, fine, top = (nets.restorers[n] for n in weights.RESTORERS)
    assert nets.restorer_for(20) is fast and nets.restorer_for(21) is fine
    assert nets.restorer_for(60) is fine and nets.restorer_for(61) is top
    assert nets.restorer_for(80) is top and nets.restorer_for(90) is nets.sr[1]
    manifest = weights.read_manifest(tmp_path)
    no_fine = {n: e["sha256"] for n, e in manifest["networks"].items()
               if n in weights.DECODER_NETWORKS and n not in ("sr_x1_fine", "sr_x1_top")}
    no_top = {**no_fine, "sr_x1_fine": manifest["networks"]["sr_x1_fine"]["sha256"]}
    # all recorded: the set before sr_x1_fast was replaced, before sr_x1_fine, before sr_x1_top
    assert [e.id for e in nets.earlier] == [
        before.id, weights.network_id(no_fine), weights.network_id(no_top)]
    assert nets.for_stream(before.id, "hinted") is None  # its sr_x1_fast was another network
    old = nets.for_stream(weights.network_id(no_fine), "luma")
    assert old is not None and list(old.restorers) == ["sr_x1_fast"]
    assert old.restorer_for(30) is nets.sr[1] and old.restorer_for(10) is fast
    old = nets.for_stream(weights.network_id(no_top), "grey")
    assert old is not None and old.restorer_for(70) is nets.sr[1] and old.restorer_for(30) is fine


def test_a_candidate_restorer_takes_its_place_in_a_copy_of_the_set(tmp_path) -> None:
    _make_set(tmp_path)
    nets = weights.load_network_set(tmp_path)
    path = tmp_path / "candidate.safetensors"
    save_network(SuperResolution(1, channels=16, blocks=1, max_quality=20), path)
    trial = nets.with_restorers({"sr_x1_fast": path})
    assert trial.restorer_for(20).config["channels"] == 16 and trial.restorer_for(21) is nets.sr[1]
    assert trial.id == nets.id
    assert nets.restorers["sr_x1_fast"].config["channels"] == 8  # the set itself is unchanged
    with pytest.raises(LumacodecError, match="not a restorer: sr_x2"):
        nets.with_restorers({"sr_x2": path})


def test_enhance_networks_are_not_part_of_the_id(tmp_path) -> None:
    _make_set(tmp_path)
    before = weights.load_network_set(tmp_path).id
    path = tmp_path / "sr_x2_clean.safetensors"
    save_network(SuperResolution(2, channels=8, blocks=2), path)
    weights.write_manifest_entry("sr_x2_clean", path, directory=tmp_path, steps=1)
    nets = weights.load_network_set(tmp_path)
    assert nets.sr_clean[2].config["blocks"] == 2  # the new file is the one loaded
    assert nets.id == before == bytes.fromhex(weights.read_manifest(tmp_path)["network_id"])
    save_network(SuperResolution(2, channels=8, blocks=2), tmp_path / "sr_x2.safetensors")
    weights.write_manifest_entry("sr_x2", tmp_path / "sr_x2.safetensors", directory=tmp_path)
    assert weights.load_network_set(tmp_path).id != before  # a decoding network is


def test_a_cascade_must_have_been_trained_after_the_sets_x1(tmp_path) -> None:
    _make_set(tmp_path)
    path = tmp_path / "sr_x4.safetensors"
    save_network(SuperResolution(4, channels=8, blocks=1, restored_input=True), path)
    x1 = weights.read_manifest(tmp_path)["networks"]["sr_x1"]["sha256"]
    weights.write_manifest_entry("sr_x4", path, directory=tmp_path, restored_by="0" * 64)
    with pytest.raises(LumacodecError, match="sr_x4 was trained on the output of sr_x1 000"):
        weights.load_network_set(tmp_path)
    weights.write_manifest_entry("sr_x4", path, directory=tmp_path, restored_by=x1)
    assert weights.load_network_set(tmp_path).sr[4].restored_input
    # a cascade after the fast restorers names each ×1 network it was trained after
    save_network(SuperResolution(4, channels=8, blocks=1, restored_input=True,
                                 input_restorer="fast"), path)
    fast = weights.read_manifest(tmp_path)["networks"]["sr_x1_fast"]["sha256"]
    weights.write_manifest_entry("sr_x4", path, directory=tmp_path,
                                 restored_by={"sr_x1": x1, "sr_x1_fast": "1" * 64})
    with pytest.raises(LumacodecError, match="output of sr_x1_fast 111111111111, but this set's "
                                             f"sr_x1_fast is {fast[:12]}"):
        weights.load_network_set(tmp_path)
    weights.write_manifest_entry("sr_x4", path, directory=tmp_path,
                                 restored_by={"sr_x1": x1, "sr_x1_fast": fast})
    assert weights.load_network_set(tmp_path).sr[4].input_restorer == "fast"


def test_tampered_weights_are_refused(tmp_path) -> None:
    _make_set(tmp_path)
    path = tmp_path / "colorizer.safetensors"
    path.write_bytes(path.read_bytes()[:-1] + b"\0")
    with pytest.raises(LumacodecError,
                       match=r"colorizer\.safetensors are missing or do not match the manifest"):
        weights.load_network_set(tmp_path)


def test_incomplete_set_names_what_is_missing(tmp_path) -> None:
    missing = "sr_x1, sr_x2, sr_x4, hint_restorer, colorizer, luma_colorizer, sr_x2_clean"
    with pytest.raises(LumacodecError, match=missing):
        weights.load_network_set(tmp_path)


def test_a_colorizer_on_restored_hints_must_match_the_sets_hint_restorer(tmp_path) -> None:
    _make_set(tmp_path)
    path = tmp_path / "colorizer.safetensors"
    restorer = weights.read_manifest(tmp_path)["networks"]["hint_restorer"]["sha256"]
    weights.write_manifest_entry("colorizer", path, directory=tmp_path, hint_restored_by=restorer)
    assert weights.load_network_set(tmp_path).hint_restorer is not None
    weights.write_manifest_entry("colorizer", path, directory=tmp_path,
                                 hint_restored_by="0" * 64)
    with pytest.raises(LumacodecError, match="retrain the colorizer"):
        weights.load_network_set(tmp_path)
