"""Label Studio's brush RLE (``value.rle`` of brush and magic-wand results), both ways.

Oracles: label-studio-converter's own ``brush`` module (Label Studio's Python code for its RLE) where it is
installed; its test's published bytes; a reference decoder written from thi.ng's rle-pack spec with bit
strings, as the converter's ``decode_rle`` reads; the real magic-wand masks the Label Studio frontend wrote.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from realfiles import real_file, requires_real_files
from strategies import masks
from test_labelstudio import MAGIC_WAND, _results

from dlconvert.errors import InvalidAnnotationError
from dlconvert.formats.labelstudio.rle import decode_mask, encode_mask, encode_runs


# ==== the brush RLE ====================================================================================
def _reference_decode(rle: list[int]) -> np.ndarray:
    """rle-pack decoded as label-studio-converter's ``decode_rle`` does: a string of bits, every value."""
    bits = "".join(format(byte, "08b") for byte in rle)
    position = 0

    def read(count):
        nonlocal position
        position += count
        return int(bits[position - count:position], 2)

    total, word = read(32), read(5) + 1
    sizes = [read(4) + 1 for _ in range(4)]
    out = np.zeros(total, dtype=np.uint8)
    i = 0
    while i < total:
        repeat = read(1)
        j = i + 1 + read(sizes[read(2)])
        if repeat:
            out[i:j] = read(word)
        else:
            out[i:j] = [read(word) for _ in range(j - i)]
        i = j
    return out


def test_the_encoder_writes_label_studio_converters_bytes():
    # label-studio-converter tests/test_brush.py::test_rle_encoding: [1,1,1,1,2,3,5,6,7,8,4×8]
    expected = [0, 0, 0, 18, 57, 27, 252, 96, 32, 1, 0, 6, 0, 40, 0, 192, 3, 128, 17, 56, 32]
    assert encode_runs([4, 1, 1, 1, 1, 1, 1, 8], [1, 2, 3, 5, 6, 7, 8, 4], 18) == expected
    assert _reference_decode(expected).tolist() == [1, 1, 1, 1, 2, 3, 5, 6, 7, 8] + [4] * 8


@requires_real_files
def test_the_magic_wand_masks_decode_as_the_reference_decoder_reads_them():
    results = _results(real_file(MAGIC_WAND))
    assert len(results) == 4
    for result in results[::2]:  # the magicwand results; each "labels" result beside repeats its rle
        width, height = result["original_width"], result["original_height"]
        mask = decode_mask(result["value"]["rle"], width, height)
        reference = _reference_decode(result["value"]["rle"]).reshape(height, width, 4)[:, :, 3] > 0
        assert mask.shape == (2860, 3000) and mask.any()
        assert np.array_equal(mask, reference)
        assert np.array_equal(decode_mask(encode_mask(mask), width, height), mask)


@given(masks(max_side=30))
def test_masks_survive_the_rle(mask):
    height, width = mask.shape
    rle = encode_mask(mask)
    assert np.array_equal(decode_mask(rle, width, height), mask)
    assert np.array_equal(_reference_decode(rle).reshape(height, width, 4)[:, :, 3] > 0, mask)


def test_a_run_longer_than_65536_values_is_split():
    mask = np.ones((200, 200), dtype=bool)  # 160,000 values in one run
    assert np.array_equal(decode_mask(encode_mask(mask), 200, 200), mask)
    assert np.array_equal(_reference_decode(encode_mask(mask)).reshape(200, 200, 4)[:, :, 3] > 0, mask)


def _converter_brush():
    """label-studio-converter's ``brush`` module: Label Studio's own Python code for its brush RLE."""
    return pytest.importorskip("label_studio_converter.brush",
                               reason="label-studio-converter (the brush RLE oracle of the dev extra) is not installed")


@given(masks(max_side=30))
def test_label_studio_converters_brush_code_reads_and_writes_the_same_rle(mask):
    brush = _converter_brush()
    height, width = mask.shape
    theirs = brush.mask2rle(mask.astype(np.uint8) * 255)
    assert encode_mask(mask) == theirs  # byte for byte
    assert np.array_equal(decode_mask(theirs, width, height), mask)
    assert np.array_equal(brush.decode_rle(encode_mask(mask)).reshape(height, width, 4)[:, :, 3] > 0, mask)


@requires_real_files
def test_the_magic_wand_masks_decode_as_label_studio_converter_decodes_them():
    brush = _converter_brush()
    for result in _results(real_file(MAGIC_WAND))[::2]:
        width, height = result["original_width"], result["original_height"]
        theirs = brush.decode_rle(result["value"]["rle"]).reshape(height, width, 4)[:, :, 3] > 0
        assert theirs.any() and np.array_equal(decode_mask(result["value"]["rle"], width, height), theirs)


@pytest.mark.parametrize(("rle", "width", "height", "message"), [
    ("AAEC", 2, 2, "rle must be a list of byte values"),
    ([0, 300], 2, 2, "integers 0–255"),
    ([1.5], 2, 2, "integers 0–255"),
    ([0, 0, 0], 2, 2, "the RLE ends early"),
    (encode_mask(np.ones((2, 2), bool)), 3, 2, "the RLE holds 16 values; a 3×2 RGBA image has 24"),
    (encode_runs([40], [255], 16), 2, 2, "goes past its 16 values"),
    (encode_mask(np.ones((2, 2), bool))[:-3], 2, 2, "the RLE ends early"),
    ([255, 255, 255, 255, 0, 0, 0], 30000, 30000, "more than the limit of 400000000 pixels"),
])
def test_a_bad_rle_is_refused_before_anything_large_is_made(rle, width, height, message):
    with pytest.raises(InvalidAnnotationError, match=message) as caught:
        decode_mask(rle, width, height)
    assert caught.value.where == "/value/rle"
