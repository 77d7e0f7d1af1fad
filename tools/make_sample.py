"""Generate the small Dataloop dataset export bundled in ``dlconvert/samples``.

The sample is a Dataloop *dataset export folder* (server export shape, V1 json
naming) small enough to ship inside the package and rich enough to exercise
every reader, writer and renderer path offline:

    items/<remote dir>/<file>   the binaries (synthetic scenes drawn with OpenCV)
    json/<remote dir>/<stem>.json  one full item JSON each, with its annotations
    ontology.json               labels (one nested: vehicle.car), v2 attributes
    recipe.json                 holds the pose template (person skeleton)
    README.md                   item table

Items and what they exercise:

* ``/street/scene_01.png``  box with a v2 attribute and objectId, rotated box
  (angle 30 degrees), two-part polygon, polyline, point, ellipse with angle,
  cube with angle, classification, a model prediction (metadata.user.model),
  a v1 attribute list.
* ``/street/scene_02.jpg``  binary mask (full-image RGBA PNG data URL),
  polygon with a hole, pose with 5 keypoint children (one not visible).
* ``/animals/empty_01.png``  no annotations (negative example).
* ``/video/traffic.mp4``  160x120, 10 frames at 5 fps, two box tracks with
  snapshots_, one hidden keyframe (objectVisible false).
* ``/audio/conversation.wav``  2 s of a soft tone with subtitle annotations,
  one multi-line and one containing ``&`` and ``<``.

Everything is deterministic: fixed drawing, fixed fake 24-hex ids, fixed
timestamps (never the clock), seeded values only. Re-running the script
rewrites identical files (the mp4 and jpg bytes depend on the local OpenCV and
libjpeg builds).

Run:  python tools/make_sample.py [--out DIR]   (needs numpy, opencv, Pillow)
"""

import argparse
import base64
import datetime
import hashlib
import io
import json
import math
import os
import shutil
import uuid
import wave

import cv2
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, os.pardir, "dlconvert", "samples")

# --------------------------------------------------------------------------
# Fixed ids, people and times
# --------------------------------------------------------------------------

ID_PREFIX = "65f0c0de"  # ObjectId-style: 4-byte time 2024-03-12T21:27:58Z


def oid(kind, n=0):
    """A fake 24-hex ObjectId: fixed prefix, 4-hex kind, 12-hex counter."""
    return f"{ID_PREFIX}{kind:04x}{n:012x}"


PROJECT_ID = oid(0xE300)
DATASET_ID = oid(0xD000)
ONTOLOGY_ID = oid(0xE000)
RECIPE_ID = oid(0xE100)
POSE_TEMPLATE_ID = oid(0xE200)
MODEL_ID = oid(0xE400)

ITEM_KIND = 0xA000  # item n -> oid(ITEM_KIND, n)
THUMB_KIND = 0xA100
ANNOTATION_KIND = 0xB000  # annotation j of item n -> oid(ANNOTATION_KIND + n, j)

ANNOTATOR = "annotator@example.com"
UPLOADER = "uploader@example.com"
BOT = "bot@example.com"

BASE_TIME = datetime.datetime(2024, 3, 12, 21, 27, 58, tzinfo=datetime.timezone.utc)
GATE = "https://gate.dataloop.ai/api/v1"


def stamp(seconds):
    """ISO-8601 with milliseconds and 'Z', `seconds` after BASE_TIME."""
    t = BASE_TIME + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def fake_uuid(n):
    """A fixed uuid1-looking string (the UI's clientId / pose instanceId)."""
    return str(uuid.UUID(int=0x5B3C1F0E6A2D11EE8C990242AC120000 + n))


# --------------------------------------------------------------------------
# Ontology and recipe
# --------------------------------------------------------------------------

# (tag, colour, v1 label attributes, children)
LABEL_TREE = [
    ("vehicle", "#4363d8", [], [
        ("car", "#e6194b", ["occluded"], []),
        ("truck", "#f58231", [], []),
    ]),
    ("person", "#ffe119", ["occluded"], []),
    ("head", "#f032e6", [], []),
    ("left_hand", "#bfef45", [], []),
    ("right_hand", "#42d4f4", [], []),
    ("left_foot", "#911eb4", [], []),
    ("right_foot", "#469990", [], []),
    ("vegetation", "#3cb44b", [], []),
    ("water", "#000075", [], []),
    ("lane", "#fabed4", [], []),
    ("streetlamp", "#808000", [], []),
    ("puddle", "#aaffc3", [], []),
    ("daytime", "#dcbeff", [], []),
    ("speaker", "#a9a9a9", [], [
        ("alice", "#9a6324", [], []),
        ("bob", "#800000", [], []),
    ]),
]

KEYPOINTS = ["head", "left_hand", "right_hand", "left_foot", "right_foot"]
SKELETON = [["head", "left_hand"], ["head", "right_hand"],
            ["head", "left_foot"], ["head", "right_foot"]]

# v2 attribute definitions (ontology.metadata.attributes); "options" with
# multi=false is what the SDK sends for a radio button.
ATTRIBUTES_V2 = [
    {"key": "color", "title": "Color", "type": "options", "multi": False,
     "values": ["red", "blue", "white", "black"], "optional": True,
     "scope": ["vehicle.car", "vehicle.truck"]},
    {"key": "visibility", "title": "Visibility", "type": "options", "multi": False,
     "values": ["visible", "not-visible"], "optional": True,
     "scope": list(KEYPOINTS)},
]


def flat_labels(tree=LABEL_TREE, prefix=""):
    """{flattened tag: colour} for every label, nested ones as parent.child."""
    out = {}
    for tag, color, _, children in tree:
        full = prefix + tag
        out[full] = color
        out.update(flat_labels(children, full + "."))
    return out


COLORS = flat_labels()


def hex_to_rgb(color):
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))


def label_json(tag, color, attributes, children):
    """One label as listed in `labels` (flat keys, nested children)."""
    return {"tag": tag, "displayLabel": tag, "color": color,
            "attributes": list(attributes), "displayData": {},
            "children": [label_json(*c) for c in children]}


def root_json(tag, color, attributes, children):
    """One label as the platform API returns it in `roots` ({value, children})."""
    return {"value": {"tag": tag, "displayLabel": tag, "color": color,
                      "attributes": list(attributes), "displayData": {}},
            "children": [root_json(*c) for c in children]}


def build_ontology():
    return {
        "id": ONTOLOGY_ID,
        "creator": UPLOADER,
        "url": f"{GATE}/ontologies/{ONTOLOGY_ID}",
        "title": "sample-ontology",
        "metadata": {"system": {"projectIds": [PROJECT_ID]},
                     "attributes": ATTRIBUTES_V2},
        "attributes": [],
        "labels": [label_json(*t) for t in LABEL_TREE],
        "roots": [root_json(*t) for t in LABEL_TREE],
    }


def build_recipe():
    template = {"id": POSE_TEMPLATE_ID, "name": "person_skeleton",
                "order": list(KEYPOINTS), "arcs": [list(a) for a in SKELETON]}
    return {
        "id": RECIPE_ID,
        "creator": UPLOADER,
        "url": f"{GATE}/recipes/{RECIPE_ID}",
        "title": "sample-recipe",
        "projectIds": [PROJECT_ID],
        "description": None,
        "ontologyIds": [ONTOLOGY_ID],
        "instructions": None,
        "examples": [],
        "customActions": [],
        "uiSettings": {},
        "metadata": {"system": {"collectionTemplates": [template]}},
        "createdAt": stamp(0),
        "updatedAt": stamp(60),
        "updatedBy": UPLOADER,
    }


# --------------------------------------------------------------------------
# Geometry helpers (all coordinates in pixels, x right, y down)
# --------------------------------------------------------------------------

def r2(v):
    """Round to 2 decimals; keep exact integers as int (like real exports)."""
    v = round(float(v), 2)
    return int(v) if v == int(v) else v


def rotate(center, point, angle_deg):
    """Rotate `point` about `center`; positive angle is clockwise on screen."""
    a = math.radians(angle_deg)
    cx, cy = center
    px, py = point
    return (cx + math.cos(a) * (px - cx) - math.sin(a) * (py - cy),
            cy + math.sin(a) * (px - cx) + math.cos(a) * (py - cy))


def rotated_rect(left, top, right, bottom, angle_deg):
    """The 4 corners (TL, TR, BR, BL) of a box rotated about its centre."""
    c = ((left + right) / 2, (top + bottom) / 2)
    return [rotate(c, p, angle_deg)
            for p in [(left, top), (right, top), (right, bottom), (left, bottom)]]


def blob(cx, cy, rx, ry, n, wobble, reverse=False):
    """A closed irregular ring of n vertices around (cx, cy), deterministic."""
    pts = []
    for k in range(n):
        t = 2 * math.pi * k / n
        s = 1 + wobble * math.sin(3 * t + 0.7)
        pts.append((r2(cx + rx * s * math.cos(t)), r2(cy + ry * s * math.sin(t))))
    return pts[::-1] if reverse else pts


def pt(x, y):
    return {"x": r2(x), "y": r2(y), "z": 0}


def ring(points):
    return [{"x": r2(x), "y": r2(y)} for x, y in points]


def ipts(points):
    return np.round(np.asarray(points, dtype=float)).astype(np.int32)


def bgr(color_rgb):
    return tuple(int(c) for c in color_rgb[::-1])


# --------------------------------------------------------------------------
# Annotation and item JSON builders
# --------------------------------------------------------------------------

class ItemBuilder:
    """Collects one item's annotations with sequential fixed ids and times."""

    def __init__(self, number):
        self.number = number
        self.item_id = oid(ITEM_KIND, number)
        self.annotations = []

    def next_id(self):
        return oid(ANNOTATION_KIND + self.number, len(self.annotations) + 1)

    def add(self, ann_type, label, coordinates=None, *, system=None, user=None,
            attributes=None, source="ui", creator=ANNOTATOR, ann_id=None):
        """Append one annotation in the server export shape; returns its id."""
        ann_id = ann_id or self.next_id()
        seconds = 3600 + 100 * self.number + 7 * len(self.annotations)
        ann = {
            "id": ann_id,
            "datasetId": DATASET_ID,
            "itemId": self.item_id,
            "url": f"{GATE}/annotations/{ann_id}",
            "item": f"{GATE}/items/{self.item_id}",
            "dataset": f"{GATE}/datasets/{DATASET_ID}",
            "type": ann_type,
            "label": label,
            "attributes": list(attributes or []),
        }
        if ann_type != "class":
            ann["coordinates"] = coordinates
        ann["metadata"] = {"system": system or {}, "user": user or {}}
        ann["creator"] = creator
        ann["createdAt"] = stamp(seconds)
        ann["updatedBy"] = creator
        ann["updatedAt"] = stamp(seconds + 2)
        ann["hash"] = hashlib.sha1(json.dumps(
            [ann_type, label, coordinates], sort_keys=True).encode()).hexdigest()
        ann["source"] = source
        self.annotations.append(ann)
        return ann_id


def ui_system(n, attributes=None, object_id=None, **extra):
    """metadata.system of an image annotation drawn in the web UI."""
    system = {"attributes": attributes or {}, "automated": False,
              "clientId": fake_uuid(n), "coordinateVersion": "v2",
              "endFrame": 0, "endTime": 0, "frame": 0, "itemLinks": [],
              "openAnnotationVersion": "1.76.0", "recipeId": RECIPE_ID,
              "snapshots_": [], "startTime": 0, "system": False}
    if object_id is not None:
        system["objectId"] = object_id
    system.update(extra)
    return dict(sorted(system.items()))


def sdk_system(attributes=None, automated=True, **extra):
    """metadata.system of an annotation uploaded through the SDK."""
    system = {"attributes": attributes or {}, "automated": automated,
              "coordinateVersion": "v2"}
    system.update(extra)
    return dict(sorted(system.items()))


def item_json(builder, remote_path, mimetype, file_path, system_extra, metadata_extra=None):
    """Full server-export item JSON for one file."""
    item_id = builder.item_id
    name = os.path.basename(remote_path)
    system = {"originalname": name, "size": os.path.getsize(file_path),
              "encoding": "7bit", "mimetype": mimetype, "isBinary": True,
              "refs": [], "taskStatusLog": [],
              "thumbnailId": oid(THUMB_KIND, builder.number)}
    system.update(system_extra)
    metadata = dict(metadata_extra or {})
    metadata["system"] = system
    seconds = 100 * builder.number
    return {
        "id": item_id,
        "datasetId": DATASET_ID,
        "url": f"{GATE}/items/{item_id}",
        "dataset": f"{GATE}/datasets/{DATASET_ID}",
        "createdAt": stamp(seconds),
        "dir": os.path.dirname(remote_path),
        "filename": remote_path,
        "type": "file",
        "hidden": False,
        "metadata": metadata,
        "name": name,
        "creator": UPLOADER,
        "updatedAt": stamp(seconds + 5000),
        "updatedBy": ANNOTATOR,
        "stream": f"{GATE}/items/{item_id}/stream",
        "thumbnail": f"{GATE}/items/{item_id}/thumbnail",
        "annotations": builder.annotations,
        "annotationsCount": len(builder.annotations),
        "annotated": bool(builder.annotations),
    }


def image_system(width, height, channels=3):
    return {"channels": channels, "exif": {}, "width": width, "height": height}


# --------------------------------------------------------------------------
# Item 1: /street/scene_01.png
# --------------------------------------------------------------------------

W, H = 320, 240

CAR = (30, 135, 110, 193)                 # left, top, right, bottom
ROT_CAR = (222, 189, 278, 211, 30)        # un-rotated box + angle (degrees)
BUSHES = [blob(40, 112, 30, 16, 9, 0.12), blob(116, 116, 24, 13, 8, 0.15)]
LANE = [(0, 172), (80, 168), (160, 166), (240, 166), (320, 168)]
LAMP = (160, 58)
PUDDLE = {"center": (140, 222), "rx": 22, "ry": 8, "angle": 15}
TRUCK_FRONT = (172, 128, 204, 160)        # front face box, back face offset
TRUCK_BACK_OFFSET = (14, -10)
TRUCK_ANGLE = 10
PEDESTRIAN = (288, 118, 306, 176)


def truck_cube():
    """Cube corners: each face rotated about its own centre by TRUCK_ANGLE."""
    fl, ft, fr, fb = TRUCK_FRONT
    dx, dy = TRUCK_BACK_OFFSET
    front = rotated_rect(fl, ft, fr, fb, TRUCK_ANGLE)
    back = rotated_rect(fl + dx, ft + dy, fr + dx, fb + dy, TRUCK_ANGLE)
    names = ["tl", "tr", "br", "bl"]
    cube = {f"front_{k}": pt(*p) for k, p in zip(names, front, strict=True)}
    cube.update({f"back_{k}": pt(*p) for k, p in zip(names, back, strict=True)})
    cube["angle"] = TRUCK_ANGLE
    return cube, front, back


def draw_scene_01():
    img = np.zeros((H, W, 3), np.uint8)
    img[:110] = bgr((170, 210, 240))                      # sky
    img[110:130] = bgr((110, 170, 80))                    # verge
    img[130:] = bgr((90, 90, 90))                         # road
    cv2.circle(img, (280, 30), 15, bgr((250, 220, 60)), -1)
    for poly in BUSHES:
        cv2.fillPoly(img, [ipts(poly)], bgr((40, 120, 50)))
    cv2.polylines(img, [ipts(LANE)], False, bgr((245, 245, 245)), 2)
    cv2.line(img, (160, 64), (160, 130), bgr((60, 60, 60)), 3)       # lamp pole
    cv2.circle(img, LAMP, 6, bgr((255, 240, 150)), -1)
    c = PUDDLE
    cv2.ellipse(img, c["center"], (c["rx"], c["ry"]), c["angle"], 0, 360, bgr((70, 90, 120)), -1)
    # red car (axis-aligned box)
    x0, y0, x1, _ = CAR
    cv2.rectangle(img, (x0, 150), (x1, 185), bgr((200, 30, 40)), -1)
    cv2.rectangle(img, (45, y0), (95, 150), bgr((170, 20, 30)), -1)
    for x in (50, 90):
        cv2.circle(img, (x, 185), 8, bgr((20, 20, 20)), -1)
    # blue car parked at 30 degrees (rotated box)
    cv2.fillPoly(img, [ipts(rotated_rect(*ROT_CAR))], bgr((40, 70, 200)))
    # orange truck (cube): back face outline, edges, filled front face
    _, front, back = truck_cube()
    cv2.polylines(img, [ipts(back)], True, bgr((150, 80, 20)), 2)
    for f, k in zip(front, back, strict=True):
        cv2.line(img, tuple(ipts(f)), tuple(ipts(k)), bgr((150, 80, 20)), 2)
    cv2.fillPoly(img, [ipts(front)], bgr((240, 140, 40)))
    # pedestrian
    x0, y0, x1, y1 = PEDESTRIAN
    cv2.circle(img, ((x0 + x1) // 2, y0 + 7), 7, bgr((230, 190, 150)), -1)
    cv2.rectangle(img, (x0 + 2, y0 + 14), (x1 - 2, y1 - 18), bgr((60, 60, 160)), -1)
    cv2.rectangle(img, (x0 + 4, y1 - 18), (x1 - 4, y1), bgr((40, 40, 40)), -1)
    return img


def annotate_scene_01(bld):
    x0, y0, x1, y1 = CAR
    bld.add("box", "vehicle.car", [pt(x0, y0), pt(x1, y1)],
            system=ui_system(1, attributes={"color": "red"}, object_id="1"))
    x0, y0, x1, y1, angle = ROT_CAR
    bld.add("box", "vehicle.car", [pt(x0, y0), pt(x1, y1), angle],
            system=ui_system(2, attributes={"color": "blue"}, object_id="2"),
            attributes=["occluded"])
    bld.add("segment", "vegetation", [ring(p) for p in BUSHES], system=ui_system(3))
    bld.add("polyline", "lane", [ring(LANE)], system=ui_system(4))
    bld.add("point", "streetlamp", pt(*LAMP), system=ui_system(5))
    c = PUDDLE
    bld.add("ellipse", "puddle",
            {"angle": c["angle"], "center": pt(*c["center"]), "rx": c["rx"], "ry": c["ry"]},
            system=ui_system(6))
    cube, _, _ = truck_cube()
    bld.add("cube", "vehicle.truck", cube, system=ui_system(7, attributes={"color": "white"}))
    bld.add("class", "daytime", system=ui_system(8))
    x0, y0, x1, y1 = PEDESTRIAN  # a slightly-off predicted box
    bld.add("box", "person", [pt(x0 + 0.5, y0 + 0.25), pt(x1 - 0.25, y1 + 0.75)],
            system=sdk_system(automated=True),
            user={"model": {"name": "yolov8", "model_id": MODEL_ID, "confidence": 0.87}},
            source="sdk", creator=BOT)


# --------------------------------------------------------------------------
# Item 2: /street/scene_02.jpg
# --------------------------------------------------------------------------

POND_OUTER = blob(110, 165, 70, 38, 12, 0.08)
POND_ISLAND = blob(112, 165, 22, 11, 8, 0.1, reverse=True)  # hole, opposite winding
BUSH_CIRCLES = [((240, 202), 15), ((226, 208), 12), ((255, 209), 11)]
POSE = {"head": (255, 112), "left_hand": (276, 146), "right_hand": (234, 146),
        "left_foot": (268, 196), "right_foot": (243, 198)}
HIDDEN_KEYPOINT = "right_foot"  # behind the bush


def bush_mask():
    mask = np.zeros((H, W), np.uint8)
    for center, radius in BUSH_CIRCLES:
        cv2.circle(mask, center, radius, 1, -1)
    return mask


def draw_scene_02():
    img = np.zeros((H, W, 3), np.uint8)
    img[:80] = bgr((175, 215, 245))
    img[80:] = bgr((105, 175, 85))
    cv2.fillPoly(img, [ipts(POND_OUTER)], bgr((60, 110, 190)))
    cv2.fillPoly(img, [ipts(POND_ISLAND)], bgr((215, 195, 140)))
    # stick figure
    p = {k: tuple(v) for k, v in POSE.items()}
    neck, hip = (255, 122), (255, 165)
    ink = bgr((30, 30, 30))
    cv2.line(img, neck, hip, ink, 3)
    for k in ("left_hand", "right_hand"):
        cv2.line(img, (255, 132), p[k], ink, 2)
    for k in ("left_foot", "right_foot"):
        cv2.line(img, hip, p[k], ink, 2)
    cv2.circle(img, p["head"], 9, bgr((230, 190, 150)), -1)
    # bush drawn last: it hides the right foot
    img[bush_mask() > 0] = bgr((35, 115, 45))
    return img


def binary_data_url(mask, color_rgb):
    """Full-image RGBA PNG: RGB = label colour and alpha 255 inside, 0 outside."""
    rgba = np.zeros((*mask.shape, 4), np.uint8)
    rgba[mask > 0] = (*color_rgb, 255)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def annotate_scene_02(bld):
    bld.add("binary", "vegetation",
            binary_data_url(bush_mask(), hex_to_rgb(COLORS["vegetation"])),
            system=ui_system(11))
    bld.add("segment", "water", [ring(POND_OUTER), ring(POND_ISLAND)], system=ui_system(12))
    pose_id = bld.add("pose", "person",
                      {"templateId": POSE_TEMPLATE_ID, "instanceId": fake_uuid(100)},
                      system=ui_system(13, object_id="1"))
    for i, name in enumerate(KEYPOINTS):
        visibility = "not-visible" if name == HIDDEN_KEYPOINT else "visible"
        bld.add("point", name, pt(*POSE[name]),
                system=ui_system(14 + i, attributes={"visibility": visibility},
                                 parentId=pose_id))
    return pose_id


# --------------------------------------------------------------------------
# Item 3: /animals/empty_01.png (no annotations)
# --------------------------------------------------------------------------

def draw_empty():
    img = np.zeros((H, W, 3), np.uint8)
    img[:90] = bgr((180, 215, 240))
    img[90:] = bgr((120, 180, 90))
    for x in range(10, W, 40):                             # a fence, no animals
        cv2.rectangle(img, (x, 120), (x + 6, 170), bgr((140, 100, 60)), -1)
    cv2.rectangle(img, (0, 130), (W, 135), bgr((140, 100, 60)), -1)
    cv2.rectangle(img, (0, 152), (W, 157), bgr((140, 100, 60)), -1)
    return img


# --------------------------------------------------------------------------
# Item 4: /video/traffic.mp4
# --------------------------------------------------------------------------

VW, VH, FPS, N_FRAMES = 160, 120, 5, 10
TREE = (102, 18, 118, 58)  # hides the pedestrian at frame 6


def car_box(frame):
    x = 10 + 12 * frame
    return (x, 70, x + 30, 88)


def walker_box(frame):
    x = 130 - 8 * (frame - 3)
    return (x, 30, x + 8, 52)


WALKER_FRAMES = range(3, 9)   # frames 3..8
WALKER_HIDDEN = 6


def draw_frame(frame):
    img = np.zeros((VH, VW, 3), np.uint8)
    img[:60] = bgr((120, 175, 90))
    img[60:] = bgr((95, 95, 95))
    cv2.line(img, (0, 100), (VW, 100), bgr((240, 240, 240)), 1)
    x0, y0, x1, y1 = car_box(frame)
    cv2.rectangle(img, (x0, y0), (x1, y1), bgr((200, 30, 40)), -1)
    if frame in WALKER_FRAMES and frame != WALKER_HIDDEN:
        x0, y0, x1, y1 = walker_box(frame)
        cv2.rectangle(img, (x0, y0), (x1, y1), bgr((60, 60, 160)), -1)
    x0, y0, x1, y1 = TREE
    cv2.rectangle(img, (x0, y0), (x1, y1), bgr((35, 110, 40)), -1)
    return img


def write_video(path):
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), FPS, (VW, VH))
    if not writer.isOpened():
        raise RuntimeError("cv2.VideoWriter could not open " + path)
    for f in range(N_FRAMES):
        writer.write(draw_frame(f))
    writer.release()
    cap = cv2.VideoCapture(path)
    count = 0
    while cap.read()[0]:
        count += 1
    cap.release()
    if count != N_FRAMES:
        raise RuntimeError(f"video read back {count} frames, expected {N_FRAMES}")


def box_coords(box):
    x0, y0, x1, y1 = box
    return [pt(x0, y0), pt(x1, y1)]


def snapshot(frame, label, box, named, visible=True, v1=()):
    return {"attributes": list(v1), "data": box_coords(box), "fixed": True, "frame": frame,
            "label": label, "namedAttributes": dict(named),
            "objectVisible": visible, "type": "box"}


def annotate_video(bld):
    # track 1: the car, moving on every frame 0..9
    red = {"color": "red"}
    snaps = [snapshot(f, "vehicle.car", car_box(f), red) for f in range(1, N_FRAMES)]
    bld.add("box", "vehicle.car", box_coords(car_box(0)),
            system=sdk_system(attributes=red, automated=False,
                              objectId="1", frame=0, endFrame=N_FRAMES - 1,
                              startTime=0, endTime=r2((N_FRAMES - 1) / FPS),
                              snapshots_=snaps), source="ui")
    # track 2: pedestrian 3..8, hidden keyframe at 6 (behind the tree; the
    # snapshot keeps its coordinates and carries the v1 attribute "occluded")
    first, last = WALKER_FRAMES[0], WALKER_FRAMES[-1]
    snaps = [snapshot(f, "person", walker_box(f), {}, visible=(f != WALKER_HIDDEN),
                      v1=["occluded"] if f == WALKER_HIDDEN else [])
             for f in WALKER_FRAMES if f != first]
    bld.add("box", "person", box_coords(walker_box(first)),
            system=sdk_system(automated=False, objectId="2", frame=first, endFrame=last,
                              startTime=r2(first / FPS), endTime=r2(last / FPS),
                              snapshots_=snaps), source="ui")


def video_system():
    duration = N_FRAMES / FPS
    return {
        "duration": r2(duration), "fps": FPS, "width": VW, "height": VH,
        "nb_frames": N_FRAMES, "nb_frames_estimation": N_FRAMES, "nb_streams": 1,
        "startTime": 0,
        "ffmpeg": {"avg_frame_rate": f"{FPS}/1", "r_frame_rate": f"{FPS}/1",
                   "codec_name": "mpeg4", "codec_long_name": "MPEG-4 part 2",
                   "codec_type": "video", "pix_fmt": "yuv420p",
                   "width": VW, "height": VH, "coded_width": VW, "coded_height": VH,
                   "nb_read_frames": str(N_FRAMES), "nb_read_packets": str(N_FRAMES),
                   "start_time": "0.000000", "duration": f"{duration:.6f}", "index": 0},
        "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2",
                   "format_long_name": "QuickTime / MOV", "duration": f"{duration:.6f}",
                   "nb_streams": 1, "start_time": "0.000000"},
    }


# --------------------------------------------------------------------------
# Item 5: /audio/conversation.wav
# --------------------------------------------------------------------------

RATE, AUDIO_SECONDS = 8000, 2.0
SUBTITLES = [  # (label, start s, end s, text)
    ("speaker.alice", 0.1, 0.6, "Hi Bob!"),
    ("speaker.bob", 0.7, 1.25, "Hi Alice.\nHow are you?"),
    ("speaker.alice", 1.3, 1.95, "Fish & chips <3 at the café?"),
]


def write_wav(path):
    """A soft 440 Hz tone with 50 ms fades, 16-bit mono PCM."""
    n = int(RATE * AUDIO_SECONDS)
    t = np.arange(n) / RATE
    env = np.minimum(1.0, np.minimum(t, AUDIO_SECONDS - t) / 0.05)
    samples = (0.1 * 32767 * env * np.sin(2 * np.pi * 440 * t)).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())


def annotate_audio(bld):
    for label, start, end, text in SUBTITLES:
        bld.add("subtitle", label, {"text": text},
                system=sdk_system(automated=False, frame=round(start * 1000),
                                  endFrame=round(end * 1000), startTime=start, endTime=end),
                source="sdk")


def audio_system():
    return {"duration": AUDIO_SECONDS,
            "ffmpeg": {"codec_name": "pcm_s16le", "codec_type": "audio",
                       "sample_rate": str(RATE), "channels": 1, "bits_per_sample": 16,
                       "duration": f"{AUDIO_SECONDS:.6f}"}}


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def write_image(path, img):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if path.endswith(".jpg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, 90]
    else:
        params = [cv2.IMWRITE_PNG_COMPRESSION, 9]
    if not cv2.imwrite(path, img, params):
        raise RuntimeError("cv2.imwrite failed for " + path)


def json_path(out, remote_path):
    """V1 naming: json/<remote dir>/<stem>.json."""
    stem = os.path.splitext(remote_path.lstrip("/"))[0]
    return os.path.join(out, "json", stem + ".json")


def readme(rows):
    lines = [
        "# dlconvert bundled sample",
        "",
        "A tiny Dataloop dataset export (server export shape, V1 json naming: "
        "`json/<dir>/<stem>.json`), with `ontology.json` and `recipe.json` "
        "(pose template `person_skeleton`).",
        "",
        "| Item | Type | Annotations | Exercises |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{p}` | {t} | {n} | {what} |" for p, t, n, what in rows]
    lines += [
        "",
        "Generated by `tools/make_sample.py` (deterministic: fixed fake ids and "
        "timestamps). All content is synthetic, drawn by the script; it is in the "
        "public domain, or under the same licence as the project, at your option.",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    out = os.path.abspath(parser.parse_args().out)
    for sub in ("items", "json"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)

    def item_file(remote_path):
        path = os.path.join(out, "items", remote_path.lstrip("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return path

    rows = []

    # 1. street scene with every vector type
    remote = "/street/scene_01.png"
    path = item_file(remote)
    write_image(path, draw_scene_01())
    bld = ItemBuilder(1)
    annotate_scene_01(bld)
    write_json(json_path(out, remote), item_json(bld, remote, "image/png", path, image_system(W, H)))
    rows.append((remote, "image/png", len(bld.annotations),
                 "box + v2 attribute + objectId; rotated box (angle 30, v1 attribute "
                 "`occluded`); two-part polygon; polyline; point; ellipse (angle 15); "
                 "cube (angle 10); class; model prediction (`metadata.user.model`)"))

    # 2. park scene: binary mask, polygon with a hole, pose
    remote = "/street/scene_02.jpg"
    path = item_file(remote)
    write_image(path, draw_scene_02())
    bld = ItemBuilder(2)
    annotate_scene_02(bld)
    write_json(json_path(out, remote), item_json(bld, remote, "image/jpeg", path, image_system(W, H)))
    rows.append((remote, "image/jpeg", len(bld.annotations),
                 "binary (RGBA PNG data URL); polygon with a hole; pose (template "
                 "`person_skeleton`) with 5 point children via `parentId`, one `not-visible`"))

    # 3. negative example
    remote = "/animals/empty_01.png"
    path = item_file(remote)
    write_image(path, draw_empty())
    bld = ItemBuilder(3)
    write_json(json_path(out, remote), item_json(bld, remote, "image/png", path, image_system(W, H)))
    rows.append((remote, "image/png", 0, "no annotations (`annotated: false`)"))

    # 4. video with two tracks
    remote = "/video/traffic.mp4"
    path = item_file(remote)
    write_video(path)
    bld = ItemBuilder(4)
    annotate_video(bld)
    write_json(json_path(out, remote),
               item_json(bld, remote, "video/mp4", path, video_system(),
                         metadata_extra={"fps": FPS, "startTime": 0}))
    rows.append((remote, "video/mp4", len(bld.annotations),
                 f"{VW}x{VH}, {N_FRAMES} frames at {FPS} fps; box track 1 frames 0-9 "
                 "(v2 attribute in `namedAttributes`); track 2 frames 3-8, hidden keyframe at 6"))

    # 5. audio with subtitles
    remote = "/audio/conversation.wav"
    path = item_file(remote)
    write_wav(path)
    bld = ItemBuilder(5)
    annotate_audio(bld)
    write_json(json_path(out, remote), item_json(bld, remote, "audio/wav", path, audio_system()))
    rows.append((remote, "audio/wav", len(bld.annotations),
                 "subtitles (nested labels `speaker.*`), multi-line text, `&` and `<`, non-ASCII `é`"))

    write_json(os.path.join(out, "ontology.json"), build_ontology())
    write_json(os.path.join(out, "recipe.json"), build_recipe())
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as f:
        f.write(readme(rows))
    print("wrote", out)


if __name__ == "__main__":
    main()
