"""dlconvert: convert and render computer-vision annotations, with the Dataloop model as the hub.

>>> from dlconvert import AnnotationCollection, Box
>>> collection = AnnotationCollection(filename="/dog.jpg", width=640, height=480)
>>> annotation = collection.add(Box(left=10, top=20, right=110, bottom=220, label="dog"))
>>> collection.to_json()["annotations"][0]["coordinates"]
[{'x': 10, 'y': 20, 'z': 0}, {'x': 110, 'y': 220, 'z': 0}]

Any format, read and written (the format of a path is detected; ``detect`` says what it found
and why)::

    dataset = dlconvert.read("coco/annotations.json")          # iterable of AnnotationCollection
    report = dlconvert.write(dataset, "yolo_out/", "yolo")     # every annotation written or reported

Importing dlconvert loads numpy only; OpenCV, shapely, Pillow, click and dtlpy load when used.
The Dataloop SDK's names are here too, so its examples run with ``dl.`` swapped for
``dlconvert.``: ``AnnotationType`` and ``ANNOTATION_TYPE_*``, ``ViewAnnotationOptions`` and
``VIEW_ANNOTATION_OPTIONS_*``, ``Note``, ``Cube3d``, ``Description``.
"""

from __future__ import annotations

from .annotation import Annotation, FrameAnnotation
from .collection import AnnotationCollection
from .errors import (
    DlconvertError,
    FormatError,
    InvalidAnnotationError,
    OutputError,
    PlatformError,
    UnknownFormatError,
)
from .geometry import (
    ANNOTATION_TYPE_CONSTANTS,
    AnnotationType,
    BaseAnnotationDefinition,
    Box,
    Classification,
    Cube,
    Cube3d,
    Description,
    Ellipse,
    Note,
    Point,
    Polygon,
    Polyline,
    Pose,
    Segmentation,
    Subtitle,
    UndefinedAnnotationType,
)

__version__ = "0.1.0"

globals().update(ANNOTATION_TYPE_CONSTANTS)  # ANNOTATION_TYPE_BOX … as in the SDK

#: The SDK's ``VIEW_ANNOTATION_OPTIONS_*`` constants → the ``ViewAnnotationOptions`` member they name.
_VIEW_CONSTANTS = {f"VIEW_ANNOTATION_OPTIONS_{name}": name
                   for name in ("JSON", "MASK", "ANNOTATION_ON_IMAGE", "INSTANCE", "VTT", "OBJECT_ID")}


def __getattr__(name: str):
    """The heavier public names, loaded on first use so ``import dlconvert`` stays light (numpy only)."""
    if name in ("read", "write", "Dataset"):
        from . import api

        value = getattr(api, name)
    elif name in ("detect", "Detection"):
        from .detection import Detection, detect_format

        value = detect_format if name == "detect" else Detection
    elif name == "render":  # the renderer's public functions, without ``import dlconvert.render``
        import importlib

        value = importlib.import_module(".render", __name__)
    elif name == "Converter":
        from .converter import Converter as value
    elif name == "AnnotationFormat":
        from .formats import AnnotationFormat as value
    elif name == "ConversionReport":
        from .report import ConversionReport as value
    elif name == "ConvertOptions":
        from .dataset import ConvertOptions as value
    elif name == "LabelMap":
        from .labels import LabelMap as value
    elif name == "ViewAnnotationOptions":
        from .render.views import ViewAnnotationOptions as value
    elif name in _VIEW_CONSTANTS:
        from .render.views import ViewAnnotationOptions

        value = ViewAnnotationOptions[_VIEW_CONSTANTS[name]]
    else:
        raise AttributeError(f"module 'dlconvert' has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = [
    "Annotation",
    "AnnotationCollection",
    "AnnotationFormat",
    "BaseAnnotationDefinition",
    "Box",
    "Classification",
    "ConversionReport",
    "ConvertOptions",
    "Converter",
    "Cube",
    "Cube3d",
    "Dataset",
    "Description",
    "Detection",
    "DlconvertError",
    "Ellipse",
    "FormatError",
    "FrameAnnotation",
    "InvalidAnnotationError",
    "LabelMap",
    "Note",
    "OutputError",
    "PlatformError",
    "Point",
    "Polygon",
    "Polyline",
    "Pose",
    "Segmentation",
    "Subtitle",
    "UndefinedAnnotationType",
    "UnknownFormatError",
    "ViewAnnotationOptions",
    "AnnotationType",
    "detect",
    "read",
    "write",
    *ANNOTATION_TYPE_CONSTANTS,
    *_VIEW_CONSTANTS,
]
