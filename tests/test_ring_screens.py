"""geometry.polygon's bulk screens (ring_areas, ring_scales) against the one-ring functions they stand in for."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dlconvert.geometry.polygon import ring_areas, ring_scales, signed_area

_ring = st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), min_size=0, max_size=12).map(
    lambda points: np.array(points, dtype=np.float64).reshape(-1, 2))


@settings(max_examples=200, deadline=None)
@given(rings=st.lists(_ring, min_size=1, max_size=6))
def test_the_bulk_screens_agree_with_each_ring_alone(rings):
    sizes = np.array([len(ring) for ring in rings])
    coords = np.concatenate(rings) if sizes.sum() else np.zeros((0, 2))
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    areas, scales = ring_areas(coords, offsets), ring_scales(coords, offsets)
    for ring, area, scale in zip(rings, areas, scales, strict=True):
        expected_scale = float(np.abs(ring).max()) if len(ring) else 0.0
        assert scale == expected_scale
        one = signed_area(ring) if len(ring) else 0.0
        assert abs(area - one) <= 1e-9 * max(expected_scale, 1.0) ** 2  # a screen: the sum's order differs
