"""Rendering (``dlconvert.render``): every picture checked against an oracle that does not share its code.

* Fills against independent rasterisers: pycocotools' ``annToMask`` for polygons, shapely's
  ``contains_xy`` on the grid of pixel centres for rotated boxes and ellipses.
* Id pictures hold exactly ``{0} ∪ {drawn ids}`` (no anti-aliased edge values, no uint8 wrap: the
  SDK's B1 and B20), in a dtype wide enough, and read back unchanged from their 16-bit PNG /
  32-bit TIFF.
* Draw order, overlap counts, determinism, video frames (held and hidden states, B24), rotated
  boxes (B4), EXIF orientation 6 (B9), colours, shapeless types (B11), reading pictures back
  into Segmentations (including a real SDK-rendered instance PNG), and the ``render`` command.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

import cv2
import numpy as np
import pytest
import shapely
import shapely.affinity
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image
from pycocotools import mask as coco_mask
from realfiles import real_file, requires_real_files
from strategies import star_rings

from dlconvert import (
    AnnotationCollection,
    Box,
    Classification,
    DlconvertError,
    Ellipse,
    Point,
    Polygon,
    Polyline,
    Segmentation,
    Subtitle,
)
from dlconvert.cli import main
from dlconvert.dataset import ConvertOptions
from dlconvert.formats import get_format
from dlconvert.labels import LabelInfo, LabelMap, stable_color
from dlconvert.render import (
    ViewAnnotationOptions,
    contact_sheet,
    encode_picture,
    load_display_image,
    render,
    render_dataset,
    write_picture,
)
from dlconvert.report import ConversionReport

VIEWS = ("mask", "instance", "object_id", "img_mask")
ID_VIEWS = ("instance", "object_id")
RENDER_FIXTURES = real_file("dataloop/dtlpy-tests-2019")


# -- helpers ---------------------------------------------------------------------------------------
def _item(width: int, height: int, *definitions, object_ids=None) -> AnnotationCollection:
    collection = AnnotationCollection(filename="/scene.png", width=width, height=height, mimetype="image/png")
    for index, definition in enumerate(definitions):
        collection.add(definition, object_id=None if object_ids is None else object_ids[index])
    return collection


def _covered(collection: AnnotationCollection, view: str = "instance") -> np.ndarray:
    """The pixels a view paints: id > 0, or alpha > 0 on MASK."""
    picture = render(collection, view).image
    return picture[:, :, 3] > 0 if picture.ndim == 3 else picture > 0


def _centres_inside(geometry, shape: tuple[int, int]) -> np.ndarray:
    """Pixel (r, c) is in when its centre (c + ½, r + ½) is inside ``geometry`` (shapely)."""
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]]
    return shapely.contains_xy(geometry, cols + 0.5, rows + 0.5)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 1.0


def _farthest_disagreement(a: np.ndarray, b: np.ndarray, geometry) -> float:
    """How far (px) from ``geometry``'s outline the centre of a pixel where ``a`` and ``b`` differ can be."""
    rows, cols = np.nonzero(a != b)
    if rows.size == 0:
        return 0.0
    return float(shapely.distance(shapely.points(cols + 0.5, rows + 0.5), geometry.boundary).max())


def _read_back(path: Path) -> list[np.ndarray]:
    """A written id picture as every reader we trust sees it."""
    return [cv2.imread(str(path), cv2.IMREAD_UNCHANGED), np.asarray(Image.open(path))]


# -- 1. filled shapes agree with independent rasterisers ----------------------------------------------
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # pycocotools under NumPy 2
@given(st.data())
def test_polygon_fill_matches_pycocotools(data):
    height, width = data.draw(st.integers(60, 200), label="h"), data.draw(st.integers(60, 200), label="w")
    reach = min(height, width) / 2 - 1
    r_min = data.draw(st.floats(18, min(40.0, reach)), label="r_min")
    r_max = min(reach, 2 * r_min)
    center = (data.draw(st.floats(r_max, width - r_max)), data.draw(st.floats(r_max, height - r_max)))
    ring = np.array(data.draw(star_rings(center, r_min=r_min, r_max=r_max, min_vertices=6, max_vertices=20)))
    collection = _item(width, height, Polygon(geo=ring, label="shape"))

    ours = _covered(collection, "instance")
    assert np.array_equal(ours, _covered(collection, "mask"))
    rle = coco_mask.frPyObjects([ring.ravel().tolist()], height, width)
    theirs = coco_mask.decode(coco_mask.merge(rle)).astype(bool)
    assert _iou(ours, theirs) >= 0.98
    # They differ only on boundary pixels: centres within half a pixel of the outline.
    assert _farthest_disagreement(ours, theirs, shapely.Polygon(ring)) <= 0.5


@given(
    size=st.tuples(st.integers(20, 200), st.integers(20, 200)),
    box_size=st.tuples(st.floats(20, 120), st.floats(20, 120)),
    where=st.tuples(st.floats(0.1, 0.9), st.floats(0.1, 0.9)),
    angle=st.floats(-360, 360),
)
def test_rotated_box_fill_matches_shapely(size, box_size, where, angle):
    height, width = size
    cx, cy = where[0] * width, where[1] * height
    left, top, right, bottom = cx - box_size[0] / 2, cy - box_size[1] / 2, cx + box_size[0] / 2, cy + box_size[1] / 2
    oracle = shapely.affinity.rotate(shapely.box(left, top, right, bottom), angle, origin=(cx, cy))
    collection = _item(width, height, Box(left=left, top=top, right=right, bottom=bottom, angle=angle, label="b"))

    ours = _covered(collection, "instance")
    theirs = _centres_inside(oracle, (height, width))
    assert np.array_equal(ours, _covered(collection, "mask"))
    # Centres exactly on an edge (an edge at x = c + ½) belong to either side by convention: only they may differ.
    rows, cols = np.mgrid[0:height, 0:width]
    on_edge = shapely.distance(shapely.points(cols + 0.5, rows + 0.5), oracle.boundary) <= 1e-6
    assert _iou(ours & ~on_edge, theirs & ~on_edge) >= 0.98
    assert np.array_equal(ours[~on_edge], theirs[~on_edge])


@given(
    size=st.tuples(st.integers(40, 200), st.integers(40, 200)),
    radii=st.tuples(st.floats(10, 80), st.floats(10, 80)),
    where=st.tuples(st.floats(0.2, 0.8), st.floats(0.2, 0.8)),
    angle=st.floats(-360, 360),
)
def test_ellipse_fill_matches_shapely(size, radii, where, angle):
    height, width = size
    cx, cy = where[0] * width, where[1] * height
    disc = shapely.Point(cx, cy).buffer(1.0, quad_segs=512)
    oracle = shapely.affinity.rotate(shapely.affinity.scale(disc, radii[0], radii[1], origin=(cx, cy)), angle,
                                     origin=(cx, cy))
    collection = _item(width, height, Ellipse(x=cx, y=cy, rx=radii[0], ry=radii[1], angle=angle, label="e"))

    ours = _covered(collection, "instance")
    theirs = _centres_inside(oracle, (height, width))
    assert np.array_equal(ours, _covered(collection, "mask"))
    assert _iou(ours, theirs) >= 0.98
    assert _farthest_disagreement(ours, theirs, oracle) <= 0.1


def test_angles_turn_clockwise_on_screen():
    """A wide ellipse at 90° is tall; a box at 90° about its centre is its transpose (y points down)."""
    ellipse = _covered(_item(100, 100, Ellipse(x=50, y=50, rx=40, ry=8, angle=90, label="e")))
    assert ellipse[85, 50] and ellipse[15, 50] and not ellipse[50, 85] and not ellipse[50, 15]
    box = _covered(_item(100, 100, Box(left=20, top=40, right=80, bottom=60, angle=90, label="b")))
    assert np.array_equal(box, _centres_inside(shapely.box(40, 20, 60, 80), (100, 100)))


# -- 2. id pictures hold exactly the drawn ids ---------------------------------------------------------
_CELL = 40
_ID_LABELS = ("car", "person", "tree", "zebra")


def _ids(low: int = 1):
    """Ids on both sides of the uint8 / uint16 / 32-bit TIFF limits."""
    return st.one_of(st.integers(low, 255), st.integers(256, 65_535), st.integers(65_536, 2**31 - 1),
                     st.sampled_from([255, 256, 65_535, 65_536, 2**31 - 1]))


@st.composite
def _shape_in_cell(draw, x0: int, y0: int):
    """A shape of any drawn type kept inside the 40-px cell at ``(x0, y0)`` (a margin all round)."""
    cx = x0 + _CELL / 2 + draw(st.floats(-2, 2))
    cy = y0 + _CELL / 2 + draw(st.floats(-2, 2))
    label = draw(st.sampled_from(_ID_LABELS))
    kind = draw(st.sampled_from(["box", "polygon", "ellipse", "point", "polyline", "mask"]))
    if kind == "box":
        hw, hh = draw(st.floats(3, 10)), draw(st.floats(3, 10))
        angle = draw(st.one_of(st.none(), st.floats(-360, 360)))
        return Box(left=cx - hw, top=cy - hh, right=cx + hw, bottom=cy + hh, angle=angle, label=label)
    if kind == "polygon":
        return Polygon(geo=np.array(draw(star_rings((cx, cy), r_min=4, r_max=14, min_vertices=5))), label=label)
    if kind == "ellipse":
        return Ellipse(x=cx, y=cy, rx=draw(st.floats(3, 14)), ry=draw(st.floats(3, 14)),
                       angle=draw(st.floats(-360, 360)), label=label)
    if kind == "point":
        return Point(x=cx + draw(st.floats(-5, 5)), y=cy + draw(st.floats(-5, 5)), label=label)
    if kind == "polyline":
        vertex = st.tuples(st.floats(cx - 12, cx + 12), st.floats(cy - 12, cy + 12))
        return Polyline(geo=[np.array(draw(st.lists(vertex, min_size=2, max_size=5)))], label=label)
    blob = draw(hnp.arrays(np.bool_, (16, 16)).filter(lambda b: b.any()))
    return ("mask", int(x0 + 12), int(y0 + 12), blob, label)  # placed on the canvas below


@st.composite
def _id_scenes(draw):
    """Up to 8 shapes, one per cell of a grid (never overlapping, background all round), with object ids."""
    count = draw(st.integers(1, 8))
    columns = draw(st.integers(1, 4))
    rows = -(-count // columns)
    width, height = columns * _CELL + draw(st.integers(0, 7)), rows * _CELL + draw(st.integers(0, 7))
    collection = AnnotationCollection(filename="/scene.png", width=width, height=height, mimetype="image/png")
    cells = []
    for index in range(count):
        row, column = divmod(index, columns)
        x0, y0 = column * _CELL, row * _CELL
        shape = draw(_shape_in_cell(x0, y0))
        if isinstance(shape, tuple):
            _, mx, my, blob, label = shape
            full = np.zeros((height, width), dtype=bool)
            full[my:my + blob.shape[0], mx:mx + blob.shape[1]] = blob
            shape = Segmentation(geo=full, label=label)
        collection.add(shape, object_id=draw(_ids()))
        cells.append((slice(y0, y0 + _CELL), slice(x0, x0 + _CELL)))
    instance_ids = draw(st.one_of(st.none(), st.fixed_dictionaries({label: _ids() for label in _ID_LABELS})))
    return collection, cells, instance_ids


def _expected_dtype(peak: int):
    return np.uint8 if peak <= 0xFF else np.uint16 if peak <= 0xFFFF else np.uint32


@given(_id_scenes(), st.sampled_from(ID_VIEWS))
def test_id_pictures_hold_exactly_the_drawn_ids(scene, view):
    collection, cells, instance_ids = scene
    if view == "instance":
        ids = instance_ids or LabelMap.from_names(a.label for a in collection).instance_map()
        values = [ids[a.label] for a in collection]
    else:
        values = [int(a.object_id) for a in collection]
    result = render(collection, view, label_instance_dict=instance_ids)
    picture = result.image

    assert set(np.unique(picture).tolist()) == {0, *values}
    for cell, value in zip(cells, values, strict=True):  # each shape where it was put, nothing else there
        assert set(np.unique(picture[cell]).tolist()) == {0, value}
    assert picture.dtype == _expected_dtype(max(values))
    assert result.drawn == len(values) and not result.not_drawn and result.overlap_pixels == 0
    assert set(result.legend) == set(values)

    # The same scene rendered again gives the same bytes.
    data, extension = encode_picture(picture)
    assert encode_picture(render(collection, view, label_instance_dict=instance_ids).image) == (data, extension)

    with tempfile.TemporaryDirectory() as folder:
        written = write_picture(result, Path(folder) / "item.png", ViewAnnotationOptions(view))
        assert written.suffix == (".png" if max(values) <= 0xFFFF else ".tiff")
        for back in _read_back(written):
            assert back.shape == picture.shape
            assert np.array_equal(back.astype(np.int64), picture.astype(np.int64))
        if written.suffix == ".png":
            assert cv2.imread(str(written), cv2.IMREAD_UNCHANGED).dtype == picture.dtype  # 8- or 16-bit PNG
        else:
            with Image.open(written) as image:
                assert image.format == "TIFF" and image.mode == "I"  # 32-bit
        legend = json.loads((Path(folder) / "item.json").read_text(encoding="utf-8"))
        assert legend["background"] == 0
        assert sorted(int(k) for k in legend["values"]) == sorted(set(values))


def test_object_ids_a_picture_cannot_hold_get_a_value_by_position_never_wrapped(tmp_path):
    """An objectId that is not a whole number 1…2³¹−1 is never wrapped (B20) nor dropped: it is drawn
    with its position's value (the next free one when taken), and the legend says which id it is."""
    given = ["7", 12.0, "2147483647", "2147483648", "-1", "abc", 1.5, 0]
    raw = {"filename": "/a.png", "metadata": {"system": {"mimetype": "image/png", "width": 40, "height": 30}},
           "annotations": [{"type": "box", "label": "a", "coordinates": [{"x": 2 + 4 * i, "y": 2}, {"x": 5 + 4 * i,
                            "y": 20}], "metadata": {"system": {"objectId": object_id}}}
                           for i, object_id in enumerate(given)]}
    collection = AnnotationCollection.from_json(raw)
    result = render(collection, "object_id")
    # positions 4, 5, 6 are free; position 7 is object 7's, so 1.5 takes 8 and the id 0 (position 8) takes 9
    values = [7, 12, 2**31 - 1, 4, 5, 6, 8, 9]
    assert set(np.unique(result.image).tolist()) == {0, *values}
    assert not result.not_drawn and result.drawn == len(given)
    for index, (annotation, value) in enumerate(zip(collection, values, strict=True)):
        assert result.image[10, 3 + 4 * index] == value  # the box is drawn with its value
        assert result.legend[value]["object_id"] == annotation.object_id  # and the legend names its own id
        assert ("position" in result.legend[value]) == (index >= 3)
    assert result.legend[9] == {"object_id": "0", "label": "a", "position": 8}
    path = write_picture(result, tmp_path / "ids.png", ViewAnnotationOptions.OBJECT_ID)
    for back in _read_back(path):
        assert np.array_equal(back.astype(np.int64), result.image.astype(np.int64))
    with pytest.raises(DlconvertError, match="instance id"):
        render(collection, "instance", label_instance_dict={"a": 2**31})
    with pytest.raises(DlconvertError, match="32-bit TIFF"):
        encode_picture(np.full((2, 2), 2**31, dtype=np.uint32))


def test_one_object_id_on_several_labels_has_one_legend_entry_naming_them_all():
    shared = _item(60, 20, *(Box(left=2 + 20 * i, top=2, right=15 + 20 * i, bottom=15, label=name)
                             for i, name in enumerate(["b", "a", "c"])), object_ids=[5, 5, 5])
    result = render(shared, "object_id")
    assert result.legend == {5: {"object_id": "5", "label": ["a", "b", "c"]}}
    assert set(np.unique(result.image).tolist()) == {0, 5}


# -- 3. overlap ---------------------------------------------------------------------------------------
def test_later_annotation_wins_and_overlap_is_counted():
    first = Box(left=10, top=10, right=30, bottom=30, label="a")
    second = Box(left=20, top=20, right=40, bottom=40, label="b")
    label_map = LabelMap([LabelInfo("a", 1, (255, 0, 0)), LabelInfo("b", 2, (0, 0, 255))])
    collection = _item(50, 50, first, second, object_ids=[300, 70_000])

    instance = render(collection, "instance", label_map=label_map)
    assert instance.overlap_pixels == 100  # the 10 × 10 square [20, 30]²
    assert (instance.image[20:30, 20:30] == 2).all()
    assert np.count_nonzero(instance.image == 1) == 300 and np.count_nonzero(instance.image == 2) == 400

    object_ids = render(collection, "object_id")
    assert object_ids.overlap_pixels == 100 and (object_ids.image[20:30, 20:30] == 70_000).all()
    mask = render(collection, "mask", label_map=label_map)
    assert mask.overlap_pixels == 100 and tuple(mask.image[25, 25]) == (0, 0, 255, 255)

    swapped = render(_item(50, 50, second, first), "instance", label_map=label_map)
    assert swapped.overlap_pixels == 100 and (swapped.image[20:30, 20:30] == 1).all()
    apart = render(_item(50, 50, first, Box(left=30, top=30, right=40, bottom=40, label="b")), "instance")
    assert apart.overlap_pixels == 0  # touching edges share no pixel


# -- 4. determinism -----------------------------------------------------------------------------------
def _sample_items(sample_dir: Path) -> list[AnnotationCollection]:
    return list(get_format("dataloop").read(sample_dir, ConvertOptions(), ConversionReport()).items)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_render_dataset_is_byte_identical_in_any_order(sample_dir, tmp_path):
    labels = LabelMap.load(sample_dir / "ontology.json")
    items = _sample_items(sample_dir)
    orders = [items, list(reversed(items)), random.Random(7).sample(items, len(items)), _sample_items(sample_dir)]
    trees = []
    for index, order in enumerate(orders):
        render_dataset(order, tmp_path / str(index), VIEWS, images_root=sample_dir / "items", label_map=labels,
                       frame_num=5, with_text=True)
        trees.append(_tree(tmp_path / str(index)))
    assert len(trees[0]) == 4 * 4 + 2 * 4  # 4 pictures per view (no audio) + a legend per id picture
    for tree in trees[1:]:
        assert tree.keys() == trees[0].keys()
        for name, data in tree.items():
            assert data == trees[0][name], name
    # Without a label map each item still gets the same pictures whatever its neighbours.
    render_dataset(items, tmp_path / "a", ["mask", "instance"])
    render_dataset(list(reversed(items)), tmp_path / "b", ["mask", "instance"])
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


# -- 5. video, rotation, EXIF -------------------------------------------------------------------------
def _raw_state(raw: dict, object_id: str, frame: int) -> dict | None:
    """The stored snapshot of a track at exactly ``frame`` in the raw JSON (no dlconvert code)."""
    for annotation in raw["annotations"]:
        system = annotation["metadata"]["system"]
        if system["objectId"] != object_id:
            continue
        if system["frame"] == frame:
            return {"data": annotation["coordinates"], "objectVisible": True}
        for snapshot in system["snapshots_"]:
            if snapshot["frame"] == frame:
                return snapshot
    return None


def test_video_frames_render_held_states_and_hide_hidden_ones(sample_dir):
    path = sample_dir / "json/video/traffic.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    collection = AnnotationCollection.from_json_file(path)
    expected = {0: {0, 1}, 3: {0, 1, 2}, 5: {0, 1, 2}, 6: {0, 1}, 7: {0, 1, 2}, 8: {0, 1, 2}, 9: {0, 1}}
    for frame, values in expected.items():
        picture = render(collection, "object_id", frame_num=frame).image
        assert set(np.unique(picture).tolist()) == values, frame
        for object_id in values - {0}:  # each track exactly where the file says it is on that frame
            top_left, bottom_right = _raw_state(raw, str(object_id), frame)["data"]
            box = (slice(top_left["y"], bottom_right["y"]), slice(top_left["x"], bottom_right["x"]))
            assert (picture[box] == object_id).all()
            assert np.count_nonzero(picture == object_id) == picture[box].size
    assert _raw_state(raw, "2", 6)["objectVisible"] is False
    hidden = render(collection, "mask", frame_num=6).image
    shown = render(collection, "mask", frame_num=5).image
    assert hidden[30:52, 106:114, 3].max() == 0 and shown[30:52, 114:122, 3].min() == 255

    # Between keyframes the earlier state is held (no interpolation); a hidden keyframe hides until the next one.
    track = AnnotationCollection(filename="/v.mp4", width=80, height=60, mimetype="video/mp4", fps=10)
    track.add(Box(10, 10, 20, 20, label="a"), object_id=3, frame_num=0)
    track.add(Box(50, 30, 60, 40, label="a"), object_id=3, frame_num=10)
    track.add(Box(50, 30, 60, 40, label="a"), object_id=3, frame_num=12, object_visible=False)
    track.add(Box(30, 30, 40, 40, label="a"), object_id=3, frame_num=15)
    first, second, last = (np.zeros((60, 80), np.uint8) for _ in range(3))
    first[10:20, 10:20], second[30:40, 50:60], last[30:40, 30:40] = 3, 3, 3
    for frame, picture in ((0, first), (5, first), (9, first), (10, second), (11, second), (15, last)):
        assert np.array_equal(render(track, "object_id", frame_num=frame).image, picture), frame
    for frame in (12, 14, 16, 40):
        assert not render(track, "object_id", frame_num=frame).image.any(), frame


def test_video_render_dataset_at_a_hidden_frame(sample_dir, tmp_path):
    items = [c for c in _sample_items(sample_dir) if c.is_video]
    render_dataset(items, tmp_path, ["object_id", "overlay"], images_root=sample_dir / "items", frame_num=6)
    legend = json.loads((tmp_path / "object_id/video/traffic.json").read_text(encoding="utf-8"))
    assert list(legend["values"]) == ["1"]
    overlay = cv2.imread(str(tmp_path / "img_mask/video/traffic.png"))
    assert overlay.shape == (120, 160, 3) and overlay.std() > 0  # the video's frame under the boxes


def test_rotated_box_is_drawn_rotated():
    cx = cy = 80.0
    box = Box(left=50, top=50, right=110, bottom=110, angle=30, label="b")
    straight = np.array([[50, 50], [110, 50], [110, 110], [50, 110]], dtype=float)
    theta = np.radians(30)
    turn = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    turned = (straight - [cx, cy]) @ turn.T + [cx, cy]  # clockwise on screen, y down
    for view in ("instance", "mask", "object_id"):
        covered = _covered(_item(160, 160, box, object_ids=[9]), view)
        for corners, inside in ((turned, True), (straight, False)):
            for x, y in corners + 0.15 * ([cx, cy] - corners):  # just inside each corner
                assert covered[int(y), int(x)] == inside, (view, x, y)


def _exif6_item(width: int = 640, height: int = 480) -> dict:
    return {"filename": "/rot.jpg", "metadata": {"system": {
        "mimetype": "image/jpeg", "width": width, "height": height, "exif": {"Orientation": 6}}},
        # A box in the displayed frame (as the platform stores coordinates), around the marker below.
        "annotations": [{"type": "box", "label": "marker", "coordinates": [{"x": 336, "y": 400}, {"x": 384, "y": 464}],
                         "metadata": {"system": {"objectId": "1"}}}]}


def test_exif_orientation_6_renders_the_displayed_size():
    collection = AnnotationCollection.from_json(_exif6_item())
    assert (collection.width, collection.height) == (640, 480)
    for view in VIEWS:
        assert render(collection, view).image.shape[:2] == (640, 480)  # rows = displayed height = stored width


def test_exif_orientation_6_overlay_lines_up_with_the_image(tmp_path):
    # Stored pixels 640 wide × 480 high, black, with a blue marker at stored rows 96–144, columns 400–464
    # (on JPEG's 16-px blocks, so no ringing leaks out of it).
    stored = np.zeros((480, 640, 3), dtype=np.uint8)
    stored[96:144, 400:464] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turn 90° clockwise to display
    Image.fromarray(stored).save(tmp_path / "rot.jpg", exif=exif, quality=95)
    # EXIF 6 shows stored pixel (x, y) at displayed (479 − y, x): the marker is at columns 336–384, rows 400–464.
    shown = load_display_image(tmp_path / "rot.jpg")
    assert shown.shape == (640, 480, 3)
    assert shown[402:462, 338:382, 2].min() > 200 and shown[402:462, 338:382, :2].max() < 40

    labels = LabelMap([LabelInfo("marker", 1, (255, 0, 0))])
    collection = AnnotationCollection.from_json(_exif6_item())
    render_dataset([collection], tmp_path / "out", ["overlay"], images_root=tmp_path, label_map=labels)
    overlay = cv2.cvtColor(cv2.imread(str(tmp_path / "out/img_mask/rot.png")), cv2.COLOR_BGR2RGB).astype(int)
    assert overlay.shape == (640, 480, 3)
    inside = overlay[406:458, 342:378]  # under the fill: 0.4 red over the blue marker
    assert np.abs(inside - [102, 0, 153]).max() <= 12
    outside = np.ones((640, 480), dtype=bool)
    outside[396:468, 332:388] = False  # the box and its outline, with a margin
    assert overlay[outside].max() <= 20  # the marker shows nowhere else: black everywhere


# -- 6. colours and shapeless types ---------------------------------------------------------------
def test_mask_colours_come_from_the_label_map():
    labels = LabelMap([LabelInfo("car", 1, (10, 200, 30)), LabelInfo("tree", 2, (5, 6, 7))])
    ring = np.array([[60, 10], [90, 10], [90, 40], [60, 40]], dtype=float)
    collection = _item(120, 60, Box(left=10, top=10, right=40, bottom=40, label="car"),
                       Polygon(geo=ring, label="tree"), Ellipse(x=105, y=40, rx=8, ry=12, label="ñandú 🚗"))
    picture = render(collection, "mask", label_map=labels).image
    unknown = stable_color("ñandú 🚗")
    assert tuple(picture[25, 25]) == (10, 200, 30, 255)
    assert tuple(picture[25, 75]) == (5, 6, 7, 255)
    assert tuple(picture[40, 105]) == (*unknown, 255)
    assert tuple(picture[5, 5]) == (0, 0, 0, 0)
    colours = {tuple(v) for v in picture.reshape(-1, 4)}
    assert colours == {(0, 0, 0, 0), (10, 200, 30, 255), (5, 6, 7, 255), (*unknown, 255)}  # no blended edges

    # The unknown label's colour does not depend on the map, the other labels or the process.
    alone = render(_item(120, 60, Ellipse(x=105, y=40, rx=8, ry=12, label="ñandú 🚗")), "mask").image
    assert tuple(alone[40, 105]) == (*unknown, 255)
    code = "from dlconvert.labels import stable_color; print(*stable_color('ñandú 🚗'))"
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONIOENCODING": "utf-8"}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        assert tuple(int(v) for v in out.stdout.split()) == unknown


def test_shapeless_types_draw_nothing_and_are_counted():
    collection = _item(50, 40, Classification(label="daytime"), Subtitle(text="hello", label="speaker"),
                       object_ids=[4, 5])
    base = np.full((40, 50, 3), 77, dtype=np.uint8)
    for view in VIEWS:
        result = render(collection, view, image=base if view == "img_mask" else None)
        assert result.drawn == 0
        assert result.not_drawn == {"render.no-shape": 2}, view
        assert result.problems == {0: ("render.no-shape", "class has no shape"),
                                   1: ("render.no-shape", "subtitle has no shape")}
        if view == "img_mask":
            assert np.array_equal(result.image, base)
        else:
            assert not result.image.any()


def test_text_never_reaches_id_pictures():
    """with_text writes on the overlay only; id pictures keep exactly their ids (B23)."""
    collection = _item(120, 80, Box(left=10, top=30, right=100, bottom=70, label="a long label"), object_ids=[3])
    for view, values in (("instance", {0, 1}), ("object_id", {0, 3})):
        assert set(np.unique(render(collection, view, with_text=True).image).tolist()) == values
    plain = render(collection, "img_mask").image
    assert not np.array_equal(render(collection, "img_mask", with_text=True).image, plain)


# -- 7. pictures back into Segmentations ----------------------------------------------------------------
@given(_id_scenes())
def test_instance_picture_reads_back_into_one_segmentation_per_label(scene):
    collection, _, _ = scene
    labels = LabelMap.from_names(_ID_LABELS)
    picture = render(collection, "instance", label_map=labels).image
    recovered = AnnotationCollection.from_instance_mask(picture, labels.instance_map(), object_ids=True)
    drawn = {a.label for a in collection}
    assert sorted(a.label for a in recovered) == sorted(drawn)
    for annotation in recovered:
        value = labels[annotation.label].instance_id
        assert annotation.type == "binary" and int(annotation.object_id) == value
        assert np.array_equal(annotation.annotation_definition.geo, picture == value)


def test_semantic_picture_reads_back_by_colour():
    colours = {"car": (230, 25, 75), "tree": (60, 180, 75), "sky": (0, 130, 200)}
    labels = LabelMap(LabelInfo(name, i, rgb) for i, (name, rgb) in enumerate(colours.items(), start=1))
    collection = _item(100, 60, Box(left=5, top=5, right=45, bottom=45, label="car"),
                       Ellipse(x=40, y=30, rx=20, ry=12, angle=20, label="tree"))
    rgba = render(collection, "mask", label_map=labels).image
    recovered = AnnotationCollection.from_instance_mask(rgba[:, :, :3], colours, colors=True)
    assert [a.label for a in recovered] == ["car", "tree"]  # one per colour present; "sky" is not there
    for annotation in recovered:
        definition = annotation.annotation_definition
        expected = (rgba[:, :, 3] > 0) & np.all(rgba[:, :, :3] == colours[annotation.label], axis=2)
        assert definition.color == colours[annotation.label]
        assert np.array_equal(definition.geo, expected) and expected.any()


@requires_real_files
def test_sdk_rendered_instance_png_loads_into_segmentations():
    """dtlpy's own INSTANCE rendering (dataloop/dtlpy-tests-2019/instance_should_be.png in the real-file corpus)."""
    picture = np.asarray(Image.open(RENDER_FIXTURES / "instance_should_be.png"))
    assert picture.shape == (768, 1536) and picture.dtype == np.uint8
    values = sorted(set(np.unique(picture).tolist()) - {0})
    assert values == [1, 20, 156, 196]
    recovered = AnnotationCollection.from_instance_mask(picture, {f"id {v}": v for v in values},
                                                        filename="/0000000162.jpg", object_ids=True)
    assert (recovered.width, recovered.height) == (1536, 768) and len(recovered) == len(values)
    counts = {}
    for annotation, value in zip(recovered, values, strict=True):
        assert annotation.type == "binary" and annotation.label == f"id {value}"
        assert np.array_equal(annotation.annotation_definition.geo, picture == value)
        counts[value] = int(annotation.annotation_definition.geo.sum())
    assert counts == {1: 12062, 20: 500, 156: 796, 196: 130}
    # They survive the item JSON (PNG data URLs) and render back to the same picture.
    again = AnnotationCollection.from_json(recovered.to_json())
    assert np.array_equal(render(again, "object_id").image, picture)


def test_show_and_download_use_the_same_renderer(tmp_path):
    collection = _item(60, 40, Box(left=5, top=5, right=30, bottom=30, label="a"), object_ids=[70_000])
    for thickness in (-1, 1, 3):
        assert np.array_equal(collection.show(annotation_format="object_id", thickness=thickness),
                              render(collection, "object_id", thickness=thickness).image)
    path = collection.download(tmp_path / "ids.png", annotation_format="object_id")
    assert path.suffix == ".tiff"
    assert set(np.unique(np.asarray(Image.open(path))).tolist()) == {0, 70_000}
    annotation = collection[0]
    single = annotation.show(height=40, width=60, annotation_format="instance", label_instance_dict={"a": 300})
    assert single.dtype == np.uint16 and set(np.unique(single).tolist()) == {0, 300}


def test_contact_sheet_leaves_out_audio_and_keeps_tiles(sample_dir):
    items = _sample_items(sample_dir)
    sheet = contact_sheet(items, images_root=sample_dir / "items", columns=2, tile=128, frame_num=5)
    assert sum(not c.is_audio for c in items) == 4  # 4 tiles of 128 × 96 (4:3 items): 2 rows of 2
    assert sheet.shape[1] == 2 * 128 and 2 * 96 < sheet.shape[0] <= 2 * (128 + 32)
    row = sheet.shape[0] // 2
    for r in range(2):
        for c in range(2):
            assert sheet[r * row:r * row + 96, c * 128:(c + 1) * 128].std() > 5  # every tile has a picture


# -- 8. the render command ----------------------------------------------------------------------------
def test_cli_render_writes_the_export_layout(cli_runner, sample_dir, tmp_path):
    out = tmp_path / "out"
    result = cli_runner.invoke(main, ["render", str(sample_dir), str(out), "--from", "dataloop", "--view", "mask",
                                      "--view", "instance", "--view", "object_id", "--view", "overlay", "--sheet"])
    assert result.exit_code == 0, result.output + result.stderr
    assert f"16 pictures of 5 items (1 without a picture: audio) written to {out}" in result.stderr
    stems = ["animals/empty_01", "street/scene_01", "street/scene_02", "video/traffic"]
    expected = {f"{view}/{stem}.png" for view in VIEWS for stem in stems}
    expected |= {f"{view}/{stem}.json" for view in ID_VIEWS for stem in stems}
    expected |= {"labelmap.json", "sheet.png", ".dlconvert-output.json"}
    assert set(_tree(out)) == expected  # no audio picture, nothing else

    labels = LabelMap.load(out / "labelmap.json")
    for view in ID_VIEWS:
        for stem in stems:
            picture = cv2.imread(str(out / view / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
            legend = json.loads((out / view / f"{stem}.json").read_text(encoding="utf-8"))
            assert legend["background"] == 0
            assert {int(v) for v in legend["values"]} == set(np.unique(picture).tolist()) - {0}
            if view == "instance":
                for value, meaning in legend["values"].items():
                    assert labels[meaning["label"]].instance_id == int(value)
    mask = cv2.imread(str(out / "mask/street/scene_01.png"), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (240, 320, 4) and mask[:, :, 3].any()
    sheet = cv2.imread(str(out / "sheet.png"))
    assert sheet is not None and sheet.shape[1] == 4 * 256 and sheet.shape[0] > 192 and sheet.std() > 10


def _huge_dataset(root: Path, width: int, height: int) -> Path:
    (root / "json").mkdir(parents=True)
    item = {"id": "1", "filename": "/huge.png", "metadata": {"system": {"mimetype": "image/png", "width": width,
                                                                        "height": height}},
            "annotations": [{"type": "box", "label": "a", "coordinates": [{"x": 1, "y": 1}, {"x": 9, "y": 9}],
                             "metadata": {"system": {"objectId": "1"}}}]}
    (root / "json" / "huge.json").write_text(json.dumps(item), encoding="utf-8")
    return root


def test_cli_render_refuses_a_huge_canvas_in_one_line(cli_runner, tmp_path):
    src = _huge_dataset(tmp_path / "src", 10**9, 10**9)
    for view in ("mask", "instance", "overlay"):  # (the image is missing: allowed, to reach the canvas)
        result = cli_runner.invoke(main, ["render", str(src), str(tmp_path / view), "--from", "dataloop",
                                          "--view", view, "--sheet", "--allow-missing-images"])
        assert result.exit_code == 1
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "larger than the limit" in lines[0]
        assert "Traceback" not in result.output


def test_a_canvas_past_the_limit_is_refused_before_allocating():
    """20,001 × 20,000 pixels could be allocated (400 MB+), but must be refused first."""
    collection = AnnotationCollection.from_json(json.loads(json.dumps({
        "filename": "/big.png", "metadata": {"system": {"mimetype": "image/png", "width": 20_001, "height": 20_000}},
        "annotations": [{"type": "box", "label": "a", "coordinates": [{"x": 1, "y": 1}, {"x": 9, "y": 9}]}]})))
    tracemalloc.start()
    try:
        for view in VIEWS:
            with pytest.raises(DlconvertError, match="larger than the limit"):
                render(collection, view)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20
