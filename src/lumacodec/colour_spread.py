"""Corrections after the guided network: a person's points spread over the regions they
belong to, and a reference photo's colours by lightness.

A point says "the colour here is this".  The guided network takes points as input, but on
the training a 2-core machine affords it learns to use them only a little (its validation in
``weights/manifest.json``), and a person expects the colour they clicked to be the colour
they get.  So after the network, the *correction* each point asks for (its colour minus the
network's colour there) is spread over the image by an edge-aware screened Poisson problem
on the network's output grid (Levin, Lischinski & Weiss 2004, "Colorization using
optimization", with a screening term so that a correction fades to none far from every
point)::

    minimise  Σ_neighbours w_ij |x_i − x_j|²  +  λ Σ_i |x_i|²  +  μ Σ_i m_i |x_i − t_i|²
    w_ij = exp(−((L_i − L_j) / edge)²),   λ = 1 / length²

``t`` the corrections where the points are (``m`` = 1 there), ``x`` the field added to the
network's a/b.  Across a strong edge of L the neighbours barely pull on each other, so a
correction fills its own region and stops at its border; ``length`` (grid cells) is how far
it reaches into a region without edges.  The grid is small (the working size / 4: about
5,000 cells), so one sparse solve for both channels costs milliseconds.

A reference photo's condition (its mean a/b at each lightness) is given to the network too;
:func:`reference_shift` then moves the result's mean a/b at each lightness the rest of the way
towards the reference's (a colour transfer by lightness, in the spirit of Reinhard et al.
2001), before the points, so the points still have the last word.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .networks.luma_colorizer import AB_SCALE

#: How far a correction reaches without an edge, in output-grid cells (tuned on training
#: photos by ``benchmarks/guided_eval.py --tune``).
SPREAD_LENGTH = 160.0
#: The change of L (0-100) that stops a correction: neighbours this far apart in L pull on
#: each other e⁻¹ as much as neighbours of equal L.
SPREAD_EDGE = 6.0
#: Weight of a point's own correction against its neighbours' (large: the point is kept).
POINT_WEIGHT = 100.0


def spread(L: np.ndarray, target: np.ndarray, mask: np.ndarray,
           length: float = SPREAD_LENGTH, edge: float = SPREAD_EDGE) -> np.ndarray:
    """The correction field (C, h, w) that takes the values ``target`` (C, h, w) where
    ``mask`` (h, w) is one and spreads them, edge-aware by L (h, w) in [0, 100], over the
    grid; zero everywhere when the mask is empty."""
    h, w = L.shape
    if not mask.any():
        return np.zeros_like(target, dtype=np.float32)
    n = h * w
    index = np.arange(n).reshape(h, w)
    L64 = L.astype(np.float64)
    rows, cols, vals = [], [], []
    for a, b, dl in ((index[:, :-1], index[:, 1:], L64[:, :-1] - L64[:, 1:]),
                     (index[:-1], index[1:], L64[:-1] - L64[1:])):
        wt = np.exp(-np.square(dl / edge)).ravel()
        rows += [a.ravel(), b.ravel()]
        cols += [b.ravel(), a.ravel()]
        vals += [wt, wt]
    W = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n, n))
    m = POINT_WEIGHT * mask.astype(np.float64).ravel()
    A = sp.diags(np.asarray(W.sum(axis=1)).ravel() + 1.0 / length**2 + m) - W
    rhs = (m * target.reshape(target.shape[0], n).astype(np.float64)).T
    solve = spla.factorized(A.tocsc())
    field = np.stack([solve(np.ascontiguousarray(rhs[:, c])) for c in range(rhs.shape[1])])
    return field.reshape(target.shape).astype(np.float32)


#: How much of the difference between a reference's colour and the network's, lightness by
#: lightness, is applied (tuned on training photos by ``benchmarks/guided_eval.py --tune``).
REFERENCE_STRENGTH = 1.0
#: A lightness bin's share of the reference (× bins) at which its colour is trusted by half.
REFERENCE_TRUST = 0.1


def reference_shift(L: np.ndarray, ab: np.ndarray, condition: np.ndarray,
                    strength: float = REFERENCE_STRENGTH) -> np.ndarray:
    """The correction (2, h, w) that moves the mean a/b of ``ab`` (2, h, w) at each lightness
    of L (h, w) in [0, 100] towards a reference's (its condition vector from
    :func:`lumacodec.networks.guided_colorizer.reference_condition`: share, mean a and b /
    :data:`~lumacodec.networks.luma_colorizer.AB_SCALE` per knot), interpolated between the
    knots as the condition's bins are; knots the reference barely covers move less."""
    bins = (condition.size - 1) // 3
    share = condition[:bins]
    ref_a, ref_b = (condition[k * bins: (k + 1) * bins] * AB_SCALE for k in (1, 2))
    knots = np.linspace(0.0, 100.0, bins)
    hat = np.clip(1.0 - np.abs(L.reshape(1, -1) - knots[:, None]) * ((bins - 1) / 100.0),
                  0.0, None)  # (bins, P)
    mass = hat.sum(1)
    mean = hat @ ab.reshape(2, -1).T / np.maximum(mass, 1e-6)[:, None]  # (bins, 2)
    trust = share * bins / (share * bins + REFERENCE_TRUST)
    delta = (np.stack([ref_a, ref_b], 1) - mean) * (strength * trust)[:, None]
    delta[mass < 1e-6] = 0.0
    return (delta.T @ hat).reshape(ab.shape).astype(np.float32)
