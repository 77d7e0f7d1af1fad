"""Numbers as text for whole arrays: byte-identical to Python's ``format`` for every float and int."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dlconvert._text import fixed_tokens, int_tokens, join_tokens, pad_to


def _texts(matrix: np.ndarray) -> list[str]:
    return [bytes(row[row != 0]).decode() for row in matrix]


@given(st.lists(st.floats(), min_size=1, max_size=30), st.integers(0, 15))
def test_fixed_tokens_are_format_of_every_float(values, decimals):
    assert _texts(fixed_tokens(np.array(values), decimals)) == [format(v + 0.0, f".{decimals}f") for v in values]


@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.integers(0, 9))
def test_fixed_tokens_of_normalised_coordinates(values, decimals):
    assert _texts(fixed_tokens(np.array(values), decimals)) == [format(v, f".{decimals}f") for v in values]


def test_exact_halves_round_as_python_does():
    halves = (np.arange(0, 200_000) + 0.5) / 1e6  # every one a near-tie after scaling
    assert _texts(fixed_tokens(halves, 6)) == [format(v, ".6f") for v in halves.tolist()]
    assert _texts(fixed_tokens(np.array([-0.0, -1e-9, 2.5, 0.125, 1e300, np.nan, -np.inf]), 2)) == [
        "0.00", "-0.00", "2.50", "0.12", format(1e300, ".2f"), "nan", "-inf"]


@given(st.lists(st.integers(-(2**63) + 1, 2**63 - 1), min_size=1, max_size=30))
def test_int_tokens_are_str_of_every_int(values):
    assert _texts(int_tokens(np.array(values, dtype=np.int64))) == [str(v) for v in values]


def test_join_tokens_packs_lines_and_says_where_each_token_ends():
    classes = int_tokens(np.array([3, 12]))
    values = fixed_tokens(np.array([0.5, 0.25, 1.0, 0.0]), 3)
    classes, values = pad_to([classes, values])
    tokens = np.concatenate([classes[:1], values[:2], classes[1:], values[2:]])
    separators = np.frombuffer(b"  \n  \n", dtype=np.uint8)
    text, ends = join_tokens(tokens, separators)
    assert text == b"3 0.500 0.250\n12 1.000 0.000\n"
    assert text[:ends[2]] == b"3 0.500 0.250\n" and ends[-1] == len(text)


def test_coordinates_divided_by_image_sizes_round_as_python_does():
    """YOLO values are pixel coordinates over image sizes: exact binary ties and near-ties are everywhere."""
    rng = np.random.default_rng(0)
    pixels = np.concatenate([np.arange(0, 4001) / 2, rng.uniform(0, 4000, 50_000).round(2)])
    for size in (640.0, 480.0, 427.0, 1000.0, 333.0):
        values = pixels / size
        for decimals in (3, 6):
            assert _texts(fixed_tokens(values, decimals)) == [format(v, f".{decimals}f") for v in values.tolist()]
