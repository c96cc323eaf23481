"""Conversion constants (gep.core.units): values by definition, and that the modules use the same ones."""

import numpy as np

from gep.core import units as U


def test_area_constants():
    assert U.CM2_PER_M2 == 100 * 100
    assert U.M2_PER_KM2 == 1000 * 1000
    assert U.M2_PER_HM2 == 100 * 100
    assert U.HM2_PER_KM2 == U.M2_PER_KM2 // U.M2_PER_HM2 == 100
    assert U.CM2_PER_KM2 == 10**10 and isinstance(U.CM2_PER_KM2, int)
    # an int64 cm² sum converts exactly: 1 km² + 1 cm²
    assert np.int64(10**10 + 1) / U.CM2_PER_KM2 == 1.0000000001


def test_money_and_mass_constants():
    assert U.YUAN_PER_WAN == 10**4 and U.YUAN_PER_YI == 10**8
    assert U.MONEY_UNITS == {"元": 1, "万元": 10**4, "亿元": 10**8}
    assert U.CO2_PER_C == 44 / 12 and abs(U.CO2_PER_C - 3.6666666666666665) < 1e-15
    assert U.O2_PER_CO2 == 32 / 44
    assert U.G_PER_T == 10**6 and U.M3_PER_MM_M2 == 0.001
    assert U.WAN_YUAN_PER_KM2 == "万元/km²" and U.KM2 == "km²"


def test_modules_use_the_one_definition():
    from gep.accounting import landcover
    from gep.raster import cellarea
    assert cellarea.CM2_PER_M2 is U.CM2_PER_M2
    assert landcover.CM2_PER_KM2 is U.CM2_PER_KM2
    # cell areas are integer cm²: 1.23456789 m² → 12346 cm²
    assert cellarea.to_cm2(np.array([1.23456789, 2.5e-5])).tolist() == [12346, 0]
