"""LS factor (gep.hydrology.ls_factor): D8 flow accumulation against a brute-force loop, L and S by hand,
the InVEST ≥ 3.14 form against an independent implementation of InVEST SDR's formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import CRS

from gep.core.errors import InputError
from gep.hydrology.ls_factor import (
    INVEST,
    LIU_FROM_PCT,
    OFFSETS,
    LsMethod,
    cell_geometry,
    compute_ls,
    d8_receivers,
    flow_accumulation,
    ls_factor,
    ls_from_parts,
    s_factor,
)

UTM49 = CRS.from_epsg(32649)


def brute_receivers(z, dx, dy):
    """Steepest downhill neighbour by explicit loops (same tie order as OFFSETS)."""
    h, w = z.shape
    rec = np.full(h * w, -1)
    for r in range(h):
        for c in range(w):
            if np.isnan(z[r, c]):
                continue
            best, best_k = 0.0, -1
            for k, (dr, dc) in enumerate(OFFSETS):
                rr, cc = r + dr, c + dc
                if not (0 <= rr < h and 0 <= cc < w) or np.isnan(z[rr, cc]):
                    continue
                drop = (z[r, c] - z[rr, cc]) / math.hypot(dc * dx[r], dr * dy[r])
                if drop > best:
                    best, best_k = drop, k
            if best_k >= 0:
                dr, dc = OFFSETS[best_k]
                rec[r * w + c] = (r + dr) * w + c + dc
    return rec


def brute_accumulation(z, rec, weight):
    """Visit cells from the highest down, pushing each cell's total to its receiver (a plain loop)."""
    acc = weight.astype(float).ravel().copy()
    order = np.argsort(-np.nan_to_num(z.ravel(), nan=-np.inf), kind="stable")
    for i in order:
        if rec[i] >= 0:
            acc[rec[i]] += acc[i]
    return acc


def test_d8_and_accumulation_match_brute_force():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(23, 31)).cumsum(axis=0) + rng.normal(size=(23, 31))
    z[5, 7] = np.nan
    dx, dy = np.full(23, 30.0), np.full(23, 25.0)
    rec = d8_receivers(z, dx, dy)
    np.testing.assert_array_equal(rec, brute_receivers(z, dx, dy))
    weight = rng.uniform(1, 2, size=z.size)
    np.testing.assert_allclose(flow_accumulation(rec, weight), brute_accumulation(z, rec, weight), rtol=1e-12)


def test_accumulation_on_a_valley_by_hand():
    # V-shaped valley draining south along the middle column: every side cell flows to the centre column
    # (drop 10 m over 30 m beats the diagonal), the centre column flows south.
    z = np.array([[110, 100, 110],
                  [109, 99, 109],
                  [108, 98, 108]], dtype=float)
    rec = d8_receivers(z, np.full(3, 30.0), np.full(3, 30.0))
    assert rec.tolist() == [1, 4, 1, 4, 7, 4, 7, -1, 7]
    acc = flow_accumulation(rec, np.ones(9))
    assert acc.tolist() == [1, 3, 1, 1, 6, 1, 1, 9, 1]


def _mcool_s(sin_t, pct):
    return 10.8 * sin_t + 0.03 if pct < 9 else 16.8 * sin_t - 0.5


def _m(pct, sin_t):
    if pct <= 1:
        return 0.2
    if pct <= 3.5:
        return 0.3
    if pct <= 5:
        return 0.4
    if pct <= 9:
        return 0.5
    beta = (sin_t / 0.0896) / (3 * sin_t**0.8 + 0.56)
    return beta / (1 + beta)


@pytest.mark.parametrize("area_form", ["sqrt", "area"])
@pytest.mark.parametrize("grade", [0.005, 0.02, 0.045, 0.07, 0.10, 0.30])
def test_ls_on_a_plane_by_hand(grade, area_form):
    # plane falling east with the given grade on a 30 m UTM grid: each cell drains east, so a cell in column
    # j has j cells strictly upslope (A = j × 900 m²); interior slope is exactly the grade (Horn). Default
    # (InVEST ≥ 3.14): U = √A = 30 √j and x = sin θ + cos θ of the slope angle; 'area': U = A, and x from the
    # aspect (east: x = 1) with x_form 'aspect'.
    h, w = 5, 12
    res = 30.0
    z = 500.0 - grade * res * np.arange(w)[None, :] * np.ones((h, 1))
    t = Affine(res, 0, 500000, 0, -res, 3100000)
    method = LsMethod(area_form=area_form, x_form="slope" if area_form == "sqrt" else "aspect")
    ls, summary = ls_factor(z, t, UTM49, method)
    assert summary["depressions_filled"] == 0 and summary["cells_filled"] == 0  # a plane has nothing to fill
    pct = grade * 100
    theta = math.atan(grade)
    s = _mcool_s(math.sin(theta), pct)
    m = _m(pct, math.sin(theta))
    x = math.sin(theta) + math.cos(theta) if area_form == "sqrt" else 1.0
    for j in range(1, w - 1):
        u = 30.0 * math.sqrt(j) if area_form == "sqrt" else j * 900.0
        l_hand = ((u + 900.0) ** (m + 1) - u ** (m + 1)) / (30.0 ** (m + 2) * x**m * 22.13**m)
        # rel 1e-4: the filling rounds the DEM to float32 (as a DEM read from file), which moves a 0.15 m drop
        # by up to ~3e-5 m
        assert ls[2, j] == pytest.approx(min(l_hand, 122.0) * s, rel=1e-4)


def test_the_sqrt_form_is_far_below_the_area_form_on_long_slopes():
    # 100 cells upslope on a 30 % slope (m ≈ 0.53): the absolute-area L is ~24× the √-area L (before the cap)
    sqrt_ls = ls_from_parts(np.array([30.0]), np.array([1.0]), np.array([90000.0]), np.array([900.0]))
    area_ls = ls_from_parts(np.array([30.0]), np.array([1.0]), np.array([90000.0]), np.array([900.0]),
                            LsMethod(area_form="area", l_max=1e9))
    m = _m(30.0, math.sin(math.atan(0.3)))
    u = math.sqrt(90000.0)
    l_sqrt = ((u + 900) ** (m + 1) - u ** (m + 1)) / (30 ** (m + 2) * 22.13**m)
    l_area = ((90900.0) ** (m + 1) - 90000.0 ** (m + 1)) / (30 ** (m + 2) * 22.13**m)
    assert area_ls[0] / sqrt_ls[0] == pytest.approx(l_area / l_sqrt)
    assert 20 < l_area / l_sqrt < 30


def test_l_is_capped_like_invest():
    # a huge upslope area: L would exceed the cap, so LS = cap × S
    slope_pct = np.array([20.0])
    val = ls_from_parts(slope_pct, np.array([1.0]), np.array([1e9]), np.array([900.0]),
                        LsMethod(area_form="area"))
    s = 16.8 * math.sin(math.atan(0.2)) - 0.5
    assert val[0] == pytest.approx(122.0 * s)
    val2 = ls_from_parts(slope_pct, np.array([1.0]), np.array([1e9]), np.array([900.0]),
                         LsMethod(area_form="area", l_max=50.0))
    assert val2[0] == pytest.approx(50.0 * s)


def test_liu_s_factor_values():
    # Liu et al. 1994: S = 21.91 sin θ − 0.96 from 10° (17.63 %); McCool below
    assert LIU_FROM_PCT == pytest.approx(17.6327, abs=1e-4)
    pct = np.array([5.0, 12.0, 17.6, 17.64, 36.397, 100.0])  # 36.397 % = 20°, 100 % = 45°
    liu = s_factor(pct, "liu")
    mccool = s_factor(pct, "mccool")
    sin = np.sin(np.arctan(pct / 100))
    assert liu[0] == mccool[0] == pytest.approx(10.8 * sin[0] + 0.03)
    assert liu[1] == mccool[1] == pytest.approx(16.8 * sin[1] - 0.5)
    assert liu[2] == pytest.approx(16.8 * sin[2] - 0.5)  # just under 10°
    assert liu[3] == pytest.approx(21.91 * sin[3] - 0.96)  # just over 10°
    assert liu[4] == pytest.approx(21.91 * math.sin(math.radians(20)) - 0.96, rel=1e-4)  # 6.534
    assert liu[4] == pytest.approx(6.5337, abs=1e-3)
    assert liu[5] == pytest.approx(21.91 * math.sqrt(0.5) - 0.96)  # 14.53 vs McCool's 11.38
    assert mccool[5] == pytest.approx(16.8 * math.sqrt(0.5) - 0.5)


def test_stream_cells_get_ls_zero():
    # plane falling east, 5 × 12 cells: column j drains j + 1 cells (itself included); with a threshold of 6
    # cells, columns 6..11 (7..12 cells > 6) are streams: 5 × 6 = 30 cells, LS 0; the rest as without streams
    z = 500.0 - 3.0 * np.arange(12)[None, :] * np.ones((5, 1))
    t = Affine(30, 0, 500000, 0, -30, 3100000)
    free, _ = ls_factor(z, t, UTM49)
    ls, summary = ls_factor(z, t, UTM49, LsMethod(stream_threshold=6))
    assert summary["stream_cells"] == 30
    assert np.all(ls[:, 6:] == 0.0)
    np.testing.assert_array_equal(ls[:, :6], free[:, :6])
    assert "stream_cells" not in ls_factor(z, t, UTM49)[1]


def test_filling_a_pit_lengthens_the_paths_through_it():
    # a plane falling east with a one-cell pit: unfilled, the pit ends the paths through it (the cells east of
    # it in its row get only the area from the pit on); filled (to its lowest neighbour, 482 m, + ε), flow
    # passes through it to the east edge, and it draws the diagonal neighbours west of it too
    z = 500.0 - 3.0 * np.arange(12)[None, :] * np.ones((5, 1))
    z[2, 5] -= 20.0
    t = Affine(30, 0, 500000, 0, -30, 3100000)
    plane = 500.0 - 3.0 * np.arange(12)[None, :] * np.ones((5, 1))
    ls_plane, _ = ls_factor(plane, t, UTM49)
    ls_fill, summary = ls_factor(z, t, UTM49)
    ls_raw, _ = ls_factor(z, t, UTM49, LsMethod(fill_pits=False))
    assert summary["depressions_filled"] == 1 and summary["cells_filled"] == 1 and summary["sink_cells"] == 1
    assert 482.0 < ls_module_filled(z)[2, 5] < 482.0 + 1e-4
    # downstream of the pit, in its row: at least the plane's contributing area when filled, less unfilled
    assert np.all(ls_fill[2, 8:11] >= ls_plane[2, 8:11])
    assert np.all(ls_raw[2, 8:11] < ls_plane[2, 8:11])
    # rows away from the pit are the plane's
    np.testing.assert_array_equal(ls_fill[0], ls_plane[0])


def ls_module_filled(z):
    from gep.hydrology.fill import filled

    return filled(z)[0]


def fill_single_cell_pits(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """InVEST's pit filling (to the exact spill level) and flat routing for DEMs whose only depressions are
    single cells: such a cell is raised to its lowest neighbour and drains to it. Returns the filled DEM and
    each cell's forced receiver (−1: none)."""
    h, w = z.shape
    z = z.copy()
    rec = np.full(h * w, -1)
    for r in range(1, h - 1):
        for c in range(1, w - 1):
            nb = [(z[r + dr, c + dc], (r + dr) * w + c + dc) for dr, dc in OFFSETS]
            low, at = min(nb)
            if low > z[r, c]:
                z[r, c] = low
                rec[r * w + c] = at
    return z, rec


def invest_ls_by_hand(z: np.ndarray, res: float, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """LS and the stream mask of InVEST SDR 3.14–3.20 (sdr.py ``_calculate_ls_factor``, D8), written out
    independently for a DEM whose routing has no flats: flow accumulation in cells by visiting cells from the
    highest down, slope by Horn with edge replication, then
    U = √((FA − 1)·a), x = |sin θ| + |cos θ|,
    L = ((U + a)^(m+1) − U^(m+1)) / (res^(m+2)·x^m·22.13^m) ≤ 122, McCool S;
    streams FA > threshold (pygeoprocessing extract_streams_d8)."""
    h, w = z.shape
    z, pit_rec = fill_single_cell_pits(z)
    rec = brute_receivers(z, np.full(h, res), np.full(h, res))
    rec[pit_rec >= 0] = pit_rec[pit_rec >= 0]
    order_z = z.copy()
    order_z.flat[pit_rec >= 0] += 1e-3  # a filled pit is visited before the neighbour it drains to
    fa = brute_accumulation(order_z, rec, np.ones(z.size)).reshape(h, w)
    zp = np.pad(z, 1, mode="edge")
    a, b, c, d = zp[:-2, :-2], zp[:-2, 1:-1], zp[:-2, 2:], zp[1:-1, :-2]
    f, g, hh, i = zp[1:-1, 2:], zp[2:, :-2], zp[2:, 1:-1], zp[2:, 2:]
    gx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8 * res)
    gy = ((g + 2 * hh + i) - (a + 2 * b + c)) / (8 * res)
    pct = 100 * np.hypot(gx, gy)
    ls = np.empty((h, w))
    for r in range(h):
        for c in range(w):
            theta = math.atan(pct[r, c] / 100)
            m = _m(pct[r, c], math.sin(theta))
            u = math.sqrt((fa[r, c] - 1) * res * res)
            x = abs(math.sin(theta)) + abs(math.cos(theta))
            l_ = ((u + res * res) ** (m + 1) - u ** (m + 1)) / (res ** (m + 2) * x**m * 22.13**m)
            ls[r, c] = min(l_, 122.0) * _mcool_s(math.sin(theta), pct[r, c])
    return ls, fa > threshold


@pytest.mark.parametrize("pits", [0, 5])
def test_invest_preset_matches_an_independent_invest_implementation(pits):
    # a tilted cone (a mountain on a slope) on 30 m cells, with single-cell pits (filled to their spill level,
    # they drain to their lowest neighbour in both); InVEST's avoided erosion is RKLS·(1 − C·P) off streams,
    # nodata on streams: gep's LS 0 there
    rng = np.random.default_rng(5)
    r, c = np.mgrid[0:40, 0:40].astype(float)
    z = 800.0 - 2.0 * c + 60.0 * np.exp(-((r - 20) ** 2 + (c - 15) ** 2) / 80.0) + 0.01 * rng.random((40, 40))
    for k in range(pits):
        z[5 + 7 * k, 8 + 5 * k] -= 9.0
    z = z.astype(np.float32)
    t = Affine(30, 0, 500000, 0, -30, 3100000)
    method = LsMethod(**{**INVEST.__dict__, "stream_threshold": 25})
    ls, summary = ls_factor(z, t, UTM49, method)
    assert summary["depressions_filled"] == summary["cells_filled"] == summary["sink_cells"] == pits
    assert summary["flat_cells_routed"] == 0
    ref, streams = invest_ls_by_hand(z.astype(float), 30.0, 25)
    assert streams.sum() == summary["stream_cells"] > 0
    # gep's filled pit lies one float32 step (6e-5 m) above InVEST's, which moves the slopes next to it by
    # ~1e-6 relative
    np.testing.assert_allclose(ls[~streams], ref[~streams], rtol=2e-5)
    assert np.all(ls[streams] == 0)
    r_, k_, cp = 4000.0, 0.03, 0.006
    avoided_gep = (r_ * k_ * ls.astype(float) * (1 - cp)).sum()
    avoided_invest = (r_ * k_ * ref[~streams] * (1 - cp)).sum()
    assert avoided_gep == pytest.approx(avoided_invest, rel=1e-5)


def test_aspect_term_for_diagonal_slopes():
    # x = |sin a| + |cos a| = √2 for a slope facing a diagonal: L is divided by x^m
    base = ls_from_parts(np.array([30.0]), np.array([1.0]), np.array([9000.0]), np.array([900.0]))
    diag = ls_from_parts(np.array([30.0]), np.array([math.sqrt(2)]), np.array([9000.0]), np.array([900.0]))
    assert base[0] < 122.0
    sin_t = math.sin(math.atan(0.3))
    m = _m(30.0, sin_t)
    assert diag[0] / base[0] == pytest.approx(math.sqrt(2) ** -m)


def test_geographic_cell_geometry_uses_the_ellipsoid():
    t = Affine(0.001, 0, 112.0, 0, -0.001, 28.0)
    dx, dy, area = cell_geometry(t, (3, 4), CRS.from_epsg(4326))
    from gep.vector.geodesy import lonlat_box_area_m2

    assert area[0] == pytest.approx(lonlat_box_area_m2(112.0, 27.999, 112.001, 28.0), rel=1e-9)
    # 0.001° of longitude at 28° ≈ 98.3 m, of latitude ≈ 110.8 m
    assert dx[0] == pytest.approx(98.3, abs=0.2)
    assert dy[0] == pytest.approx(110.8, abs=0.2)
    assert dx[0] * dy[0] == pytest.approx(area[0], rel=1e-4)


def test_compute_ls_writes_a_raster_and_rejects_missing_dem(tmp_path):
    z = (400.0 - 3.0 * np.arange(20)[None, :] - 1.0 * np.arange(15)[:, None]).astype(np.float32)
    z[0, 0] = -9999
    path = tmp_path / "dem.tif"
    with rasterio.open(path, "w", driver="GTiff", height=15, width=20, count=1, dtype="float32", crs="EPSG:32649",
                       transform=Affine(30, 0, 500000, 0, -30, 3100000), nodata=-9999) as dst:
        dst.write(z, 1)
    summary = compute_ls(path, tmp_path / "ls.tif")
    with rasterio.open(tmp_path / "ls.tif") as src:
        ls = src.read(1)
        assert src.crs == "EPSG:32649"
    assert np.isnan(ls[0, 0]) and np.isfinite(ls[5, 5])
    # the nodata cell and its 3 neighbours (Horn needs all 8 neighbours) have no LS
    assert summary["valid_cells"] == 15 * 20 - 4
    with pytest.raises(InputError, match="does not exist"):
        compute_ls(tmp_path / "nope.tif", tmp_path / "x.tif")


def test_settings_presets_give_the_method():
    from pydantic import ValidationError

    from gep.config.gep import LS_PRESETS, LSConfig

    default = LSConfig()
    assert {k: getattr(default, k) for k in LS_PRESETS["gep"]} == LS_PRESETS["gep"]
    assert LsMethod.from_settings(default) == LsMethod()
    assert LsMethod.from_settings(LSConfig(preset="invest")) == INVEST
    assert INVEST.stream_threshold == 1000 and INVEST.area_form == "sqrt" and INVEST.x_form == "slope"
    # InVEST's own parameters stay free; the method choices the preset fixes may not be contradicted
    tuned = LsMethod.from_settings(LSConfig(preset="invest", threshold_flow_accumulation=200, l_max=50))
    assert (tuned.stream_threshold, tuned.l_max) == (200, 50.0)
    with pytest.raises(ValidationError, match="gep.ls.s_form: 'liu' contradicts preset 'invest'"):
        LSConfig(preset="invest", s_form="liu")
    assert LsMethod.from_settings(LSConfig(s_form="liu", exclude_streams=True)).stream_threshold == 1000


def test_method_rejects_unknown_forms():
    with pytest.raises(InputError, match="area_form 'A'"):
        LsMethod(area_form="A")
    with pytest.raises(InputError, match="stream threshold 0"):
        LsMethod(stream_threshold=0)
