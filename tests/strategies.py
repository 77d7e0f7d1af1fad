"""Hypothesis strategies for dlconvert's annotation model.

One strategy per definition type (``boxes()``, ``polygons()`` … ``undefined_definitions()``),
``definitions()`` for any of them, and ``annotations()`` / ``collections()`` /
``video_collections()`` wrapping them with ids, object ids and parent ids. ``item_json()`` and
``annotation_json()`` draw raw export JSON instead: any key order, ints and floats, extra keys.

Coordinates are finite floats on a bounded canvas (``CANVAS`` px). Text is any Unicode except lone
surrogates, which no JSON file can carry as UTF-8.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlconvert import (
    Annotation,
    AnnotationCollection,
    Box,
    Classification,
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
from dlconvert.geometry import PASS_THROUGH_TYPES

__all__ = [
    "CANVAS",
    "DEFINITION_STRATEGIES",
    "RAW_TYPES",
    "RING_LAYOUTS",
    "UNMODELLED_TYPES",
    "annotation_json",
    "annotations",
    "attributes",
    "boxes",
    "classifications",
    "coordinates_json",
    "coords",
    "cubes",
    "definitions",
    "descriptions",
    "ellipses",
    "hex_ids",
    "item_json",
    "json_scalars",
    "json_values",
    "labels",
    "masks",
    "numbers",
    "object_ids",
    "point_json",
    "points",
    "polygon_rings",
    "polygons",
    "polylines",
    "poses",
    "rasterisable_polygons",
    "segmentations",
    "star_rings",
    "subtitles",
    "texts",
    "undefined_definitions",
    "video_collections",
]

#: Side of the canvas every coordinate lies on, in pixels.
CANVAS = 1000.0

#: Dataloop types dlconvert carries through as ``UndefinedAnnotationType``.
UNMODELLED_TYPES = (
    "note", "text_mark", "gis", "cube_3d", "ref_image", "comparison", "item_description", "polyline_3d", "text",
)

_CHARS = st.characters(exclude_categories=("Cs",))  # lone surrogates are not UTF-8


def texts(min_size: int = 0, max_size: int = 20) -> st.SearchStrategy[str]:
    """Any Unicode text (emoji, CJK, combining marks, control characters, newlines)."""
    return st.text(alphabet=_CHARS, min_size=min_size, max_size=max_size)


def coords(low: float = 0.0, high: float = CANVAS) -> st.SearchStrategy[float]:
    """A finite float coordinate in ``[low, high]``."""
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


# -- labels, attributes, descriptions, ids ---------------------------------------------------------
def labels(allow_none: bool = False) -> st.SearchStrategy[str | None]:
    """Label names: plain, hierarchical with dots, Unicode, and arbitrary text."""
    named = st.sampled_from(
        ["car", "person", "person.head", "vehicle.car.wheel", "ñandú", "狗", "🚗 car", "a b", "x.y.", ".", "Zebra"]
    )
    out = st.one_of(named, texts(min_size=1))
    return st.one_of(st.none(), out) if allow_none else out


def json_scalars() -> st.SearchStrategy:
    return st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2**53), max_value=2**53),
        st.floats(allow_nan=False, allow_infinity=False), texts(),
    )


def json_values(max_leaves: int = 10) -> st.SearchStrategy:
    """Any JSON value (objects keep key order)."""
    return st.recursive(
        json_scalars(),
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts(max_size=6), inner, max_size=4)),
        max_leaves=max_leaves,
    )


def attributes() -> st.SearchStrategy[dict]:
    """Dataloop v2 attributes ``{key: value}``: radio/free text, yes/no, slider, checkbox lists."""
    value = st.one_of(
        texts(), st.booleans(), st.integers(min_value=-1000, max_value=1000),
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.lists(texts(max_size=6), max_size=3),
    )
    keys = st.one_of(st.integers(min_value=1, max_value=30).map(str), texts(min_size=1, max_size=8))
    return st.dictionaries(keys, value, max_size=4)


def descriptions() -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), texts(max_size=40))


def object_ids() -> st.SearchStrategy[int | str | None]:
    """Object ids as the SDK takes them: an int or a string of digits (stored as a string)."""
    return st.one_of(st.none(), st.integers(min_value=0, max_value=10**9), st.integers(0, 999).map(str))


def hex_ids() -> st.SearchStrategy[str]:
    """A 24-hex Dataloop/Mongo id."""
    return st.binary(min_size=12, max_size=12).map(bytes.hex)


@st.composite
def _common(draw, allow_none_label: bool = True) -> dict:
    return {
        "label": draw(labels(allow_none=allow_none_label)),
        "attributes": draw(attributes()),
        "description": draw(descriptions()),
    }


# -- one strategy per definition type ---------------------------------------------------------------
@st.composite
def boxes(draw, rotated: bool | None = None, min_size: float = 0.0) -> Box:
    """A Box with ``left <= right`` and ``top <= bottom``; ``rotated``: True, False, or None for either."""
    x1, x2 = sorted((draw(coords()), draw(coords())))
    y1, y2 = sorted((draw(coords()), draw(coords())))
    x2, y2 = max(x2, x1 + min_size), max(y2, y1 + min_size)
    if rotated is None:
        rotated = draw(st.booleans())
    angle = None
    if rotated:
        angle = draw(st.one_of(
            st.floats(min_value=-720, max_value=720, allow_nan=False).filter(lambda a: a % 360 != 0),
            st.sampled_from([15, 30.5, 45, 90, -90, 135.25, 180, 270]),
        ))
    return Box(left=x1, top=y1, right=x2, bottom=y2, angle=angle, **draw(_common()))


@st.composite
def star_rings(draw, center: tuple[float, float] | None = None, r_min: float = 1.0, r_max: float = 60.0,
               max_vertices: int = 12, min_vertices: int = 3) -> list[tuple[float, float]]:
    """A simple polygon ring, star-shaped about a centre.

    ``n`` vertices at angles ``2π(k + j)/n`` (jitter ``|j| ≤ 0.2``), so consecutive angles are less
    than 180° apart and every vertex sees the centre: the ring is simple, a valid shapely polygon
    that an independent oracle can take without repair. With ``n >= 8`` consecutive vertices are
    at most 63° apart, so every edge stays farther than ``0.85 r_min`` from the centre.
    """
    if center is None:
        center = (draw(coords(r_max, CANVAS - r_max)), draw(coords(r_max, CANVAS - r_max)))
    n = draw(st.integers(min_vertices, max_vertices))
    phase = draw(st.floats(0, 2 * math.pi))
    cx, cy = center
    ring = []
    for k in range(n):
        t = phase + 2 * math.pi * (k + draw(st.floats(-0.2, 0.2))) / n
        r = draw(st.floats(min_value=r_min, max_value=r_max))
        ring.append((cx + r * math.cos(t), cy + r * math.sin(t)))
    return ring


#: The ring layouts ``polygon_rings`` draws from.
RING_LAYOUTS = ("one", "hole", "hole+part", "two", "three")


@st.composite
def polygon_rings(draw, layouts: tuple[str, ...] = RING_LAYOUTS) -> list[list[tuple[float, float]]]:
    """1–3 simple rings: one ring; a ring with a hole; a ring, its hole and a disjoint part; overlaps.

    ``"hole"`` and ``"hole+part"`` rings are nested or disjoint by construction (outer edges more
    than 38 px from the centre, hole vertices within 30 px, the extra part 220 px away); ``"two"`` and ``"three"`` are
    independent rings that may overlap (even-odd applies).
    """
    shape = draw(st.sampled_from(layouts))
    if shape == "one":
        return [draw(star_rings())]
    if shape in ("hole", "hole+part"):
        # A hole strictly inside: outer edges farther than 0.85 × 45 > 38 px from the centre, hole
        # vertices within 30 px of it.
        center = (draw(coords(100, CANVAS - 300)), draw(coords(100, CANVAS - 100)))
        rings = [draw(star_rings(center, r_min=45, r_max=90, max_vertices=16, min_vertices=8)),
                 draw(star_rings(center, r_min=5, r_max=30))]
        if shape == "hole+part":  # a part 200+ px to the right: disjoint
            rings.append(draw(star_rings((center[0] + 220, center[1]), r_min=5, r_max=60)))
        return rings
    count = 2 if shape == "two" else 3  # anything goes: parts, overlaps (even-odd), holes
    return [draw(star_rings()) for _ in range(count)]


@st.composite
def polygons(draw) -> Polygon:
    """A Polygon of 1–3 simple rings (including a hole inside another ring)."""
    return Polygon(geo=[np.array(r) for r in draw(polygon_rings())], **draw(_common()))


@st.composite
def polylines(draw) -> Polyline:
    """A Polyline of 1–3 lines of 2–10 points each."""
    lines = draw(st.lists(st.lists(st.tuples(coords(), coords()), min_size=2, max_size=10), min_size=1, max_size=3))
    return Polyline(geo=[np.array(line) for line in lines], **draw(_common()))


@st.composite
def points(draw) -> Point:
    return Point(x=draw(coords()), y=draw(coords()), **draw(_common()))


@st.composite
def ellipses(draw) -> Ellipse:
    angle = draw(st.one_of(st.just(0), st.floats(min_value=-360, max_value=360, allow_nan=False)))
    return Ellipse(
        x=draw(coords()), y=draw(coords()), rx=draw(st.floats(0.5, 300)), ry=draw(st.floats(0.5, 300)),
        angle=angle, **draw(_common()),
    )


@st.composite
def cubes(draw) -> Cube:
    """A cube: a front and a back quad (any 8 points), angle given or computed."""
    corners = [(draw(coords()), draw(coords())) for _ in range(8)]
    angle = draw(st.one_of(st.none(), st.floats(min_value=0, max_value=359.9)))
    common = draw(_common())
    return Cube(common.pop("label"), *corners, angle=angle, **common)


@st.composite
def poses(draw) -> Pose:
    template = draw(st.one_of(st.none(), hex_ids()))
    instance = draw(st.one_of(st.uuids().map(str), texts(min_size=1, max_size=12)))
    common = draw(_common())
    return Pose(common.pop("label"), template_id=template, instance_id=instance, **common)


@st.composite
def classifications(draw) -> Classification:
    return Classification(**draw(_common()))


@st.composite
def subtitles(draw) -> Subtitle:
    return Subtitle(text=draw(texts(max_size=60)), **draw(_common()))


def masks(max_side: int = 40, min_side: int = 1) -> st.SearchStrategy[np.ndarray]:
    """A random bool mask of up to ``max_side`` × ``max_side`` pixels."""
    shapes = st.tuples(st.integers(min_side, max_side), st.integers(min_side, max_side))
    return shapes.flatmap(lambda shape: hnp.arrays(np.bool_, shape))


@st.composite
def segmentations(draw) -> Segmentation:
    color = draw(st.one_of(st.none(), st.tuples(*[st.integers(0, 255)] * 3)))
    return Segmentation(geo=draw(masks()), color=color, **draw(_common()))


@st.composite
def undefined_definitions(draw) -> UndefinedAnnotationType:
    """A type dlconvert does not model, with any JSON as its coordinates, of the class the reader gives it
    (``Note``, ``Cube3d`` and ``Description`` for theirs)."""
    common = draw(_common())
    type_ = draw(st.sampled_from(UNMODELLED_TYPES))
    carrier = PASS_THROUGH_TYPES.get(type_, UndefinedAnnotationType)
    return carrier.carried(type_, draw(json_values()), common["label"], common["attributes"], common["description"])


#: Every definition strategy, by Dataloop type.
DEFINITION_STRATEGIES = {
    "box": boxes(),
    "segment": polygons(),
    "polyline": polylines(),
    "point": points(),
    "ellipse": ellipses(),
    "cube": cubes(),
    "pose": poses(),
    "class": classifications(),
    "subtitle": subtitles(),
    "binary": segmentations(),
    "undefined": undefined_definitions(),
}


def definitions() -> st.SearchStrategy:
    """A definition of any type."""
    return st.one_of(*DEFINITION_STRATEGIES.values())


# -- polygons made for rasterising ---------------------------------------------------------------
@st.composite
def rasterisable_polygons(draw, canvas: int = 100) -> Polygon:
    """A convex-ish star polygon spanning at least 30 px, inside a ``canvas`` × ``canvas`` image.

    5–14 vertices spread around the circle, radii 16–35 px, centre at least 40 px from the edges.
    """
    center = (draw(st.floats(40, canvas - 40)), draw(st.floats(40, canvas - 40)))
    ring = draw(star_rings(center, r_min=16, r_max=35, max_vertices=14, min_vertices=5))
    return Polygon(geo=np.array(ring), label="shape")


# -- annotations and collections ------------------------------------------------------------------
@st.composite
def annotations(draw, definition: st.SearchStrategy | None = None) -> Annotation:
    """An image annotation: a definition with an id, object id, parent id and model info or not."""
    annotation = Annotation.new(
        annotation_definition=draw(definition if definition is not None else definitions()),
        object_id=draw(object_ids()),
        parent_id=draw(st.one_of(st.none(), hex_ids())),
        automated=draw(st.booleans()),
    )
    annotation.id = draw(st.one_of(st.none(), hex_ids()))
    if draw(st.booleans()):
        annotation.model_info = {"name": draw(texts(max_size=8)), "model_id": draw(hex_ids()),
                                 "confidence": draw(st.floats(0, 1))}
    return annotation


@st.composite
def collections(draw, max_annotations: int = 6) -> AnnotationCollection:
    """An image item with 0–``max_annotations`` annotations (pose keypoints linked by parent id)."""
    stem = draw(st.one_of(st.sampled_from(["dog", "scene_01", "ñandú", "图像", "a b"]),
                          st.text(alphabet="abcxyz019_-", min_size=1, max_size=8)))
    folder = draw(st.sampled_from(["", "/sub", "/a/b"]))
    collection = AnnotationCollection(
        filename=f"{folder}/{stem}.{draw(st.sampled_from(['jpg', 'png', 'jpeg']))}",
        item_id=draw(st.one_of(st.none(), hex_ids())),
        width=draw(st.integers(1, 4000)), height=draw(st.integers(1, 4000)),
    )
    collection.annotations.extend(draw(st.lists(annotations(), max_size=max_annotations)))
    if draw(st.booleans()):  # a pose with its keypoints
        pose = Annotation.new(annotation_definition=draw(poses()))
        pose.id = draw(hex_ids())
        collection.annotations.append(pose)
        for _ in range(draw(st.integers(1, 4))):
            collection.add(draw(points()), parent_id=pose.id)
    return collection


@st.composite
def video_collections(draw, shapes: tuple[st.SearchStrategy, ...] | None = None) -> AnnotationCollection:
    """A video item with 1–3 tracks, each 1–4 stored states (some hidden, some not fixed).

    Each track has one type, drawn from ``shapes`` (default: boxes, points, polygons).
    """
    collection = AnnotationCollection(filename="/clips/v.mp4", width=640, height=480, mimetype="video/mp4",
                                      fps=draw(st.sampled_from([25.0, 30.0, 12.5])))
    if shapes is None:
        shapes = (boxes(rotated=False), points(), polygons())
    for object_id in range(1, draw(st.integers(1, 3)) + 1):
        shape = draw(st.sampled_from(shapes))
        frames = sorted(draw(st.lists(st.integers(0, 200), min_size=1, max_size=4, unique=True)))
        track_label = draw(labels())
        for index, frame in enumerate(frames):
            definition = draw(shape)
            definition.label = track_label
            collection.add(definition, object_id=object_id, frame_num=frame,
                           fixed=draw(st.booleans()) if index else True,
                           object_visible=draw(st.booleans()) if index else True)
    return collection


# -- raw Dataloop JSON, as files hold it -----------------------------------------------------------
def numbers(low: float = -50.0, high: float = CANVAS) -> st.SearchStrategy[int | float]:
    """A JSON number as exports write them: an int or a float."""
    return st.one_of(st.integers(int(low), int(high)), coords(low, high))


@st.composite
def _shuffled(draw, pairs: list[tuple[str, object]]) -> dict:
    """An object with its keys in any order (readers must keep it)."""
    return dict(draw(st.permutations(pairs)))


@st.composite
def point_json(draw) -> dict:
    pairs = [("x", draw(numbers())), ("y", draw(numbers()))]
    if draw(st.booleans()):
        pairs.append(("z", draw(st.sampled_from([0, 0.0, 1.5]))))
    if draw(st.integers(0, 4)) == 0:
        pairs.append(("extra", draw(json_scalars())))
    return draw(_shuffled(pairs))


@st.composite
def coordinates_json(draw, type_: str):
    """Raw ``coordinates`` for a Dataloop type, in the layouts real files use."""
    if type_ == "box":
        out = [draw(point_json()), draw(point_json())]
        if draw(st.booleans()):
            out.append(draw(numbers(-360, 360)))
        return out
    if type_ in ("segment", "polyline"):
        ring = st.lists(point_json(), min_size=3 if type_ == "segment" else 2, max_size=8)
        return draw(st.lists(ring, min_size=1, max_size=3))
    if type_ == "point":
        return draw(point_json())
    if type_ == "ellipse":
        pairs = [("center", draw(point_json())), ("rx", draw(numbers(1, 300))), ("ry", draw(numbers(1, 300)))]
        if draw(st.booleans()):
            pairs.append(("angle", draw(numbers(-360, 360))))
        return draw(_shuffled(pairs))
    if type_ == "cube":
        pairs = [(name, draw(point_json())) for name in (
            "front_tl", "front_tr", "front_br", "front_bl", "back_tl", "back_tr", "back_br", "back_bl")]
        return draw(_shuffled([*pairs, ("angle", draw(numbers(0, 359)))]))
    if type_ == "binary":
        url = draw(segmentations()).to_coordinates()
        return {"data": url} if draw(st.integers(0, 4)) == 0 else url
    if type_ == "subtitle":
        return {"text": draw(texts(max_size=30))}
    if type_ == "pose":
        return {"templateId": draw(hex_ids()), "instanceId": draw(st.uuids().map(str))}
    return draw(json_values())  # types dlconvert does not model


RAW_TYPES = ("box", "segment", "polyline", "point", "ellipse", "cube", "binary", "subtitle", "pose", "class",
             *UNMODELLED_TYPES)


@st.composite
def annotation_json(draw) -> dict:
    """One image annotation object as an export holds it: any key order, extra keys, v1 and v2 attributes."""
    type_ = draw(st.sampled_from(RAW_TYPES))
    system = [("attributes", draw(attributes()))] if draw(st.booleans()) else []
    for key, value in (("objectId", draw(st.integers(0, 99).map(str))), ("parentId", draw(hex_ids())),
                       ("automated", draw(st.booleans())), ("status", draw(st.sampled_from([None, "issue"]))),
                       ("coordinateVersion", "v2"), ("clientId", draw(texts(max_size=5)))):
        if draw(st.integers(0, 2)) == 0:
            system.append((key, value))
    metadata = [("system", draw(_shuffled(system)))]
    if draw(st.booleans()):
        metadata.append(("user", {"model": {"name": "m", "model_id": draw(hex_ids()), "confidence": 0.5}}))
    pairs = [("id", draw(hex_ids())), ("type", type_), ("label", draw(labels())),
             ("metadata", draw(_shuffled(metadata)))]
    if type_ != "class" or draw(st.booleans()):
        key = "data" if draw(st.integers(0, 5)) == 0 else "coordinates"
        pairs.append((key, draw(coordinates_json(type_))))
    if draw(st.booleans()):
        pairs.append(("attributes", draw(st.lists(texts(max_size=8), max_size=2))))
    if draw(st.booleans()):
        pairs.append(("description", draw(texts(max_size=20))))
    for key in ("creator", "createdAt", "updatedBy", "updatedAt", "itemId", "datasetId", "source", "hash"):
        if draw(st.booleans()):
            pairs.append((key, draw(st.one_of(st.none(), texts(max_size=10)))))
    return draw(_shuffled(pairs))


@st.composite
def item_json(draw) -> dict:
    """A server-export item JSON (an image) with raw annotations."""
    annotations = draw(st.lists(annotation_json(), max_size=6))
    system = {"mimetype": "image/jpeg", "width": draw(st.integers(1, 4000)), "height": draw(st.integers(1, 4000))}
    pairs = [("id", draw(hex_ids())), ("filename", "/sub/x.jpg"), ("metadata", {"system": system}),
             ("annotations", annotations), ("annotationsCount", len(annotations)),
             ("annotated", bool(annotations)), ("extra", draw(json_values(max_leaves=3)))]
    return draw(_shuffled(pairs))
