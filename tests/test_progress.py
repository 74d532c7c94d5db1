"""The status line of one long encode, decode or enhance: drawn on a terminal from the stages'
own reports (the encoder's trial codings, the decoder's tiles), erased at the end, and
nothing at all when stderr is not a terminal or progress is off."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest
from conftest import smooth_rgb

import lumacodec
from lumacodec import decoder, progress


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_status_line_draws_reports_and_erases_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    progress.report("unseen", 1, 2)  # no status line: a no-op
    with progress.status_line("decode big.lmc"):
        progress.report("colour, tile", 3, 3)
    drawn = terminal.getvalue()
    assert "decode big.lmc: colour, tile 3/3, 0:00" in drawn and "unseen" not in drawn
    assert drawn.endswith("\r") and drawn.rstrip("\r").endswith(" ")  # erased
    with progress.status_line("quiet", progress=False):
        progress.report("colour, tile", 1, 1)
    assert "quiet" not in terminal.getvalue()


def test_no_status_line_off_a_terminal(capfd: pytest.CaptureFixture[str]) -> None:
    with progress.status_line("encode"):
        progress.report("trial coding", 1, 1)
    assert capfd.readouterr() == ("", "")


def test_encoder_and_tiled_decoder_report_their_steps(
    monkeypatch: pytest.MonkeyPatch, network_factory
) -> None:
    seen: list[tuple[str, int, int]] = []
    token = progress._REPORTER.set(lambda stage, done, total: seen.append((stage, done, total)))
    try:
        data = lumacodec.encode(smooth_rgb(140, 200), 5)
        trials = [s for s in seen if s[0].startswith("choosing")]
        assert trials and trials[-1][1] == trials[-1][2] > 20  # every trial coding, in order
        monkeypatch.setattr(decoder, "WHOLE", 64)
        monkeypatch.setattr(decoder, "TILE", 64)
        monkeypatch.setattr(decoder, "SR_TILE", 48)
        seen.clear()
        out = lumacodec.decode(data, networks=network_factory(), device="cpu")
    finally:
        progress._REPORTER.reset(token)
    assert np.asarray(out).shape == (140, 200, 3)
    stages = {stage for stage, _, _ in seen}
    assert any(s.startswith(("restoration", "super-resolution")) for s in stages), stages
    assert all(done <= total for _, done, total in seen)
