"""COCO polygon lists parsed by simdjson into arrays (dlconvert.formats.coco.polygon_lists) give what msgspec gives —
the same numbers, bit for bit, and the same verdicts — and what simdjson cannot be sure of is left to msgspec."""

from __future__ import annotations

import json
import math

import msgspec
import numpy as np
import pytest
import simdjson
from hypothesis import given
from hypothesis import strategies as st

from dlconvert.formats.coco import polygon_lists
from dlconvert.formats.coco.polygon_lists import decode_polygon_lists

# Numbers as tools write them: floats of every magnitude (subnormals, ±0.0), integers up to int64 and beyond
# (uint64, then only msgspec reads them), in Python's shortest repr or with many digits.
NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2 ** 63), max_value=2 ** 64),
    st.floats(min_value=-1e4, max_value=1e4, allow_nan=False).map(lambda v: float(f"{v:.17g}")),
)
RINGS = st.lists(st.lists(NUMBERS, max_size=12), max_size=4)


def _reference(lists: list) -> tuple[list, list, list] | None:
    """What the object reader keeps: rings per list with empty rings dropped, numbers per ring, every number as a
    float; None unless every ring has an even count of numbers."""
    kept = [[ring for ring in rings if ring] for rings in lists]
    if any(len(ring) % 2 for rings in kept for ring in rings):
        return None
    numbers = [float(v) for rings in kept for ring in rings for v in ring]
    return [len(rings) for rings in kept], [len(ring) for rings in kept for ring in rings], numbers


def _decoded(lists: list) -> tuple[list, list, list] | None:
    raws = [msgspec.Raw(json.dumps(rings).encode()) for rings in lists]
    decoded = decode_polygon_lists(raws)
    if decoded is None:
        return None
    per_list, sizes, flat = decoded
    return per_list.tolist(), sizes.tolist(), flat.tolist()


@given(st.lists(RINGS, max_size=6))
def test_the_arrays_hold_every_number_of_every_kept_ring(lists):
    expected = _reference(lists)
    got = _decoded(lists)
    if expected is None:
        assert got is None
    else:
        assert got is not None
        assert got[:2] == expected[:2]
        assert [math.copysign(1.0, v) for v in got[2]] == [math.copysign(1.0, v) for v in expected[2]]  # -0.0 too
        assert got[2] == expected[2]


@given(st.lists(RINGS, min_size=1, max_size=6))
def test_simdjson_and_msgspec_agree_wherever_simdjson_answers(lists):
    text = json.dumps(lists).encode()
    by_msgspec = polygon_lists._by_msgspec(text)
    by_simdjson = polygon_lists._by_simdjson(simdjson.Parser(), text)
    if by_simdjson is not None:  # simdjson refuses integers beyond int64 / uint64 ranges: msgspec reads them
        assert by_msgspec is not None
        for ours, theirs in zip(by_simdjson, by_msgspec, strict=True):
            assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
            assert (np.signbit(ours) == np.signbit(theirs)).all()


@pytest.mark.parametrize(("text", "verdict"), [
    (b'[[[1, 2, 3, "4", 5, 6]]]', None),  # a string: not a number, by either
    (b"[[[1, 2, 3, true, 5, 6]]]", None),
    (b"[[[1, 2, 3, null, 5, 6]]]", None),
    (b"[[[1, [2], 3, 4, 5, 6]]]", None),  # deeper: simdjson would flatten it, the count of "[" tells
    (b"[[1, 2, 3, 4, 5, 6]]", None),  # numbers where rings are
    (b"[[[1e400, 2]]]", None),  # beyond float: refused by both
    (b"[[[123456789012345678901234567890, 2]]]", [1.2345678901234568e29, 2.0]),  # beyond int64: msgspec reads it
])
def test_what_simdjson_refuses_or_flattens_is_msgspecs_to_decide(text, verdict):
    assert polygon_lists._by_simdjson(simdjson.Parser(), text) is None
    raws = msgspec.json.decode(text, type=list[msgspec.Raw])  # each list as written
    decoded = decode_polygon_lists(raws)
    assert (decoded if decoded is None else decoded[2].tolist()) == verdict


def test_chunks_are_parsed_apart_and_joined(monkeypatch):
    """Lists are parsed a chunk at a time (one parser, reused): the arrays join as if parsed at once."""
    lists = [[[i, i + 1, i + 2, i + 3, i + 4.5, i + 5]] if i % 3 else [[], [i, -i]] for i in range(50)]
    at_once = _decoded(lists)
    monkeypatch.setattr(polygon_lists, "_CHUNK", 7)
    assert _decoded(lists) == at_once == _reference(lists)
