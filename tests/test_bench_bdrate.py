"""BD-rate and BD-PSNR through the bjontegaard package, on curves with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from lumacodec.bench.bdrate import BDResult, bd_psnr, bd_rate, pareto_frontier

RATES = np.array([0.1, 0.2, 0.4, 0.8, 1.6])
PSNR = np.array([26.0, 29.0, 32.5, 36.0, 39.0])


def test_same_quality_at_80_percent_of_the_rate_is_minus_20_percent() -> None:
    result = bd_rate(RATES, PSNR, RATES * 0.8, PSNR)
    assert result.value == pytest.approx(-20.0, abs=0.5)
    assert result.overlap == pytest.approx(1.0)


def test_bd_rate_with_different_numbers_of_points() -> None:
    # PSNR linear in log-rate; the test needs 1.25x the rate everywhere, sampled elsewhere
    def line(rate: np.ndarray) -> np.ndarray:
        return 30.0 + 9.0 * np.log10(rate / 0.4)

    rates_t = np.geomspace(0.12, 1.5, 7)
    result = bd_rate(RATES, line(RATES), rates_t, line(rates_t / 1.25))
    assert result.value == pytest.approx(25.0, abs=0.5)


def test_bd_psnr_of_a_constant_gain() -> None:
    assert bd_psnr(RATES, PSNR, RATES, PSNR + 0.5).value == pytest.approx(0.5, abs=1e-6)
    assert bd_psnr(RATES, PSNR, RATES, PSNR).value == pytest.approx(0.0, abs=1e-9)


def test_curves_that_do_not_overlap_are_na() -> None:
    result = bd_rate(RATES, PSNR, RATES * 10, PSNR + 20)
    assert result == BDResult(None, 0.0)
    assert result.format("%") == "n/a"
    assert bd_psnr(RATES, PSNR, RATES * 100, PSNR).value is None


def test_too_few_points_is_na() -> None:
    assert bd_rate(RATES[:1], PSNR[:1], RATES, PSNR).value is None


def test_partial_overlap_is_flagged() -> None:
    result = bd_rate(RATES, PSNR, RATES[2:] * 0.9, PSNR[2:] + 3)
    assert result.value is not None and 0 < result.overlap < 0.75
    assert result.format("%").endswith("*")


def test_pareto_frontier_drops_dominated_and_nan_points() -> None:
    rates = [0.4, 0.1, 0.2, 0.3, 0.5, np.nan]
    dists = [32.0, 26.0, 29.0, 28.0, 32.0, 40.0]
    r, d = pareto_frontier(rates, dists)
    assert r.tolist() == [0.1, 0.2, 0.4]
    assert d.tolist() == [26.0, 29.0, 32.0]


def test_a_dip_in_the_curve_does_not_break_akima() -> None:
    dists = PSNR.copy()
    dists[3] = dists[2] - 0.1  # non-monotone point
    assert bd_rate(RATES, dists, RATES * 0.8, dists).value == pytest.approx(-20.0, abs=0.5)
