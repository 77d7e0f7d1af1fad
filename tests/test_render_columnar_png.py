"""The PNG files of rendered pictures (dlconvert.render.png, through encode_picture) and of Dataloop masks
(dlconvert.geometry._png): what they decode to, checked by OpenCV, Pillow and zlib; the bytes the table renderer
writes from runs are the item renderer's; a mask's PNG is OpenCV's, byte for byte.
"""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image
from realfiles import AVAILABLE, real_file

from dlconvert import ConvertOptions
from dlconvert.formats import get_format
from dlconvert.geometry._png import mask_png
from dlconvert.geometry.masks import decode_png_mask, encode_png_mask, split_data_url
from dlconvert.render import ViewAnnotationOptions, encode_picture, render
from dlconvert.render import png as runs_png
from dlconvert.report import ConversionReport


def _decoded(data: bytes, like: np.ndarray) -> np.ndarray:
    """The picture OpenCV reads from ``data``, in ``like``'s channel order (RGB, RGBA)."""
    picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert picture is not None
    if like.ndim == 3:
        picture = cv2.cvtColor(picture, cv2.COLOR_BGRA2RGBA if like.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    return picture


def _old_encoding(array: np.ndarray) -> bytes:
    """What encode_picture wrote before the run encoder: OpenCV's defaults, after its channel order."""
    if array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGBA2BGRA if array.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode(".png", array)
    assert ok
    return buffer.tobytes()


@st.composite
def flat_pictures(draw) -> np.ndarray:
    """Pictures of flat areas as renderers make them: grey 8/16-bit, RGB, RGBA; a few values in runs of any length
    (rows up to a few thousand pixels: runs longer than a deflate token holds)."""
    kind = draw(st.sampled_from(["grey", "grey16", "rgb", "rgba"]))
    height, width = draw(st.integers(1, 12)), draw(st.integers(1, 40))
    stretch = draw(st.sampled_from([1, 3, 97, 700]))
    channels = {"grey": 1, "grey16": 1, "rgb": 3, "rgba": 4}[kind]
    top = 65535 if kind == "grey16" else 255
    palette = draw(hnp.arrays(np.int64, (draw(st.integers(1, 4)), channels), elements=st.integers(0, top)))
    index = draw(hnp.arrays(np.int64, (height, width), elements=st.integers(0, len(palette) - 1)))
    picture = np.repeat(palette[index], stretch, axis=1).astype(np.uint16 if kind == "grey16" else np.uint8)
    return picture[:, :, 0] if channels == 1 else picture


@settings(max_examples=300, deadline=None)
@given(picture=flat_pictures())
def test_a_flat_picture_is_written_from_its_runs_and_decodes_to_its_pixels(picture):
    """OpenCV and Pillow read back the very pixels (and dtype) that OpenCV's own file held before."""
    runs = runs_png.runs_of(picture)
    data, extension = encode_picture(picture)
    assert extension == ".png"
    assert data == (runs_png.encode(runs)[0] if runs_png.fits(runs)[0] else _old_encoding(picture))
    decoded = _decoded(data, picture)
    assert decoded.dtype == picture.dtype and (decoded == picture).all()
    assert (decoded == _decoded(_old_encoding(picture), picture)).all()
    with Image.open(io.BytesIO(data)) as image:
        read = np.asarray(image)
    assert (read.astype(np.int64) == picture.astype(np.int64)).all()


@settings(max_examples=100, deadline=None)
@given(picture=flat_pictures())
def test_the_deflate_stream_holds_the_sub_filtered_rows(picture):
    """zlib inflates the IDAT data (checking its Adler-32) to every row's Sub filter byte and differences."""
    data = runs_png.encode(runs_png.runs_of(picture))[0]
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + size]
        assert struct.unpack(">I", data[at + 8 + size:at + 12 + size])[0] == zlib.crc32(kind + body)
        chunks[kind] = body
        at += 12 + size
    assert list(chunks) == [b"IHDR", b"IDAT", b"IEND"]
    assert chunks[b"IDAT"][:2] == b"\x78\x01"  # deflate, the "fastest" level
    rows = picture.astype(">u2").view(np.uint8) if picture.dtype == np.uint16 else picture
    rows = rows.reshape(picture.shape[0], -1)
    step = rows.shape[1] // picture.shape[1]
    filtered = rows.copy()
    filtered[:, step:] = rows[:, step:] - rows[:, :-step]
    expected = np.concatenate((np.ones((rows.shape[0], 1), np.uint8), filtered), axis=1)
    assert zlib.decompress(chunks[b"IDAT"]) == expected.tobytes()


@settings(max_examples=60, deadline=None)
@given(pictures=st.lists(flat_pictures().filter(lambda p: p.ndim == 3 and p.shape[2] == 4), min_size=1,
                         max_size=5))
def test_many_pictures_encoded_at_once_are_each_ones_own_file(pictures):
    """The table renderer encodes a chunk of pictures from runs that repeat values (joined_runs); each file is
    the one encode_picture writes for that picture alone."""
    heights = np.array([p.shape[0] for p in pictures])
    widths = np.array([p.shape[1] for p in pictures])
    runs, offsets = [], [0]
    for picture in pictures:  # every pixel its own run: joined_runs must join them
        starts = np.arange(picture.shape[0] * picture.shape[1])
        runs.append((starts, picture.reshape(-1, 4)))
        offsets.append(offsets[-1] + starts.size)
    values = np.concatenate([v for _, v in runs])
    palette, index = np.unique(values, axis=0, return_inverse=True)
    joined = runs_png.joined_runs(heights, widths, np.array(offsets), np.concatenate([s for s, _ in runs]), palette,
                                  index.ravel())
    singles = [runs_png.runs_of(p) for p in pictures]
    assert joined.picture_runs.tolist() == np.cumsum([0] + [r.starts.size for r in singles]).tolist()
    assert (joined.starts == np.concatenate([r.starts for r in singles])).all()
    fits = runs_png.fits(joined)
    files = runs_png.encode(joined.take(np.flatnonzero(fits)))
    assert files == [encode_picture(p)[0] for p, fit in zip(pictures, fits, strict=True) if fit]


def test_a_picture_that_is_not_flat_goes_to_opencv_unchanged():
    """A photo-like picture (a run every pixel or so) is deflated by OpenCV, as before."""
    noise = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    assert runs_png.fits(runs_png.runs_of(noise)).tolist() == [False]
    assert encode_picture(noise)[0] == _old_encoding(noise)


@pytest.mark.parametrize("shape", [(1, 1), (1, 5000), (5000, 1), (3, 3, 4), (2, 20000, 4), (1, 70000)])
def test_edge_sizes_decode_to_their_pixels(shape):
    picture = np.zeros(shape, dtype=np.uint8)
    picture.reshape(-1)[: picture.size // 3] = 200
    assert (_decoded(encode_picture(picture)[0], picture) == picture).all()


def test_rendered_pictures_decode_as_the_old_files_did_and_are_about_as_small():
    """Every view of the real COCO items: the new file decodes to the old file's pixels; the files are at most
    1.6 times OpenCV's size (about 1.3 times on masks)."""
    if not AVAILABLE:
        pytest.skip("needs the real-file corpus")
    dataset = get_format("coco").read(real_file("coco/icevision/annotations.json"), ConvertOptions(),
                                      ConversionReport())
    new_size = old_size = 0
    for collection in dataset.items:
        for view in (ViewAnnotationOptions.MASK, ViewAnnotationOptions.INSTANCE, ViewAnnotationOptions.OBJECT_ID):
            picture = render(collection, view, label_map=dataset.labels).image
            new, old = encode_picture(picture)[0], _old_encoding(picture)
            assert (_decoded(new, picture) == _decoded(old, picture)).all()
            new_size, old_size = new_size + len(new), old_size + len(old)
    assert new_size <= 1.6 * old_size


# ==== Dataloop mask PNGs: OpenCV's bytes (level 1), written directly ==========================================
@settings(max_examples=200, deadline=None)
@given(mask=hnp.arrays(bool, hnp.array_shapes(min_dims=2, max_dims=2, max_side=70)),
       density=st.sampled_from(["as drawn", "blocks", "full", "empty"]),
       rgb=st.tuples(*[st.integers(0, 255)] * 3))
def test_a_mask_png_is_the_bytes_opencv_writes_at_level_1(mask, density, rgb):
    if density == "blocks":
        mask = np.kron(mask[:8, :8], np.ones((9, 7), dtype=bool))
    elif density in ("full", "empty"):
        mask = np.full(mask.shape, density == "full")
    bgra = np.zeros((*mask.shape, 4), dtype=np.uint8)
    bgra[mask] = (rgb[2], rgb[1], rgb[0], 255)
    ok, expected = cv2.imencode(".png", bgra, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    assert ok and mask_png(mask, (*rgb, 255)) == expected.tobytes()


@pytest.mark.parametrize("shape", [(3, 9000), (9000, 2), (1, 1)])
def test_a_wide_tall_or_tiny_mask_png_is_opencvs(shape):
    """Rows past 32 KiB (libpng's window rules change), a column, a pixel."""
    mask = np.zeros(shape, dtype=bool)
    mask.reshape(-1)[::7] = True
    bgra = np.zeros((*shape, 4), dtype=np.uint8)
    bgra[mask] = (3, 2, 1, 255)
    assert mask_png(mask, (1, 2, 3, 255)) == cv2.imencode(".png", bgra, [cv2.IMWRITE_PNG_COMPRESSION, 1])[1].tobytes()


def test_a_large_mask_png_is_opencvs_and_round_trips():
    """Past libpng's small-image window rules and its 8 KiB IDAT chunks; read back as the same mask and colour."""
    yy, xx = np.mgrid[:480, :640]
    mask = ((xx - 300) ** 2 + (yy - 200) ** 2 < 150 ** 2) | ((xx // 40 + yy // 40) % 7 == 0)
    mask[400:] = np.random.default_rng(0).random((80, 640)) < 0.3  # noise: several IDAT chunks
    bgra = np.zeros((480, 640, 4), dtype=np.uint8)
    bgra[mask] = (30, 20, 10, 255)
    expected = cv2.imencode(".png", bgra, [cv2.IMWRITE_PNG_COMPRESSION, 1])[1].tobytes()
    assert len(expected) > 2 * 8192 and mask_png(mask, (10, 20, 30, 255)) == expected
    url = encode_png_mask(mask, (10, 20, 30))
    decoded, color = decode_png_mask(split_data_url(url), max_pixels=10**7)
    assert (decoded == mask).all() and color == (10, 20, 30)
