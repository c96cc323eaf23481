"""Code discovery (the pass that finds which land-cover codes a raster holds when no class scheme is given):
the histogram route for 8- and 16-bit codes must count exactly what a sort (np.unique) counts."""

import numpy as np
import pytest

from gep.accounting.landcover import _value_counts


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16, np.int32, np.uint32, np.float32])
def test_counts_equal_a_sort(dtype):
    rng = np.random.default_rng(7)
    if np.dtype(dtype).kind in "ui":
        info = np.iinfo(dtype)
        block = rng.integers(max(info.min, -40000), min(info.max, 70000), size=(301, 517), endpoint=True)
        block[0, :3] = [max(info.min, -40000), min(info.max, 70000), 0]  # the extremes of the range
    else:
        block = rng.integers(0, 40, size=(301, 517))
    block = block.astype(dtype)
    values, counts = _value_counts(block)
    expect_v, expect_c = np.unique(block, return_counts=True)
    np.testing.assert_array_equal(values, expect_v.astype(np.int64))
    np.testing.assert_array_equal(counts, expect_c)
    assert counts.sum() == block.size


def test_hand_counted_signed_block():
    block = np.array([[-128, -128, 0], [127, 5, 5]], dtype=np.int8)
    values, counts = _value_counts(block)
    assert values.tolist() == [-128, 0, 5, 127]
    assert counts.tolist() == [2, 1, 2, 1]
