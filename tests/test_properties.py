"""Property tests: JSON round trips, and geometry checked against oracles built from the raw numbers.

Oracles never go through ``definition.to_shapely()``: each test builds its own shapely shape (or
pixel union, or PIL-decoded PNG) from the numbers the definition was made from, then compares.

Tolerances (all stated where used):
* exact float geometry (boxes, polygons, cubes): 1e-9 relative + 1e-6 px absolute (coordinates
  reach 1000 px, so this is a few ulps of the inputs after a rotation);
* ellipses: the oracle is a 1024-gon, whose area is short by ≈ 6e-6 relative and whose extremes
  are short by ≈ 5e-6 × radius, so area 1e-4 relative and bounds 1e-4 × radius;
* masks: exact (pixel counts and pixel-edge outlines are integers);
* mask → polygon recovery: 2 % of the area, as the brief allows for rasterising then tracing.
"""

from __future__ import annotations

import base64
import io
import math
from functools import reduce

import numpy as np
import orjson
import pytest
import shapely
import shapely.affinity
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from strategies import (
    DEFINITION_STRATEGIES,
    annotation_json,
    boxes,
    collections,
    cubes,
    definitions,
    ellipses,
    item_json,
    masks,
    points,
    polygon_rings,
    polylines,
    rasterisable_polygons,
    segmentations,
    star_rings,
    video_collections,
)

from dlconvert import (
    AnnotationCollection,
    Box,
    Cube,
    Ellipse,
    Point,
    Polygon,
    Polyline,
    Pose,
    Segmentation,
    Subtitle,
    UndefinedAnnotationType,
)
from dlconvert.geometry import definition_from_json

# No deadline: OpenCV and shapely load lazily on first use; we test results, never time.
relaxed = settings(deadline=None)

REL, ABS = 1e-9, 1e-6


def close(a: float, b: float, rel: float = REL, abs_: float = ABS) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def all_close(a, b, rel: float = REL, abs_: float = ABS) -> bool:
    return len(a) == len(b) and all(close(x, y, rel, abs_) for x, y in zip(a, b, strict=True))


# ==================================================================================================
# JSON round trips
# ==================================================================================================
def reread(definition):
    """The definition read back from its coordinates after a trip through JSON text."""
    coordinates = orjson.loads(orjson.dumps(definition.to_coordinates()))
    args = (coordinates, definition.label, definition.attributes, definition.description)
    if isinstance(definition, UndefinedAnnotationType):
        # Its class does not know its type string: the reader dispatches on it.
        return definition_from_json(definition.type, *args)
    return type(definition).from_coordinates(*args)


@pytest.mark.parametrize("kind", sorted(DEFINITION_STRATEGIES))
@relaxed
@given(data=st.data())
def test_definition_round_trips_through_coordinates(kind, data):
    definition = data.draw(DEFINITION_STRATEGIES[kind])
    again = reread(definition)
    assert type(again) is type(definition)
    assert again == definition
    # And it writes the same JSON again (bytes, so 1 vs 1.0 and key order count).
    assert orjson.dumps(again.to_coordinates()) == orjson.dumps(definition.to_coordinates())


@relaxed
@given(definition=definitions())
def test_equality_sees_geometry_changes(definition):
    """The round-trip assertions mean something: a moved shape is not equal any more."""
    moved = reread(definition)
    if isinstance(moved, Box):
        moved.right = moved.right + 1
    elif hasattr(moved, "parts"):  # Polygon, Polyline
        moved.parts = [ring + 1 for ring in moved.parts] or [np.zeros((1, 2))]
    elif isinstance(moved, Point | Ellipse):
        moved.x = moved.x + 1
    elif isinstance(moved, Cube):
        moved.front_tl = (moved.front_tl[0] + 1, moved.front_tl[1])
    elif isinstance(moved, Segmentation):
        moved.geo = ~moved.geo
    elif isinstance(moved, Subtitle):
        moved.text = moved.text + "!"
    elif isinstance(moved, Pose):
        moved.instance_id = moved.instance_id + "!"
    elif isinstance(moved, UndefinedAnnotationType):
        moved.coordinates = [moved.coordinates]
    else:  # Classification: no geometry, its label is what it says
        moved.label = (moved.label or "") + "!"
    assert moved != definition


def test_undefined_type_keeps_its_json_verbatim():
    coordinates = {"box": [{"x": 1, "y": 2, "z": 0}, {"x": 3.5, "y": 4}], "note": {"messages": [], "status": "issue"}}
    definition = definition_from_json("note", coordinates, "n", None)
    assert isinstance(definition, UndefinedAnnotationType)
    assert definition.type == "note"
    assert orjson.dumps(definition.to_coordinates()) == orjson.dumps(coordinates)


def _dumped(collection: AnnotationCollection) -> bytes:
    # Plain orjson (no numpy option): numpy scalars leaking into the JSON would raise here.
    return orjson.dumps(collection.to_json())


@relaxed
@given(collection=collections())
def test_collection_round_trips_through_json(collection):
    first = _dumped(collection)
    data = orjson.loads(first)
    again = AnnotationCollection.from_json(data)
    assert orjson.dumps(data) == first  # reading did not change what it read
    assert again == collection
    assert (again.item_id, again.width, again.height) == (collection.item_id, collection.width, collection.height)
    for read, made in zip(again, collection, strict=True):
        assert (read.id, read.object_id, read.parent_id, read.automated, read.model_info) == (
            made.id, made.object_id, made.parent_id, made.automated, made.model_info)
        assert read.attributes == made.attributes
        assert read.description == made.description
        assert not read.is_video
    assert _dumped(again) == first


@relaxed
@given(collection=collections())
def test_pose_keypoints_stay_linked_after_round_trip(collection):
    again = AnnotationCollection.from_json(orjson.loads(_dumped(collection)))
    for made, read in zip(collection, again, strict=True):
        if made.type == "pose":
            assert [c.annotation_definition for c in again.children(read)] == [
                c.annotation_definition for c in collection.children(made)]


@relaxed
@given(collection=video_collections())
def test_video_collection_round_trips_through_json(collection):
    first = _dumped(collection)
    again = AnnotationCollection.from_json(orjson.loads(first))
    assert again == collection
    first_frame, last_frame = collection.frame_range
    for frame in range(first_frame, last_frame + 1):
        assert again.get_frame(frame).annotations == collection.get_frame(frame).annotations
    assert _dumped(again) == first


@relaxed
@given(item=item_json())
def test_item_json_is_written_back_byte_for_byte(item):
    """The README's promise: reading an export and writing it back loses nothing (keys, order, 1 vs 1.0)."""
    text = orjson.dumps(item)
    collection = AnnotationCollection.from_json(orjson.loads(text))
    assert orjson.dumps(collection.to_json()) == text
    assert [a.type for a in collection] == [a["type"] for a in item["annotations"]]


def _video_item(named_attributes) -> dict:
    snapshot = {"frame": 1, "fixed": True, "type": "box", "label": "a", "objectVisible": True,
                "data": [{"x": 1, "y": 2}, {"x": 3, "y": 4}], "namedAttributes": named_attributes}
    return {"filename": "/v.mp4", "metadata": {"system": {"mimetype": "video/mp4", "fps": 25}},
            "annotations": [{"type": "box", "label": "a", "coordinates": [{"x": 1, "y": 2}, {"x": 3, "y": 4}],
                             "metadata": {"system": {"frame": 0, "endFrame": 2, "objectId": "1",
                                                     "snapshots_": [snapshot]}}}]}


def _image_item(v2_attributes) -> dict:
    return {"filename": "/a.jpg", "annotations": [
        {"type": "box", "label": "a", "coordinates": [{"x": 1, "y": 2}, {"x": 3, "y": 4}],
         "metadata": {"system": {"attributes": v2_attributes}}}]}


@pytest.mark.parametrize("item", [_image_item(None), _image_item(["Frontal"]), _video_item(None)],
                         ids=["attributes-null", "attributes-list", "namedAttributes-null"])
def test_non_object_v2_attributes_are_written_back_as_read(item):
    text = orjson.dumps(item)
    assert orjson.dumps(AnnotationCollection.from_json(orjson.loads(text)).to_json()) == text


def test_snapshot_before_the_start_frame_is_not_lost():
    item = _video_item({})
    system = item["annotations"][0]["metadata"]["system"]
    system["frame"], system["endFrame"] = 5, 8  # the snapshot (frame 1) is before the start
    text = orjson.dumps(item)
    assert orjson.dumps(AnnotationCollection.from_json(orjson.loads(text)).to_json()) == text


@relaxed
@given(raw=annotation_json())
def test_edited_annotation_is_written_canonically_and_reads_back(raw):
    """After a geometry edit the coordinates are rewritten; the rest of the JSON stays as it was."""
    collection = AnnotationCollection.from_json({"filename": "/x.jpg", "annotations": [raw]})
    definition = collection[0].annotation_definition
    if isinstance(definition, Box):
        definition.left = definition.left - 1
    elif isinstance(definition, Polygon | Polyline):
        definition.parts = [ring + 1 for ring in definition.parts]
    elif isinstance(definition, Point | Ellipse):
        definition.x = definition.x + 1
    else:
        definition.label = (definition.label or "") + "!"
    written = collection.to_json()["annotations"][0]
    assert [k for k in written if k not in raw] == []  # no new keys …
    assert {k: v for k, v in written.items() if k not in ("coordinates", "data", "label")} == {
        k: v for k, v in raw.items() if k not in ("coordinates", "data", "label")}  # … and the rest unchanged
    again = AnnotationCollection.from_json({"filename": "/x.jpg", "annotations": [as_plain(written)]})
    assert again[0].annotation_definition == definition


def as_plain(value):
    return orjson.loads(orjson.dumps(value))


# ==================================================================================================
# Box
# ==================================================================================================
def oracle_box(left, top, right, bottom, angle):
    """The box built with shapely: a rectangle, turned about its centre.

    shapely's positive angle is counter-clockwise with y up, which is clockwise on a screen whose y
    points down: the convention dlconvert documents. ``test_rotation_sign_by_hand`` pins it.
    """
    shape = shapely.box(left, top, right, bottom)
    if angle:
        shape = shapely.affinity.rotate(shape, angle, origin=((left + right) / 2, (top + bottom) / 2))
    return shape


def test_rotation_sign_by_hand():
    # Box (0, 0)–(4, 2), centre (2, 1). Turned 90° clockwise on screen (y down), the top-left
    # corner (up-left of the centre) goes up-right of it: offset (-2, -1) becomes (+1, -2), i.e. (3, -1).
    box = Box(left=0, top=0, right=4, bottom=2, angle=90)
    top_left = box.corners()[0]
    assert np.allclose(top_left, (3, -1))
    assert np.allclose(shapely.affinity.rotate(shapely.Point(0, 0), 90, origin=(2, 1)).coords[0], (3, -1))
    assert all_close(box.bounds(), (1, -1, 3, 3))
    # 30°: the top-right corner (4, 0), offset (2, -1), moves down on screen:
    # (2 cos30 + sin30, 2 sin30 − cos30) = (2.232…, 0.134…) → (4.232…, 1.134…).
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    expected = (2 + 2 * c + s, 1 + 2 * s - c)
    assert np.allclose(Box(left=0, top=0, right=4, bottom=2, angle=30).corners()[1], expected)
    assert any(np.allclose(p, expected) for p in oracle_box(0, 0, 4, 2, 30).exterior.coords)


@relaxed
@given(box=boxes())
def test_box_bounds_and_area_match_shapely(box):
    oracle = oracle_box(box.left, box.top, box.right, box.bottom, box.angle)
    assert all_close(box.bounds(), oracle.bounds)
    assert close(box.area, oracle.area)
    assert (box.left, box.top, box.right, box.bottom) == (box.x[0], box.y[0], box.x[1], box.y[1])


@relaxed
@given(box=boxes(rotated=True, min_size=1.0))
def test_rotated_box_shape_matches_shapely(box):
    oracle = oracle_box(box.left, box.top, box.right, box.bottom, box.angle)
    # Corner for corner (an overlay of two near-identical thin shapes is not robust in GEOS: it can
    # find no overlap at all, so the shapes are compared by their vertices).
    assert shapely.hausdorff_distance(box.to_shapely(), oracle) <= 1e-6


@pytest.mark.parametrize(
    "coordinates, expected",
    [
        ([{"x": 5, "y": 1}, {"x": 2, "y": 4}], (2, 1, 5, 4, None)),  # drag order: min/max, as the SDK
        ([{"x": 1, "y": 1}, {"x": 2, "y": 4}, 15], (1, 1, 2, 4, 15)),
        ([{"x": 1, "y": 1}, {"x": 2, "y": 4}, None], (1, 1, 2, 4, None)),  # null angle = none (SDK ignores it)
        ([{"x": 1, "y": 1}, {"x": 1, "y": 4}, {"x": 2, "y": 4}, {"x": 2, "y": 1}], (1, 1, 2, 4, None)),  # 4 points
    ],
)
def test_box_reads_dataloop_layouts(coordinates, expected):
    box = Box.from_coordinates(coordinates)
    assert (box.left, box.top, box.right, box.bottom, box.angle) == expected
    assert box.to_coordinates() is coordinates  # written back as read


def test_unrotated_box_corners_by_hand():
    box = Box(left=1, top=2, right=5, bottom=4)
    assert box.corners().tolist() == [[1, 2], [5, 2], [5, 4], [1, 4]]
    assert box.bounds() == (1, 2, 5, 4)
    assert box.area == 8


# ==================================================================================================
# Polygon and Polyline
# ==================================================================================================
def shoelace(ring) -> float:
    x, y = np.asarray(ring, dtype=float).T
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


@relaxed
@given(rings=polygon_rings())
def test_polygon_area_is_even_odd_xor_of_rings(rings):
    polygon = Polygon(geo=[np.array(r) for r in rings])
    oracle = reduce(shapely.symmetric_difference, [shapely.Polygon(r) for r in rings])
    assert close(polygon.area, oracle.area)
    shape = polygon.to_shapely()
    if oracle.is_empty:  # two equal rings cancel out
        assert shape.is_empty
    else:
        assert shapely.hausdorff_distance(shape, oracle) <= 1e-6  # vertex for vertex
    vertices = shapely.MultiPoint([p for r in rings for p in r])
    assert all_close(polygon.bounds(), vertices.bounds)


@relaxed
@given(rings=polygon_rings(layouts=("hole", "hole+part")))
def test_polygon_hole_is_subtracted_and_part_added(rings):
    # Nested by construction: area = outer − hole (+ disjoint part), from the shoelace formula.
    expected = shoelace(rings[0]) - shoelace(rings[1]) + (shoelace(rings[2]) if len(rings) == 3 else 0.0)
    polygon = Polygon(geo=[np.array(r) for r in rings])
    assert close(polygon.area, expected)
    assert not polygon.to_shapely().contains(shapely.Point(np.mean(rings[1], axis=0)))  # inside the hole


def test_polygon_square_with_hole_by_hand():
    polygon = Polygon(geo=[[[0, 0], [10, 0], [10, 10], [0, 10]], [[2, 2], [4, 2], [4, 4], [2, 4]]])
    assert polygon.area == 96
    assert polygon.bounds() == (0, 0, 10, 10)
    assert len(polygon.parts) == 2


@relaxed
@given(polyline=polylines())
def test_polyline_bounds_and_length_match_shapely(polyline):
    lines = [shapely.LineString(part) for part in polyline.parts]
    oracle = shapely.MultiLineString(lines)
    assert all_close(polyline.bounds(), oracle.bounds)
    assert close(polyline.to_shapely().length, sum(line.length for line in lines))
    assert polyline.area == 0


# ==================================================================================================
# Ellipse, Cube, Point
# ==================================================================================================
def oracle_ellipse(x, y, rx, ry, angle):
    """A unit circle (1024-gon) scaled to (rx, ry) and turned by ``angle`` about the centre."""
    circle = shapely.Point(x, y).buffer(1.0, quad_segs=256)
    return shapely.affinity.rotate(shapely.affinity.scale(circle, rx, ry, origin=(x, y)), angle, origin=(x, y))


@relaxed
@given(ellipse=ellipses())
def test_ellipse_area_and_bounds_match_shapely(ellipse):
    oracle = oracle_ellipse(ellipse.x, ellipse.y, ellipse.rx, ellipse.ry, ellipse.angle)
    radius = max(ellipse.rx, ellipse.ry)
    assert close(ellipse.area, oracle.area, rel=1e-4)
    assert all_close(ellipse.bounds(), oracle.bounds, rel=0, abs_=1e-4 * radius)
    # The outline turns the same way (bounds alone cannot tell clockwise from anticlockwise): its
    # points lie on the oracle's boundary, within the 1024-gon's sagitta (≈ 5e-6 × radius).
    outline = shapely.points(ellipse.to_polygon_points(64))
    assert shapely.distance(oracle.boundary, outline).max() <= 1e-4 * radius


def test_ellipse_by_hand():
    ellipse = Ellipse(x=50, y=40, rx=10, ry=5, angle=90)
    assert all_close(ellipse.bounds(), (45, 30, 55, 50))
    # 30° clockwise on screen: the end of the rx axis moves down (y grows).
    tip = Ellipse(x=0, y=0, rx=10, ry=5, angle=30).to_polygon_points()[0]
    assert np.allclose(tip, (10 * math.cos(math.radians(30)), 10 * math.sin(math.radians(30))))


@relaxed
@given(cube=cubes())
def test_cube_area_is_convex_hull_and_bounds_are_corners(cube):
    corners = [cube.front_tl, cube.front_tr, cube.front_br, cube.front_bl,
               cube.back_tl, cube.back_tr, cube.back_br, cube.back_bl]
    hull = shapely.MultiPoint(corners).convex_hull
    assert close(cube.area, hull.area)
    assert all_close(cube.bounds(), hull.bounds)


def test_cube_by_hand():
    # Front square (0,0)–(4,4), back square (2,2)–(6,6): the hull is the 6×6 square without the
    # triangles at (6,0) and (0,6), each 2×2/2: 36 − 4 = 32.
    cube = Cube.from_boxes_and_angle(0, 0, 4, 4, 2, 2, 6, 6, label="c")
    assert cube.area == pytest.approx(32)
    assert cube.bounds() == (0, 0, 6, 6)
    assert cube.angle == 0
    # A turned cube: each face about its own centre, clockwise on screen.
    turned = Cube.from_boxes_and_angle(0, 0, 4, 4, 2, 2, 6, 6, angle=90)
    assert np.allclose(turned.front_tl, (4, 0))


@relaxed
@given(point=points())
def test_point_bounds(point):
    assert point.bounds() == (point.x, point.y, point.x, point.y)
    assert (point.right, point.bottom) == (point.x, point.y)  # not the SDK's swap (B13)
    assert point.to_shapely().equals(shapely.Point(point.x, point.y))
    assert point.area == 0


# ==================================================================================================
# Segmentation: pixels, outlines, rasterising and tracing
# ==================================================================================================
def pixel_union(mask: np.ndarray):
    """The mask as the union of its unit pixel squares [c, c+1] × [r, r+1]."""
    rows, cols = np.nonzero(mask)
    return shapely.union_all(shapely.box(cols, rows, cols + 1, rows + 1))


@relaxed
@given(segmentation=segmentations())
def test_segmentation_bounds_and_area_are_the_pixels(segmentation):
    mask = segmentation.geo
    oracle = pixel_union(mask)
    assert segmentation.area == np.count_nonzero(mask) == oracle.area
    expected_bounds = oracle.bounds if mask.any() else (0, 0, 0, 0)
    assert segmentation.bounds() == tuple(expected_bounds)
    # One box per 8-connected part, largest first (the SDK's to_box), on pixel edges.
    parts = _parts_8_connected(mask)
    boxes = segmentation.to_box()
    assert [b.bounds() for b in boxes] == [bounds for _, bounds in parts]
    assert all(b.label == segmentation.label and b.attributes == segmentation.attributes for b in boxes)


def _parts_8_connected(mask: np.ndarray) -> list[tuple[int, tuple[float, float, float, float]]]:
    """Oracle: ``(pixel count, box on pixel edges)`` of each 8-connected part, by a plain flood fill,
    largest first (equal sizes in the order their first pixel comes, row by row)."""
    seen = np.zeros(mask.shape, dtype=bool)
    parts = []
    for r, c in zip(*np.nonzero(mask), strict=True):
        if seen[r, c]:
            continue
        stack, pixels = [(r, c)], []
        seen[r, c] = True
        while stack:
            y, x = stack.pop()
            pixels.append((y, x))
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    if 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1] and mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
        ys, xs = zip(*pixels, strict=True)
        parts.append((len(pixels), (float(min(xs)), float(min(ys)), float(max(xs) + 1), float(max(ys) + 1))))
    parts.sort(key=lambda part: -part[0])  # stable: raster order among equal sizes
    return parts


@relaxed
@given(mask=masks(max_side=24))
def test_segmentation_outline_is_exactly_the_pixel_edges(mask):
    outline = Segmentation(geo=mask).to_shapely()
    oracle = pixel_union(mask)
    assert outline.area == pytest.approx(np.count_nonzero(mask), abs=1e-9)
    assert outline.symmetric_difference(oracle).area == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize(
    "pixels",
    [
        [[1, 0], [0, 1]],  # two pixels touching at a corner
        [[1, 1, 1], [1, 0, 1], [1, 1, 1]],  # a one-pixel hole
        [[0, 1, 0], [1, 0, 1], [0, 1, 0]],  # a diamond of corner-touching pixels
        [[1, 1, 0, 0], [0, 0, 1, 1]],  # a staircase
    ],
)
def test_outline_of_diagonal_pixels_by_hand(pixels):
    mask = np.array(pixels, dtype=bool)
    outline = Segmentation(geo=mask).to_shapely()
    assert outline.area == pytest.approx(mask.sum())
    assert outline.symmetric_difference(pixel_union(mask)).area == pytest.approx(0, abs=1e-9)


def pixel_centre_oracle(shape, size: int):
    """Pixels whose centre is inside ``shape``, and pixels whose centre is within 0.01 px of its edge."""
    rows, cols = np.mgrid[0:size, 0:size]
    x, y = cols + 0.5, rows + 0.5
    inside = shapely.contains_xy(shape, x, y)
    near_edge = shapely.distance(shape.boundary, shapely.points(x, y)) < 0.01
    return inside, near_edge


@st.composite
def small_polygons_with_holes(draw):
    center = (draw(st.floats(45, 55)), draw(st.floats(45, 55)))
    # Outer edges stay farther than 0.85 × 30 = 25.5 px from the centre; the hole is within 20 px.
    outer = draw(star_rings(center, r_min=30, r_max=42, max_vertices=16, min_vertices=8))
    hole = draw(star_rings(center, r_min=8, r_max=20, max_vertices=10))
    return Polygon(geo=[np.array(outer), np.array(hole)])


@relaxed
@given(polygon=st.one_of(rasterisable_polygons(), small_polygons_with_holes()))
def test_rasterising_samples_pixel_centres(polygon):
    oracle = reduce(shapely.symmetric_difference, [shapely.Polygon(r) for r in polygon.parts])
    mask = Segmentation.from_polygon(polygon, shape=(100, 100)).geo
    inside, near_edge = pixel_centre_oracle(oracle, 100)
    assert mask.shape == (100, 100)
    # Exact away from the edge; a centre within 0.01 px of it may go either way (1/256 px fixed point).
    assert np.array_equal(mask[~near_edge], inside[~near_edge])


@relaxed
@given(rings=polygon_rings(), scale=st.floats(0.05, 0.2), shift=st.floats(-30, 10))
def test_rasterising_overlapping_rings_even_odd_and_off_the_canvas(rings, scale, shift):
    # Any layout (overlaps included), shrunk and shifted so that parts fall off a 100×100 canvas.
    rings = [np.array(r) * scale + shift for r in rings]
    oracle = reduce(shapely.symmetric_difference, [shapely.Polygon(r) for r in rings])
    mask = Segmentation.from_polygon(rings, shape=(100, 100)).geo
    inside, near_edge = pixel_centre_oracle(oracle, 100)
    assert np.array_equal(mask[~near_edge], inside[~near_edge])


def test_rasterising_by_hand():
    # Pixel c is in when its centre c + ½ is inside: the square [2, 5]² covers pixels 2, 3, 4.
    square = [[2, 2], [5, 2], [5, 5], [2, 5]]
    assert np.argwhere(Segmentation.from_polygon(square, shape=(8, 8)).geo).tolist() == [
        [r, c] for r in (2, 3, 4) for c in (2, 3, 4)]
    # [2.2, 5.2]² has the same centres inside; [2.6, 5.6]² has centres 3.5, 4.5, 5.5.
    shifted = np.array(square, dtype=float) + 0.6
    assert Segmentation.from_polygon(shifted, shape=(8, 8)).bounds() == (3, 3, 6, 6)
    assert Segmentation.from_polygon(np.array(square) + 0.2, shape=(8, 8)).area == 9


@relaxed
@given(polygon=rasterisable_polygons())
def test_polygon_survives_mask_and_back(polygon):
    mask = Segmentation.from_polygon(polygon, shape=(100, 100)).geo
    back = Polygon.from_segmentation(mask, label="shape")
    assert isinstance(back, Polygon)
    oracle = shapely.Polygon(polygon.parts[0])
    # One ring, or one ring plus a few tip pixels that touch it only at a corner (8-connected: one object).
    assert shapely.Polygon(back.parts[0]).area >= 0.97 * oracle.area
    assert abs(back.area - oracle.area) <= 0.02 * oracle.area
    iou = back.to_shapely().intersection(oracle).area / back.to_shapely().union(oracle).area
    assert iou >= 0.95


@relaxed
@given(polygon=small_polygons_with_holes())
def test_holes_stay_holes_through_mask_and_back(polygon):
    oracle = shapely.Polygon(polygon.parts[0], [polygon.parts[1]])
    back = Polygon.from_segmentation(Segmentation.from_polygon(polygon, shape=(100, 100)).geo)
    assert isinstance(back, Polygon)
    # Ring 0 is the outline; the hole is a ring inside it, not a polygon of its own (unlike the SDK,
    # B17). Usually one hole: a sharp tip of it can leave a background pixel touching the rest only at
    # a corner, a hole of its own (background is 4-connected when foreground is 8-connected); a sharp
    # tip of the outline can leave a pixel touching it at a corner, an extra outer ring.
    outer = shapely.Polygon(back.parts[0])
    assert outer.area >= 0.97 * shapely.Polygon(polygon.parts[0]).area
    assert any(outer.contains(shapely.Polygon(ring)) for ring in back.parts[1:])
    assert abs(back.area - oracle.area) <= 0.02 * oracle.area
    assert not back.to_shapely().contains(shapely.Point(np.mean(polygon.parts[1], axis=0)))


def test_square_with_square_hole_comes_back_as_one_polygon_with_two_rings():
    square = Polygon(geo=[[[10, 10], [50, 10], [50, 50], [10, 50]], [[20, 20], [40, 20], [40, 40], [20, 40]]])
    mask = Segmentation.from_polygon(square, shape=(60, 60)).geo
    assert mask.sum() == 1600 - 400
    back = Polygon.from_segmentation(mask)
    assert isinstance(back, Polygon)
    assert len(back.parts) == 2
    assert abs(back.area - 1200) <= 0.02 * 1200
    shape = back.to_shapely()
    assert shape.contains(shapely.Point(15, 15)) and not shape.contains(shapely.Point(30, 30))
    # max_instances=None: still one polygon (the hole is not a second one, unlike the SDK's B17).
    assert len(Polygon.from_segmentation(mask, max_instances=None)) == 1


def test_filled_square_of_pixels_traces_to_its_area():
    mask = np.zeros((30, 30), dtype=bool)
    mask[5:21, 7:23] = True
    back = Polygon.from_segmentation(mask)
    assert back.area == 256
    assert back.bounds() == (7, 5, 23, 21)
    assert Polygon.from_segmentation(np.zeros((5, 5), dtype=bool)) is None


def test_pixel_touching_at_a_corner_is_part_of_the_object_after_the_main_outline():
    mask = np.zeros((12, 12), dtype=bool)
    mask[0, 0] = True  # touches the square below only at the corner (1, 1)
    mask[1:9, 1:9] = True
    back = Polygon.from_segmentation(mask, epsilon=0)
    assert isinstance(back, Polygon)
    assert [shapely.Polygon(ring).area for ring in back.parts] == [64, 1]  # ring 0 (the SDK's view) is the square
    assert back.area == 65
    assert back.bounds() == (0, 0, 9, 9)


def test_from_segmentation_instances_largest_first_with_min_area():
    mask = np.zeros((20, 40), dtype=bool)
    mask[1:4, 1:4] = True  # 9 px
    mask[5:15, 10:20] = True  # 100 px
    mask[2:6, 30:35] = True  # 20 px
    found = Polygon.from_segmentation(mask, max_instances=None, epsilon=0)
    assert [p.area for p in found] == [100, 20, 9]
    assert [p.area for p in Polygon.from_segmentation(mask, max_instances=None, min_area=9)] == [100, 20]


# ==================================================================================================
# Segmentation PNG encoding and decoding
# ==================================================================================================
def png_url(image: Image.Image, prefix: str = "data:image/png;base64,", **save) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **save)
    return prefix + base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_url(url: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


@relaxed
@given(segmentation=segmentations())
def test_mask_png_round_trips_pixel_for_pixel(segmentation):
    mask = segmentation.geo
    url = segmentation.to_coordinates()
    assert url.startswith("data:image/png;base64,")
    # Independently decoded: the SDK's layout (RGBA, RGB = colour, alpha 255 inside, 0 outside).
    image = decode_url(url)
    assert image.mode == "RGBA" and image.size == (mask.shape[1], mask.shape[0])
    pixels = np.asarray(image)
    assert np.array_equal(pixels[:, :, 3], np.where(mask, 255, 0))
    color = segmentation.color if segmentation.color is not None else (255, 255, 255)
    assert (pixels[mask][:, :3] == color).all()
    assert (pixels[~mask] == 0).all()
    again = Segmentation.from_coordinates(url)
    assert again.shape == mask.shape
    assert np.array_equal(again.geo, mask)
    if mask.any():
        assert again.color == color


def test_asking_for_the_colour_a_mask_already_has_keeps_its_png():
    rgba = np.zeros((5, 6, 4), dtype=np.uint8)
    rgba[1:3, 2:5] = (3, 94, 88, 255)
    url = png_url(Image.fromarray(rgba, "RGBA"))
    assert Segmentation.from_coordinates(url).to_coordinates(color=(3, 94, 88)) is url
    assert Segmentation.from_coordinates(url).to_coordinates(color=np.array([3, 94, 88, 255])) is url
    recoloured = Segmentation.from_coordinates(url).to_coordinates(color=(200, 0, 0))
    pixels = np.asarray(decode_url(recoloured))
    assert (pixels[1:3, 2:5] == (200, 0, 0, 255)).all() and pixels[0].sum() == 0


@st.composite
def masks_with_png(draw):
    """A random mask and a PNG of it in one of the modes a mask may come in."""
    mask = draw(masks(max_side=24))
    h, w = mask.shape
    mode = draw(st.sampled_from(["1", "L", "LA", "RGB", "RGBA", "P+tRNS", "P+alpha-table"]))
    noise = np.asarray(draw(st.lists(st.integers(0, 255), min_size=h * w * 3, max_size=h * w * 3)),
                       dtype=np.uint8).reshape(h, w, 3)
    fg = np.maximum(noise, 1)  # non-zero wherever the mask is, in every channel
    save = {}
    if mode == "1":
        image = Image.fromarray(mask)
    elif mode == "L":
        image = Image.fromarray(np.where(mask, fg[:, :, 0], 0).astype(np.uint8), "L")
    elif mode == "RGB":
        image = Image.fromarray(np.where(mask[:, :, None], fg, 0).astype(np.uint8), "RGB")
    elif mode in ("LA", "RGBA"):
        # Alpha > 127 is the mask; colour anywhere (also under transparent pixels).
        alpha = np.where(mask, 128 + noise[:, :, 0] % 128, noise[:, :, 1] % 128).astype(np.uint8)
        bands = noise[:, :, :1] if mode == "LA" else noise
        image = Image.fromarray(np.dstack([bands, alpha]), mode)
    else:
        # Palette: index 0 transparent, 1 opaque red, 2 half-transparent (alpha 100 ≤ 127: background).
        index = np.where(mask, 1, noise[:, :, 0] % 2 * 2).astype(np.uint8)
        image = Image.fromarray(index, "P")
        image.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255])
        save["transparency"] = 0 if mode == "P+tRNS" else bytes([0, 255, 100])
        if mode == "P+tRNS":
            index[index == 2] = 0
            image = Image.fromarray(index, "P")
            image.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255])
    return mask, mode, png_url(image, **save)


@relaxed
@given(case=masks_with_png())
def test_mask_decodes_from_any_png_mode(case):
    mask, mode, url = case
    assert decode_url(url).mode == mode.split("+")[0]  # the PNG really is in that mode
    segmentation = Segmentation.from_coordinates(url)
    assert np.array_equal(segmentation.geo, mask)


@pytest.mark.parametrize(
    "prefix",
    [
        "data:image/png;base64,",
        "data:image/png;charset=utf-8;base64,",
        "data:image/png;name=mask.png;charset=utf-8;base64,",
        "DATA:IMAGE/PNG;BASE64,",
        "",  # bare base64
    ],
)
def test_mask_decodes_from_data_url_with_parameters(prefix):
    mask = np.zeros((7, 9), dtype=bool)
    mask[1:5, 2:8] = True
    mask[3, 4] = False
    rgba = np.zeros((7, 9, 4), dtype=np.uint8)
    rgba[mask] = (3, 94, 88, 255)
    url = png_url(Image.fromarray(rgba, "RGBA"), prefix=prefix)
    for coordinates in (url, {"data": url}):
        segmentation = Segmentation.from_coordinates(coordinates, label="skis")
        assert np.array_equal(segmentation.geo, mask)
        assert segmentation.color == (3, 94, 88)
        assert segmentation.bounds() == (2, 1, 8, 5)
        assert segmentation.to_coordinates() is coordinates  # unchanged source comes back verbatim
