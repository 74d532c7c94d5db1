"""Corrections after the guided network: a person's points spread over the regions they
belong to, and a reference photo's colours by lightness.

A point says "the colour here is this".  The guided network takes points as input, but on
the training a 2-core machine affords it learns to use them only a little (its validation in
``weights/manifest.json``), and a person expects the colour they clicked to be the colour
they get.  So after the network, the *correction* each point asks for (its colour minus the
network's colour there) is spread over the image by an edge-aware screened Poisson problem
on the network's output grid (Levin, Lischinski & Weiss 2004, "Colorization using
optimization", with a screening term so that a correction fades far from every point)::

    minimise  Σ_neighbours w_ij |x_i − x_j|²  +  λ Σ_i |x_i|²  +  μ Σ_i m_i |x_i − t_i|²
    w_ij = exp(−((L_i − L_j) / edge)²),   λ = 1 / length²

``t`` the corrections where the points are (``m`` = 1 there), ``x`` the field added to the
network's a/b.  Across a strong edge of L the neighbours barely pull on each other, so a
correction fills its own region and stops at its border; ``length`` (grid cells) is how far
it reaches into a region without edges.  Three refinements, all tuned on training photos:

* each point's share of ``x`` fades where L is far from the point's own (a Gaussian of scale
  :data:`SPREAD_LIGHTNESS_RANGE`): thin or faint edges let a correction leak into large
  regions of other lightness (a click on a small brown block colouring the dark table it
  stands on), and lightness says they are other things;
* a change of texture (the standard deviation of L within a cell) is an edge as a change of
  L is (:data:`SPREAD_TEXTURE_EDGE`): a click on a smooth nose does not colour the fur around
  it, which the grid's mean L does not tell apart;
* the screening pulls ``x`` towards an *offset* rather than towards none: at each
  lightness, the points' mean correction, each point weighted by how close its lightness is
  (scale :data:`OFFSET_RANGE`), shrunk as if :data:`OFFSET_PRIOR` more points had asked for
  no change (:func:`offset`).  A photo's overall cast is the automatic colour's largest error
  (``benchmarks/results/colour-headroom.md``), and every point says something about it.

The grid is small (the working size / 4: about 5,000 cells), so the matrix is factorised
once and each point's solve costs a millisecond or so.

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
#: The change of texture (the standard deviation of L, 0-100, within a cell) that stops a
#: correction as :data:`SPREAD_EDGE` does for L: a smooth nose does not spread into the
#: fur around it (``inf``: texture not looked at; tuned on three training folders).
SPREAD_TEXTURE_EDGE = 2.0
#: How far from a point's own lightness its correction reaches (L units; the Gaussian's
#: scale; ``inf``: as far as the edges let it).
SPREAD_LIGHTNESS_RANGE = 30.0
#: Weight of a point's own correction against its neighbours' (large: the point is kept).
POINT_WEIGHT = 100.0
#: Points' worth of "no change" the offset is shrunk by (``inf``: no offset).
OFFSET_PRIOR = 2.0
#: How far in L a point's say in the offset reaches (L units, the Gaussian's scale; ``inf``:
#: one offset for the whole photo).
OFFSET_RANGE = 30.0


def offset(L: np.ndarray, asked: np.ndarray, at: np.ndarray, prior: float = OFFSET_PRIOR,
           reach: float = OFFSET_RANGE) -> np.ndarray:
    """The correction (C, h, w) a photo of lightness L (h, w) takes from points of lightness
    ``at`` (n,) that ask ``asked`` (n, C): at each lightness, the points' mean, each point
    weighted by how close its lightness is (all alike with ``reach`` = inf), shrunk towards
    zero by ``prior`` points of none."""
    out = np.zeros((asked.shape[1], *L.shape), np.float64)
    if len(asked) == 0 or not np.isfinite(prior):
        return out.astype(np.float32)
    weight = (np.ones((len(at), *L.shape)) if not np.isfinite(reach) else
              np.exp(-np.square((L[None] - at[:, None, None]) / reach)))  # (n, h, w)
    out = np.einsum("nc,nhw->chw", asked, weight) / (weight.sum(0) + prior)
    return out.astype(np.float32)


def spread(L: np.ndarray, target: np.ndarray, mask: np.ndarray,
           length: float = SPREAD_LENGTH, edge: float = SPREAD_EDGE,
           lightness_range: float = SPREAD_LIGHTNESS_RANGE, offset_prior: float = OFFSET_PRIOR,
           offset_range: float = OFFSET_RANGE, texture: np.ndarray | None = None,
           texture_edge: float = SPREAD_TEXTURE_EDGE) -> np.ndarray:
    """The correction field (C, h, w) that takes the values ``target`` (C, h, w) where
    ``mask`` (h, w) is non-zero and spreads them, edge-aware by L (h, w) in [0, 100], over
    the grid, tending to the points' :func:`offset` far from them; zero everywhere when the
    mask is empty.  ``texture`` (h, w), the standard deviation of L within each cell, makes
    changes of texture edges too (by ``texture_edge``).

    ``mask`` labels its points (1, 2, …: one value a point's cells; one value for all makes
    them one point): each point's share of the field fades where L is far from its own, by
    ``lightness_range`` (a point on a small brown thing does not colour the large dark region
    its thin edges let it into)."""
    h, w = L.shape
    if not mask.any():
        return np.zeros_like(target, dtype=np.float32)
    n, C = h * w, target.shape[0]
    index = np.arange(n).reshape(h, w)
    L64 = L.astype(np.float64)
    rows, cols, vals = [], [], []
    T = np.zeros_like(L64) if texture is None or not np.isfinite(texture_edge) else \
        texture.astype(np.float64) * (edge / texture_edge)  # in the units of L's edges
    for a, b, dl, dt in ((index[:, :-1], index[:, 1:], L64[:, :-1] - L64[:, 1:],
                          T[:, :-1] - T[:, 1:]),
                         (index[:-1], index[1:], L64[:-1] - L64[1:], T[:-1] - T[1:])):
        wt = np.exp(-(np.square(dl) + np.square(dt)) / edge**2).ravel()
        rows += [a.ravel(), b.ravel()]
        cols += [b.ravel(), a.ravel()]
        vals += [wt, wt]
    W = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n, n))
    m = POINT_WEIGHT * (mask > 0).astype(np.float64).ravel()
    A = sp.diags(np.asarray(W.sum(axis=1)).ravel() + 1.0 / length**2 + m) - W
    solve = spla.factorized(A.tocsc())
    labels, lightness = mask.ravel(), L64.ravel()
    flat = target.reshape(C, n).astype(np.float64)
    groups = [labels == k for k in np.unique(labels[labels > 0])]
    base = offset(L64, np.array([flat[:, g].mean(1) for g in groups]),
                  np.array([lightness[g].mean() for g in groups]), offset_prior,
                  offset_range).reshape(C, n).astype(np.float64)
    # The field is the offset plus what the points still ask beyond it, spread (exact for a
    # constant offset, which the smoothness term does not see); that part is linear in the
    # points, so each is solved for on its own and weighted by its lightness.
    residual = m * (flat - base)
    field = base.copy()
    ranged = np.isfinite(lightness_range)
    for cells in groups if ranged else [labels > 0]:
        share = np.exp(-np.square((lightness - lightness[cells].mean()) / lightness_range)) \
            if ranged else 1.0
        for c in range(C):
            field[c] += share * solve(np.ascontiguousarray(np.where(cells, residual[c], 0.0)))
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
