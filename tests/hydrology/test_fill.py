"""Depression filling (gep.hydrology.fill): hand-made pits and flats, and an independent fill on random DEMs."""

from __future__ import annotations

import numpy as np
import pytest

from gep.hydrology.d8 import d8_codes, d8_distances
from gep.hydrology.fill import fill_depressions, filled

ULP = 1e-5  # a few float32 steps at these elevations (ε raises of a few cells)


def spill_levels(z: np.ndarray) -> np.ndarray:
    """Exact fill (no ε), independently: W = max(Z, min over the 8 neighbours of W), W = Z on the edge and
    next to nodata, iterated from W = +∞ inside to the fixed point (Planchon & Darboux 2002, the slow way)."""
    h, w = z.shape
    zp = np.pad(z.astype(float), 1, constant_values=np.nan)
    valid = ~np.isnan(zp)
    edge = np.zeros_like(valid)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            edge |= ~np.roll(np.roll(valid, dr, 0), dc, 1)
    edge &= valid
    wp = np.where(edge, zp, np.inf)
    wp[~valid] = np.nan
    while True:
        nb = np.full_like(wp, np.inf)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                if dr or dc:
                    shifted = np.roll(np.roll(wp, dr, 0), dc, 1)
                    nb = np.fmin(nb, shifted)
        new = np.where(valid & ~edge, np.maximum(zp, nb), wp)
        if np.array_equal(new, wp, equal_nan=True):
            return new[1:-1, 1:-1]
        wp = new


def count_sinks_by_hand(z: np.ndarray) -> int:
    """Cells whose 8 neighbours all exist, are valid and none is lower (plain loops)."""
    h, w = z.shape
    n = 0
    for r in range(1, h - 1):
        for c in range(1, w - 1):
            nb = [z[r + dr, c + dc] for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc]
            if not np.isnan(z[r, c]) and not any(np.isnan(v) or v < z[r, c] for v in nb):
                n += 1
    return n


def drains_everywhere(zf: np.ndarray) -> bool:
    """Every valid cell has a strictly lower neighbour or a NaN neighbour (edge, nodata)."""
    zp = np.pad(zf.astype(np.float32), 1, constant_values=np.nan)
    code = d8_codes(zp, d8_distances(np.full(zf.shape[0], 30.0), np.full(zf.shape[0], 30.0)))
    valid = ~np.isnan(zf)
    nan_nb = np.zeros(zf.shape, dtype=bool)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            nan_nb |= np.isnan(zp[1 + dr:zp.shape[0] - 1 + dr, 1 + dc:zp.shape[1] - 1 + dc])
    return bool(np.all((code >= 0) | ~valid | nan_nb))


def test_a_single_pit_is_filled_to_its_spill_level():
    z = np.array([[9, 9, 9, 9, 9],
                  [9, 6, 6, 6, 9],
                  [9, 6, 2, 6, 9],
                  [9, 6, 6, 6, 7],
                  [9, 9, 9, 9, 9]], dtype=float)
    zf, stats = filled(z)
    assert stats.sinks == 1  # the centre; the 6s each have the centre lower
    assert stats.depressions == 1 and stats.cells_filled == 9 and stats.cells_flat == 0
    assert stats.max_fill_m == pytest.approx(5.0, abs=ULP)  # 2 → 7 (+ε)
    inner = zf[1:4, 1:4]
    assert np.all(inner > 7.0) and np.all(inner < 7.0 + ULP)  # at the spill level (7 on the east edge), + ε
    np.testing.assert_array_equal(zf[0], z[0])  # the edge is never changed
    assert drains_everywhere(zf)
    # ε steps grow with the distance from the outlet (2, 3): the cells next to it are lowest
    assert zf[2, 3] < zf[2, 2] < zf[2, 1]


def test_a_nested_pit_fills_to_the_outer_spill_level():
    # an inner pit (1) inside a depression (4) whose rim is 8 except a 6 saddle on the west edge
    z = np.full((7, 7), 8.0)
    z[1:6, 1:6] = 4.0
    z[3, 3] = 1.0
    z[2:5, 2:5][[0, 0, 2, 2], [0, 2, 0, 2]] = 5.0  # a partial inner rim
    z[3, 0] = 6.0
    zf, stats = filled(z)
    np.testing.assert_allclose(zf, spill_levels(z), atol=ULP)
    assert np.all(zf[1:6, 1:6] >= 6.0)
    assert stats.cells_filled == 25 and stats.depressions == 1  # the inner pit is part of the depression
    assert stats.sinks == count_sinks_by_hand(z)
    assert drains_everywhere(zf)


def test_a_flat_gets_a_deterministic_slope_to_its_outlet():
    # a flat at 5 inside a rim of 9 with a 5 outlet on the south edge: nothing is filled, every flat cell is
    # raised by float32 steps only, and the steps point to the outlet (breadth-first: Chebyshev distance)
    z = np.full((6, 6), 9.0)
    z[1:5, 1:5] = 5.0
    z[5, 2] = 5.0
    zf, stats = filled(z)
    assert stats.cells_filled == 0 and stats.cells_flat == 16 and stats.depressions == 0
    assert stats.sinks == 16 == count_sinks_by_hand(z)  # D8 flow would stop on every flat cell
    steps = np.round((zf[1:5, 1:5].astype(np.float64) - 5.0) / np.spacing(np.float32(5.0))).astype(int)
    r, c = np.mgrid[1:5, 1:5]
    np.testing.assert_array_equal(steps, np.maximum(abs(r - 5), abs(c - 2)))
    assert drains_everywhere(zf)
    zf2, _ = filled(z)
    assert zf2.tobytes() == zf.tobytes()


def test_nodata_cells_are_outlets_and_stay_nodata():
    z = np.full((5, 5), 9.0)
    z[1:4, 1:4] = 3.0
    z[2, 2] = np.nan  # a hole in the middle of the depression: the depression drains into it
    zf, stats = filled(z)
    assert np.isnan(zf[2, 2])
    np.testing.assert_array_equal(zf[1:4, 1:4][~np.isnan(zf[1:4, 1:4])], 3.0)
    assert stats.cells_filled == 0 and stats.depressions == 0 and stats.sinks == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_dems_match_an_independent_fill_and_drain(seed):
    rng = np.random.default_rng(seed)
    z = (rng.normal(size=(40, 50)).cumsum(axis=1) * 3 + rng.normal(size=(40, 50)) * 5 + 300).astype(np.float32)
    z[10:13, 20:24] = np.nan
    zf, stats = filled(z)
    exact = spill_levels(z)
    ok = ~np.isnan(z)
    np.testing.assert_array_equal(np.isnan(zf), ~ok)
    assert np.all(zf[ok] >= z[ok])
    # ε raises add at most one float32 step per cell of a flat's path (< 40·50 steps of 3e-5 m here)
    np.testing.assert_allclose(zf[ok], exact[ok], atol=0.05)
    assert drains_everywhere(zf)
    assert stats.cells_filled == int(np.sum(exact[ok] > z[ok]))
    assert stats.sinks == count_sinks_by_hand(z) > 0
    assert 0 < stats.depressions <= stats.sinks


def test_fill_depressions_rejects_float64():
    with pytest.raises(ValueError, match="float32"):
        fill_depressions(np.zeros((3, 3)))
