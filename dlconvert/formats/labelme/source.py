"""What a LabelMe file said beyond the Dataloop model, kept for the way back (``metadata.user.labelme``).

Item (the file): ``version``; ``flags`` (the image flags in their order, true and false — the
true ones are also Classification annotations); ``imagePath`` as written, when it is not the
image's plain name; ``json``, the file's own name when it is not ``<image stem>.json``; ``other``,
top-level keys LabelMe does not define (``lineColor``, ``fillColor`` of 3.x, a tool's own keys),
written back as LabelMe writes its ``otherData``; ``imageData`` only when
``labelme_image_data="embed"`` asks to keep it.

Annotation (a shape): ``shape_type``; ``other``, shape keys LabelMe does not define (3.x
``line_color``/``fill_color``, X-AnyLabeling's ``difficult``, ``score`` …); ``group_id`` when it
cannot be an object id (a negative number); ``points`` with ``geometry_sha1`` when the writer
would not give the source's points back from the shape (a rectangle dragged from another corner,
a circle's point on the circle, an oriented rectangle's corner order) and X-AnyLabeling's
``direction`` of a ``rotation``: they are written back while the shape is unchanged
(:mod:`dlconvert.formats._fingerprint`); ``corners`` (4) for X-AnyLabeling's 4-corner rectangles;
``points_shape``, the place in its file of the ``points`` shape a Point was one of (written back as
one shape).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import OptionError
from .._fingerprint import geometry_fingerprint, still_matches
from .._metadata import section

if TYPE_CHECKING:
    from ...annotation import Annotation
    from ...collection import AnnotationCollection

__all__ = ["GEOMETRY_KEY", "IMAGE_DATA_CHOICES", "IMAGE_DATA_OPTION", "SHAPE_KEYS", "TOP_KEYS", "annotation_labelme",
           "image_data_choice", "item_labelme", "kept_direction", "kept_points"]

#: The ``ConvertOptions.extras`` key of the ``imageData`` choice: "drop" (default) or "embed".
IMAGE_DATA_OPTION = "labelme_image_data"
IMAGE_DATA_CHOICES = ("drop", "embed")
#: ``metadata.user.labelme`` key: the fingerprint of the shape the kept ``points`` belong to.
GEOMETRY_KEY = "geometry_sha1"
#: The keys of a LabelMe file and of a shape that LabelMe itself defines (the others are kept as ``other``).
TOP_KEYS = ("version", "flags", "shapes", "imagePath", "imageData", "imageHeight", "imageWidth")
SHAPE_KEYS = ("label", "points", "group_id", "description", "shape_type", "flags", "mask")


def item_labelme(collection: AnnotationCollection) -> dict:
    """What the item's LabelMe file said (``{}`` for items from elsewhere)."""
    return section(collection.source_item, "metadata", "user", "labelme")


def annotation_labelme(annotation: Annotation) -> dict:
    """What the annotation's LabelMe shape said (``{}`` for annotations from elsewhere)."""
    return section(annotation.metadata, "user", "labelme")


def kept_points(annotation: Annotation) -> list[Any] | None:
    """The source's own ``points``, while the annotation still has the shape they were read as."""
    kept = annotation_labelme(annotation)
    points = kept.get("points")
    if not isinstance(points, list) or not still_matches(kept, GEOMETRY_KEY,
                                                         geometry_fingerprint(annotation.annotation_definition)):
        return None
    return points


def kept_direction(annotation: Annotation) -> float | None:
    """The source's ``direction`` of a ``rotation``, while the annotation still has the shape it was read as."""
    kept = annotation_labelme(annotation)
    direction = kept.get("direction")
    if type(direction) not in (int, float) or not still_matches(
            kept, GEOMETRY_KEY, geometry_fingerprint(annotation.annotation_definition)):
        return None
    return direction


def image_data_choice(options: Any) -> str:
    """``ConvertOptions.extras["labelme_image_data"]``: "drop" (the default) or "embed".

    A value of another kind, or an unknown ``labelme_*`` key, raises :class:`OptionError`: never guessed.
    """
    import difflib

    extras = getattr(options, "extras", None) or {}
    unknown = sorted(k for k in extras if isinstance(k, str) and k.startswith("labelme_") and k != IMAGE_DATA_OPTION)
    if unknown:
        close = difflib.get_close_matches(unknown[0], [IMAGE_DATA_OPTION], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; the LabelMe option is {IMAGE_DATA_OPTION!r}"
        raise OptionError(f"unknown LabelMe option ConvertOptions.extras[{unknown[0]!r}]{hint}")
    value = extras.get(IMAGE_DATA_OPTION, "drop")
    if value not in IMAGE_DATA_CHOICES or not isinstance(value, str):
        raise OptionError(f"ConvertOptions.extras[{IMAGE_DATA_OPTION!r}] must be 'drop' (imageData null: LabelMe "
                          f"loads the image from imagePath) or 'embed' (the image in each file), not {value!r}")
    return value
