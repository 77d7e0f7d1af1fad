"""The corpus: seeded mutations of valid files of every format.

:func:`corpus` returns the same list of :class:`Case` for the same ``master`` seed: each case is a
seed dataset (``seeds``) with one thing broken — a truncated file, a wrong type in a field, a
polygon of two points, an XML entity, a YOLO line with commas … — plus what the mutation may cost
(``scope`` and ``lost``) so the checker can tell a good record dropped from a bad one skipped.
:func:`random_case` stacks several random mutations, for the long fuzz run (``hostile.fuzz``).
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from .seeds import SEEDS, Seed
from .tree import DIR, OUTSIDE, Link
from .values import BAD_FILENAMES, BAD_LABELS, data_url, png_bytes, png_header, wrong_type

__all__ = ["Case", "corpus", "random_case"]

#: Tree keys under this prefix are built in the outside folder, not in the input.
OUTSIDE_KEY = "@outside/"


@dataclass
class Case:
    """One hostile input: ``tree`` read from ``src`` as ``fmt``, converted to ``to``.

    ``scope``: what the mutation broke — ``"record"`` (one annotation/object/cue/line: with
    ``on_error="skip"`` everything else must still convert), ``"file"`` (one file), ``"source"``
    (the dataset as a whole, e.g. a COCO file or data.yaml) or ``"output"`` (the output folder).
    ``lost``: how many annotations of the seed the mutation may legitimately cost; None: unknown.
    ``dst``: the output folder before the run: None (absent), ``"full"`` (holds a file; run with
    overwrite) or ``"link"`` (a symlink to a folder outside).
    """

    id: str
    fmt: str
    seed: str
    tree: dict
    src: str
    to: str
    scope: str = "record"
    lost: int | None = 1
    dst: str | None = None
    note: str = ""
    options: dict = field(default_factory=dict)
    labels: str | None = None  # a label map of the tree handed over as ``--labels`` / ``ConvertOptions.labels``
    base: str | None = None  # for a random fuzz case: the corpus case it damaged further


# ==== helpers ======================================================================================
def _dumps(value) -> bytes:
    """JSON as a peer tool would write it (NaN/Infinity as bare tokens, which JSON does not allow)."""
    return json.dumps(value, indent=1, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


def _paths(value, prefix=(), depth=6, width=3) -> Iterator[tuple]:
    """JSON pointers (as tuples) of every node under ``value`` (lists: their first ``width`` items)."""
    yield prefix
    if depth == 0:
        return
    if isinstance(value, dict):
        for key in value:
            yield from _paths(value[key], (*prefix, key), depth - 1, width)
    elif isinstance(value, list):
        for index, item in enumerate(value[:width]):
            yield from _paths(item, (*prefix, index), depth - 1, width)


def _get(value, path):
    for part in path:
        value = value[part]
    return value


def _set(value, path, new):
    _get(value, path[:-1])[path[-1]] = new


def _delete(value, path):
    parent = _get(value, path[:-1])
    del parent[path[-1]]


def _rng(*parts) -> random.Random:
    return random.Random(":".join(str(p) for p in parts))


class _Maker:
    """Builds the cases of one seed, numbering them per mutation and picking a target format."""

    def __init__(self, seed: Seed, master: int) -> None:
        self.seed = seed
        self.master = master
        self.counts: dict[str, int] = {}
        self.cases: list[Case] = []
        self.rngs: dict[str, random.Random] = {}

    def rng(self, op: str) -> random.Random:
        return _rng(self.master, self.seed.fmt, self.seed.name, op)

    def rng_for(self, op: str) -> random.Random:
        """One generator per mutation, so adding a mutation never changes the cases of another."""
        if op not in self.rngs:
            self.rngs[op] = self.rng(op)
        return self.rngs[op]

    def add(self, op: str, tree: dict, *, scope: str = "record", lost: int | None = 1, src: str | None = None,
            to: str | None = None, dst: str | None = None, note: str = "", options: dict | None = None,
            labels: str | None = None) -> None:
        number = self.counts.get(op, 0)
        self.counts[op] = number + 1
        case_id = f"{self.seed.fmt}-{self.seed.name}-{op}-{number}"
        target = to or _rng(self.master, case_id).choice(self.seed.targets)
        self.cases.append(Case(case_id, self.seed.fmt, self.seed.name, tree,
                               self.seed.src if src is None else src, target, scope, lost, dst, note,
                               dict(options or {}), labels))


# ==== mutations every format gets ===================================================================
def _common(make: _Maker) -> None:
    seed = make.seed
    def R(op):
        return make.rng_for("common:" + op)
    files = seed.main_files
    main = files[0]
    data = seed.tree[main]
    whole = "source" if seed.src and seed.src == main else "file"

    def with_(path, content, **kw):
        tree = dict(seed.tree)
        tree[path] = content
        return tree

    make.add("empty", with_(main, b""), scope=whole, lost=None)
    make.add("blank", with_(main, b"\n \n\t\n"), scope=whole, lost=None)
    for cut in sorted(R("truncated").sample(range(1, max(len(data), 3)), min(3, max(len(data) - 1, 1)))):
        make.add("truncated", with_(main, data[:cut]), scope=whole, lost=None, note=f"cut at {cut}")
    for _ in range(2):
        at = R("nul").randrange(len(data) + 1)
        make.add("nul", with_(main, data[:at] + b"\x00" + data[at:]), scope=whole, lost=None, note=f"at {at}")
    make.add("bom", with_(main, b"\xef\xbb\xbf" + data), scope=whole, lost=None)
    make.add("double-bom", with_(main, b"\xef\xbb\xbf\xef\xbb\xbf" + data), scope=whole, lost=None)
    make.add("utf16", with_(main, data.decode("utf-8", "replace").encode("utf-16")), scope=whole, lost=None)
    at = R("bad-utf8").randrange(len(data) + 1)
    make.add("bad-utf8", with_(main, data[:at] + b"\xff\xfe\xc0" + data[at:]), scope=whole, lost=None)
    make.add("garbage", with_(main, bytes(R("garbage").randrange(256) for _ in range(200))), scope=whole, lost=None)
    # a directory where the file was
    tree = dict(seed.tree)
    del tree[main]
    tree[main + "/inner" + main[main.rfind("."):]] = data
    make.add("directory", tree, scope=whole, lost=None)
    # the file is a symlink to a copy outside the input, or to a missing place, or to itself
    name = main.rsplit("/", 1)[-1]
    for op, link, extra in (
        ("symlink-outside", Link(f"{OUTSIDE}/{name}"), {OUTSIDE_KEY + name: data}),
        ("symlink-dangling", Link(f"{OUTSIDE}/missing/{name}"), {}),
        ("symlink-loop", Link(name), {}),
        ("symlink-dev-zero", Link("/dev/zero"), {}),
    ):
        tree = dict(seed.tree)
        tree[main] = link
        tree.update(extra)
        make.add(op, tree, scope=whole, lost=None)
    # a folder inside the input that links outside (reading may follow it; writing must not)
    tree = dict(seed.tree)
    folder = main.rsplit("/", 1)[0] if "/" in main else ""
    tree[(folder + "/" if folder else "") + "linked"] = Link(f"{OUTSIDE}/folder")
    tree[OUTSIDE_KEY + "folder/" + name] = data
    make.add("symlink-folder", tree, scope="file", lost=None)
    # odd file names for the annotation file itself
    for label in ("ü-ñ-名前", "line\nbreak", "\x1b[31mred", "sp ace", "x" * 200, "-rf", "\u202eevil"):
        tree = dict(seed.tree)
        content = tree.pop(main)
        ext = name.rpartition(".")[2]
        renamed = (folder + "/" if folder else "") + f"{label}.{ext}"
        tree[renamed] = content
        src = renamed if seed.src == main else None
        make.add("file-name", tree, scope="file", lost=None, src=src)
    # the output folder: not empty (overwrite: must stay as it was on failure), or a symlink outside
    make.add("dst-full", dict(seed.tree), scope="output", lost=0, dst="full")
    make.add("dst-link", dict(seed.tree), scope="output", lost=0, dst="link")
    if not seed.src:  # the whole input is one folder: also hand the reader a single missing file
        make.add("src-missing", dict(seed.tree), src="does-not-exist", scope="source", lost=None)


# ==== label maps: labelmap.json, Dataloop ontologies and recipes, names files =========================
_LABEL_MAPS = (
    b"garbage", b"[]", b"5", b'{"labels": 5}', b'{"labels": [5, null, "a"]}',
    {"format": "dlconvert-labelmap", "labels": [{"name": 5}]},
    {"format": "dlconvert-labelmap", "labels": [{"name": "a", "instance_id": 0}]},
    {"format": "dlconvert-labelmap", "labels": [{"name": "a", "instance_id": "1"}]},
    {"format": "dlconvert-labelmap", "labels": [{"name": "a", "instance_id": 10**30}]},
    {"format": "dlconvert-labelmap", "labels": [{"name": "a", "color": [999, -5, 2]}]},
    {"format": "dlconvert-labelmap", "labels": [{"name": "a", "coco_id": [1], "supercategory": {"x": 1}}]},
    {"format": "dlconvert-labelmap", "labels": [{"name": "a"}, {"name": "a"}]},
    {"format": "dlconvert-labelmap", "labels": [{"name": "a"}], "templates": [{"order": 5, "arcs": "x"}]},
    {"format": "dlconvert-labelmap", "labels": [{"name": "a"}], "templates": [{"order": ["a"], "arcs": [[1]]}]},
    {"format": "dlconvert-labelmap", "labels": [{"name": "a"}], "extras": [1, 2]},
    {"format": "dlconvert-labelmap", "labels": [{"name": "a", "extras": {"coco": 5}}], "extras": {"coco": 5}},
    {"labels": [{"tag": "a", "children": 5}]}, {"labels": [{"tag": 5}, {"tag": None}]}, {"roots": [{"value": 5}]},
    {"labels": [{"tag": "a"}], "instance_map": {"a": "x"}}, {"labels": [{"tag": "a"}], "instance_map": {"a": 10**30}},
    {"labels": [{"tag": "a"}], "instance_map": {"a": -3}}, {"labels": [{"tag": "a"}], "instance_map": [1]},
    {"labels": [{"tag": "a", "color": [300, 300, 300]}]}, {"labels": [{"tag": "a", "color": "#zzzzzz"}]},
    {"labels": [{"tag": "x" * 5000}, {"tag": "a\x00b"}, {"tag": ""}]},
    {"labels": [{"tag": "a", "children": [{"tag": "b", "children": [{"tag": "c", "children": "d"}]}]}]},
)
_RECIPES = (b"5", b"[]", {"metadata": 5}, {"metadata": {"system": 5}},
            {"metadata": {"system": {"collectionTemplates": 5}}},
            {"metadata": {"system": {"collectionTemplates": [{"order": 5, "arcs": [[1, 2, 3]]}]}}})
_NAMES = (b"", b"\n\n", b"a\x00b\n", b"a\na\n", b"\xff\xfe\n", "\u202e\n\U0001f600\n".encode(), b"x" * 100000)


def _label_maps(make: _Maker) -> None:
    """Broken label maps: found beside the data (labelmap.json, ontology.json …) or given as --labels."""
    seed = make.seed
    root = seed.src.rsplit("/", 1)[0] if "/" in seed.src else ""
    beside = {"dataloop": "ontology.json" if "ontology.json" in seed.tree else "labelmap.json",
              "voc": "labelmap.json", "yolo": _yaml_folder(seed) + "labelmap.json", "coco": None, "vtt": None}
    at = beside[seed.fmt]
    for value in _LABEL_MAPS:
        content = value if isinstance(value, bytes) else _dumps(value)
        if at is not None:
            tree = dict(seed.tree)
            tree[(root + "/" if root else "") + at] = content
            make.add("labelmap-beside", tree, scope="source", lost=None, note=repr(content[:40]))
        tree = dict(seed.tree)
        tree["given/labelmap.json"] = content
        make.add("labelmap-given", tree, scope="source", lost=None, note=repr(content[:40]),
                 labels="given/labelmap.json")
    for value in _NAMES:
        tree = dict(seed.tree)
        tree["given/labels.txt"] = value
        make.add("labelmap-names", tree, scope="source", lost=None, note=repr(value[:20]), labels="given/labels.txt")
    if "recipe.json" in seed.tree:
        for value in _RECIPES:
            tree = dict(seed.tree)
            tree["recipe.json"] = value if isinstance(value, bytes) else _dumps(value)
            make.add("recipe", tree, scope="source", lost=None, note=repr(value)[:40])
    if seed.fmt == "voc":
        for content in (b"cat:a,b,c::\n", b"no colon\n", b"cat:1,2::\ncat:1,2,3::\n", b":::\n", b"\xff\xfe",
                        b"x:999,999,999::\n", b"x:-1,-1,-1::\n",
                        "\n".join(f"l{i}:1,2,3::" for i in range(3000)).encode()):
            tree = dict(seed.tree)
            tree["labelmap.txt"] = content
            make.add("labelmap-txt", tree, scope="source", lost=None, note=repr(content[:20]))


def _yaml_folder(seed: Seed) -> str:
    yaml_path = next((p for p in seed.tree if p.endswith(("data.yaml", "obj.data"))), None)
    return yaml_path.rsplit("/", 1)[0] + "/" if yaml_path and "/" in yaml_path else ""


# ==== Dataloop JSON ===================================================================================
#: Broken ``metadata.user.<format>`` values: what a writer keeps there to write a file back.
_USER_METADATA: dict[str, list] = {
    "coco": [5, "x", [1], {"id": [1], "file_name": 5}, {"file_name": {"a": 1}}, {"bbox": "x", "area": [],
             "box_segmentation": 5, "rle_counts": 5, "iscrowd": "x", "geometry_sha1": 5}, {"id": 10**30}],
    "voc": [5, [1], {"stem": 5}, {"stem": "../../escape"}, {"stem": "a\x00b"}, {"folder": "\x01", "path": 5,
            "depth": "x\x02"}, {"folder": 5, "path": ["x"], "depth": [3]},
            {"extra_xml": ["<a>", 5, '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', "<b/>"]}, {"extra_xml": "<a/>"}],
    "vtt": [5, {"identifier": 5, "settings": ["a"], "notes_before": 5, "payload": 5, "payload_sha1": 5},
            {"identifier": "a\nb --> c", "settings": "x\ny", "notes_before": ["NOTE\n\nx", 5]},
            {"header": 5, "header_lines": 5, "blocks": [5, "STYLE\n\n"], "notes_after": "x"},
            {"header": "a\nb", "header_lines": ["a", "-->"], "blocks": ["NOTE x"], "notes_after": ["NOTE\x00"]}],
}
_TRIM_VIDEO = 3


def _dataloop(make: _Maker) -> None:
    seed = make.seed
    for path in seed.main_files:
        _dataloop_file(make, path)


def _annotations_of(doc):
    if isinstance(doc, list):
        return doc, ()
    return doc.get("annotations", []), ("annotations",)


def _dataloop_file(make: _Maker, path: str) -> None:
    seed = make.seed
    doc = json.loads(seed.tree[path])
    annotations, prefix = _annotations_of(doc)
    def R(op):
        return make.rng_for(f"dataloop:{path}:{op}")
    small = len(seed.main_files) > 2  # many files: fewer cases per file

    def emit(op, new_doc, **kw):
        tree = dict(seed.tree)
        tree[path] = _dumps(new_doc)
        make.add(op, tree, **kw)

    # wrong types in every field of one annotation of each type, and in the item's fields
    by_type: dict[str, int] = {}
    for index, annotation in enumerate(annotations):
        if isinstance(annotation, dict):
            by_type.setdefault(annotation.get("type"), index)
    for index in by_type.values():
        base = (*prefix, index)
        fields = [p for p in _paths(annotations[index], base, depth=5, width=2) if p != base]
        picked = R("wrong-type").sample(fields, min(len(fields), 2 if small else 6))
        for field_path in picked:
            new = copy.deepcopy(doc)
            _set(new, field_path, wrong_type(_get(new, field_path), R("wrong-type")))
            emit("wrong-type", new, note="/".join(map(str, field_path)), lost=1)
        for field_path in R("missing-key").sample(fields, min(len(fields), 1 if small else 2)):
            new = copy.deepcopy(doc)
            _delete(new, field_path)
            emit("missing-key", new, note="/".join(map(str, field_path)), lost=1)
    if isinstance(doc, dict):
        item_fields = [p for p in _paths(doc, (), depth=4, width=1) if p and p[0] != "annotations"]
        for field_path in R("item-wrong-type").sample(item_fields, min(len(item_fields), 2 if small else 5)):
            new = copy.deepcopy(doc)
            _set(new, field_path, wrong_type(_get(new, field_path), R("item-wrong-type")))
            emit("item-wrong-type", new, scope="file", lost=None, note="/".join(map(str, field_path)))
        for key in ("annotations", "filename", "metadata"):
            if key in doc:
                new = copy.deepcopy(doc)
                del new[key]
                emit("item-missing-key", new, scope="file", lost=None, note=key)
        # sizes: zero, negative, absurd (must never be allocated), and as text
        sizes = [(0, 0), (-1, 5), (10**9, 10**9), (2**31, 2**31), (1e300, 1e300), ("640", "480"), (1, 10**12)]
        for width, height in (sizes[:3] if small else sizes):
            new = copy.deepcopy(doc)
            system = new.setdefault("metadata", {}).setdefault("system", {})
            if isinstance(system, dict):
                system["width"], system["height"] = width, height
                emit("item-size", new, scope="file", lost=None, note=f"{width}x{height}")
        for name in (R("item-filename").sample(BAD_FILENAMES, 4) if small else BAD_FILENAMES):
            new = copy.deepcopy(doc)
            new["filename"] = name
            if "name" in new:
                new["name"] = name.rsplit("/", 1)[-1]
            emit("item-filename", new, scope="file", lost=None, note=repr(name))
        # what a format keeps in metadata.user.<format> to write itself back, broken (read by that writer)
        for target, values in _USER_METADATA.items():
            for value in (R("user-metadata").sample(values, 2) if small else values):
                new = copy.deepcopy(doc)
                metadata = new.setdefault("metadata", {})
                if isinstance(metadata, dict):
                    user = metadata.setdefault("user", {})
                    if isinstance(user, dict):
                        user[target] = value
                        emit("item-user-metadata", new, scope="file", lost=None, to=target,
                             note=repr(value)[:60])
                new = copy.deepcopy(doc)
                anns, _ = _annotations_of(new)
                if anns and isinstance(anns[0], dict) and isinstance(anns[0].setdefault("metadata", {}), dict):
                    user = anns[0]["metadata"].setdefault("user", {})
                    if isinstance(user, dict):
                        user[target] = value
                        emit("user-metadata", new, lost=1, to=target, note=repr(value)[:60])
        # metadata.user itself is not an object (each writer looks for its own key in it)
        for value in ([1], "x"):
            for target in ("coco", "voc", "yolo", "vtt"):
                new = copy.deepcopy(doc)
                if isinstance(new.get("metadata"), dict):
                    new["metadata"]["user"] = value
                    emit("item-user-type", new, scope="file", lost=None, to=target, note=repr(value))
                new = copy.deepcopy(doc)
                anns, _ = _annotations_of(new)
                if anns and isinstance(anns[0], dict) and isinstance(anns[0].setdefault("metadata", {}), dict):
                    anns[0]["metadata"]["user"] = value
                    emit("user-type", new, lost=1, to=target, note=repr(value))
    if not annotations:
        return
    # labels with control characters, bidi overrides, emoji, empty, huge
    for label in (R("label").sample(BAD_LABELS, 3) if small else BAD_LABELS[:10]):
        new = copy.deepcopy(doc)
        target = R("label").randrange(len(annotations))
        if isinstance(_get(new, (*prefix, target)), dict):
            _get(new, (*prefix, target))["label"] = label
            emit("label", new, note=repr(label[:20]), lost=1)
    first = _get(doc, (*prefix, 0))
    if not isinstance(first, dict):
        return

    def replace_annotation(op, annotation, **kw):
        new = copy.deepcopy(doc)
        target = R("geometry").randrange(len(annotations))
        keep = _get(new, (*prefix, target))
        merged = {**keep, **annotation} if isinstance(keep, dict) else annotation
        if isinstance(merged.get("metadata"), dict):  # a track's snapshots belong to its old type
            system = merged["metadata"].get("system")
            if isinstance(system, dict) and "snapshots_" in system and op != "frames":
                merged["metadata"] = {**merged["metadata"], "system": {k: v for k, v in system.items()
                                                                        if k != "snapshots_"}}
        _set(new, (*prefix, target), merged)
        emit(op, new, **kw)

    p = [{"x": 1, "y": 2}, {"x": 30, "y": 2}, {"x": 30, "y": 40}, {"x": 1, "y": 40}]
    geometry = [
        ("segment", []), ("segment", [[]]), ("segment", [[p[0]]]), ("segment", [[p[0], p[1]]]),
        ("segment", [[p[0], p[2], p[1], p[3]]]),  # a bow tie: self-intersecting
        ("segment", [[{"x": 1e300, "y": -1e300}, p[1], p[2]]]), ("segment", [[{"x": -50, "y": -50}, p[1], p[2]]]),
        ("segment", [[p[0]] * 3]), ("polyline", [[p[0]]]), ("polyline", []),
        ("box", [{"x": 1e300, "y": 1e300}, {"x": -1e300, "y": -1e300}]), ("box", [{"x": -10, "y": -10}, p[0]]),
        ("box", [p[2], p[0]]), ("box", [p[0], p[0]]), ("box", [p[0], p[2], 1e300]),
        ("point", [{"x": -1e300, "y": 1e300}]), ("point", []),
        ("ellipse", [{"x": 10, "y": 10}, {"x": -5, "y": 1e300}, {"x": 0, "y": 0}]),
        ("cube", [p[0], p[1]]), ("pose", []), ("class", [p[0]]), ("subtitle", {"text": 5}),
        ("binary", "data:image/png;base64,!!!notbase64"), ("binary", "data:image/png;base64,"),
        ("binary", data_url(b"\xff\xd8\xff\xe0 a JPEG", "image/jpeg")), ("binary", "data:text/plain,hello"),
        ("binary", data_url(png_header(10**9, 10**9))), ("binary", data_url(png_header(20000, 20000))),
        ("binary", data_url(png_header(15000, 15000))), ("binary", data_url(png_header(0, 0))),
        ("binary", data_url(png_header(4, 4, idat=b"not zlib"))), ("binary", data_url(png_bytes(3, 2))),
        ("binary", data_url(png_bytes(3000, 1, mode="L"))), ("binary", {"data": 5}),
        ("made_up_type", {"anything": [1, 2]}), ("", None), ("__proto__", []), ("note", "text"),
    ]
    for kind, coordinates in (R("geometry").sample(geometry, 6) if small else geometry):
        replace_annotation("geometry", {"type": kind, "coordinates": coordinates},
                           note=f"{kind} {str(coordinates)[:40]}", lost=1)
    # duplicate ids, circular and odd parentIds
    ids = [a.get("id") for a in annotations if isinstance(a, dict) and a.get("id")]
    if ids:
        new = copy.deepcopy(doc)
        anns, _ = _annotations_of(new)
        anns.append(copy.deepcopy(anns[0]))
        emit("duplicate-id", new, lost=0)
    if len(ids) >= 2:
        for op, parents in (("parent-cycle", {0: 1, 1: 0}), ("parent-self", {0: 0}),
                            ("parent-chain-cycle", {0: 1, 1: 2 % len(ids), 2 % len(ids): 0})):
            new = copy.deepcopy(doc)
            anns, _ = _annotations_of(new)
            for child, parent in parents.items():
                metadata = anns[child].setdefault("metadata", {})
                if isinstance(metadata, dict):
                    metadata.setdefault("system", {})["parentId"] = anns[parent].get("id")
            emit(op, new, lost=0)
    for value in (5, ["a"], {"id": 1}, "does-not-exist", ""):
        new = copy.deepcopy(doc)
        anns, _ = _annotations_of(new)
        metadata = anns[-1].setdefault("metadata", {})
        if isinstance(metadata, dict):
            metadata.setdefault("system", {})["parentId"] = value
            emit("parent-odd", new, note=repr(value), lost=1)
        if small:
            break
    # ids that are not strings: a pose's id is looked up by its keypoints' parentId
    poses = [i for i, a in enumerate(annotations) if isinstance(a, dict) and a.get("type") == "pose"]
    for index in poses[:1]:
        for value in ({"a": 1}, [1], 1.5, True):
            for target in ("dataloop", "coco", "yolo"):
                new = copy.deepcopy(doc)
                _get(new, (*prefix, index))["id"] = value
                emit("id-type", new, lost=1, to=target, note=repr(value))
    # a child of a pose (a keypoint) that is not a point: writers must count it once
    children = [i for i, a in enumerate(annotations) if isinstance(a, dict) and isinstance(a.get("metadata"), dict)
                and isinstance(a["metadata"].get("system"), dict) and a["metadata"]["system"].get("parentId")]
    if children:
        for kind, coordinates in (("segment", [[{"x": 1, "y": 2}, {"x": 30, "y": 2}]]),
                                  ("box", [{"x": 1, "y": 2}, {"x": 30, "y": 40}])):
            for target in ("dataloop", "coco", "voc", "yolo"):
                new = copy.deepcopy(doc)
                child = _get(new, (*prefix, children[0]))
                child.update(type=kind, coordinates=coordinates)
                emit("pose-child-type", new, lost=1, to=target, note=kind)
    # frames of video tracks: out of order, duplicated, negative, absurd
    tracks = [i for i, a in enumerate(annotations) if isinstance(a, dict)
              and isinstance((a.get("metadata") or {}).get("system"), dict)
              and ((a["metadata"]["system"].get("snapshots_")) or "frame" in a["metadata"]["system"])]
    if tracks:
        index = tracks[0]
        frame_cases = [
            ("reversed", lambda s: s.__setitem__("snapshots_", list(reversed(s.get("snapshots_") or [])))),
            ("duplicate", lambda s: s.__setitem__("snapshots_", (s.get("snapshots_") or []) * 2)),
            ("negative", lambda s: s.__setitem__("frame", -5)),
            ("huge-start", lambda s: s.__setitem__("frame", 10**15)),
            ("huge-end", lambda s: s.__setitem__("endFrame", 10**18)),
            ("end-before-start", lambda s: s.update(frame=50, endFrame=3)),
            ("float-frame", lambda s: s.__setitem__("frame", 2.5)),
            ("string-frame", lambda s: s.__setitem__("frame", "5")),
            ("huge-time", lambda s: s.update(startTime=1e300, endTime=1e300)),
            ("negative-time", lambda s: s.update(startTime=-5, endTime=-1)),
            ("snapshots-object", lambda s: s.__setitem__("snapshots_", {"frame": 1})),
            ("snapshot-no-frame", lambda s: s.__setitem__("snapshots_", [{"type": "box"}])),
            ("snapshot-huge-frame", lambda s: s.__setitem__("snapshots_", [{"frame": 10**18, "data": []}])),
            ("snapshot-before-start", lambda s: s.__setitem__("snapshots_", [
                {**(s.get("snapshots_") or [{}])[0], "frame": -100}])),
        ]
        for op, change in (R("frames").sample(frame_cases, 5) if small else frame_cases):
            new = copy.deepcopy(doc)
            system = _get(new, (*prefix, index))["metadata"]["system"]
            change(system)
            emit("frames", new, note=op, lost=1)


# ==== COCO ==============================================================================================
def _coco(make: _Maker) -> None:
    seed = make.seed
    path = seed.main_files[0]
    doc = json.loads(seed.tree[path])
    def R(op):
        return make.rng_for("coco:" + op)

    def emit(op, new_doc, **kw):
        tree = dict(seed.tree)
        tree[path] = _dumps(new_doc)
        make.add(op, tree, **kw)

    annotations = doc.get("annotations", [])

    def record_cost(index):
        record = annotations[index] if 0 <= index < len(annotations) else {}
        keypoints = record.get("keypoints") if isinstance(record, dict) else None
        return 1 + (1 + len(keypoints) // 3 if isinstance(keypoints, list) and keypoints else 0)

    for key in ("annotations", "images", "categories"):
        rows = doc.get(key) or []
        for index in range(min(len(rows), 2)):
            fields = [p for p in _paths(rows[index], (key, index), depth=3, width=2) if len(p) > 2]
            for field_path in R("wrong-type").sample(fields, min(len(fields), 5)):
                new = copy.deepcopy(doc)
                _set(new, field_path, wrong_type(_get(new, field_path), R("wrong-type")))
                lost = record_cost(index) if key == "annotations" else None
                emit("wrong-type", new, note="/".join(map(str, field_path)), lost=lost,
                     scope="record" if key == "annotations" else "file")
            for field_path in R("missing-key").sample(fields, min(len(fields), 2)):
                new = copy.deepcopy(doc)
                _delete(new, field_path)
                emit("missing-key", new, note="/".join(map(str, field_path)),
                     lost=record_cost(index) if key == "annotations" else None,
                     scope="record" if key == "annotations" else "file")
        new = copy.deepcopy(doc)
        del new[key]
        emit("missing-section", new, note=key, scope="source", lost=None)
        new = copy.deepcopy(doc)
        new[key] = {"0": rows[0] if rows else {}}
        emit("section-type", new, note=key, scope="source", lost=None)
    for value in (5, "x", None, [], {}):
        emit("root-type", value, scope="source", lost=None, note=repr(value))
    if not annotations:
        return
    images = doc.get("images") or []

    def record(op, change, lost=None, **kw):
        new = copy.deepcopy(doc)
        index = R(op).randrange(len(annotations))
        target = new["annotations"][index]
        change(target)
        emit(op, new, lost=record_cost(index) if lost is None else lost, **kw)

    boxes = [[1e300, 0, 10, 10], [0, 0, -5, 10], [0, 0, 0, 0], [-20, -20, 5, 5], [1, 2, 3], [1, 2, 3, "4"],
             [0, 0, 1e300, 1e300], [10**30, 0, 1, 1]]
    for value in boxes:
        record("bbox", lambda r, v=value: r.__setitem__("bbox", v), note=str(value))
    polygons = [[], [[]], [[1, 2]], [[1, 2, 3, 4]], [[1, 2, 3]], [[0, 0, 10, 10, 10, 0, 0, 10]],
                [[1e300, 0, 5, 5, 0, 5]], [[-10, -10, 5, 5, 0, 5]], [["a", 2, 3, 4, 5, 6]], [[[1, 2]]],
                [[0, 0, 0, 0, 0, 0]]]
    for value in polygons:
        record("polygon", lambda r, v=value: r.__setitem__("segmentation", v), note=str(value))
    rles = [
        {"size": [4, 4], "counts": [1, 2, 3]}, {"size": [4, 4], "counts": [20]}, {"size": [4, 4], "counts": [-4, 20]},
        {"size": [10**9, 10**9], "counts": [10**18]}, {"size": [10**9, 10**9], "counts": [0, 10**18]},
        {"size": [100000, 100000], "counts": "0"}, {"size": [10**9, 10**9], "counts": "PPYo0"},
        {"size": [4, 4], "counts": "!!!!"}, {"size": [4, 4], "counts": "é"}, {"size": [4, 4], "counts": ""},
        {"size": [-4, 4], "counts": [0]}, {"size": [4], "counts": [16]}, {"size": ["4", "4"], "counts": [16]},
        {"size": [4, 4]}, {"counts": [16]}, {"size": [4, 4], "counts": [16.0]}, {"size": [4, 4], "counts": {"a": 1}},
        {"size": [2**31, 2**31], "counts": [2**62]}, {"size": [4, 4], "counts": "\x00\x00"},
    ]
    for value in rles:
        record("rle", lambda r, v=value: r.__setitem__("segmentation", v), note=str(value)[:60])
    keypoints = [[1, 2], [1, 2, 7], [1, 2, -1], [1, 2, 1.5], [1e300, 1e300, 2], [1, 2, "2"], [None, None, 0],
                 [1, 2, 2] * 500]
    for value in keypoints:
        record("keypoints", lambda r, v=value: r.update(keypoints=v, num_keypoints=len(v) // 3),
               note=str(value)[:40])
    for value in (None, "1", True, [0], 10**30, -1):
        record("category-id", lambda r, v=value: r.__setitem__("category_id", v), note=repr(value))
        record("image-id", lambda r, v=value: r.__setitem__("image_id", v), note=repr(value))
    for value in (2, -1, "yes", None, [1]):
        record("iscrowd", lambda r, v=value: r.__setitem__("iscrowd", v), note=repr(value))
    # duplicate ids
    new = copy.deepcopy(doc)
    new["annotations"].append(copy.deepcopy(new["annotations"][0]))
    emit("duplicate-annotation-id", new, lost=0)
    if images:
        new = copy.deepcopy(doc)
        new["images"].append(copy.deepcopy(new["images"][0]))
        emit("duplicate-image-id", new, scope="file", lost=None)
        new = copy.deepcopy(doc)
        twin = copy.deepcopy(new["images"][0])
        twin["id"] = 987654
        new["images"].append(twin)
        emit("duplicate-file-name", new, scope="file", lost=0)
        for width, height in ((0, 0), (-1, 5), (10**9, 10**9), (2**31, 2**31), (1e300, 1), ("640", "480"), (1.5, 2)):
            new = copy.deepcopy(doc)
            new["images"][0].update(width=width, height=height)
            emit("image-size", new, scope="file", lost=None, note=f"{width}x{height}")
        for name in BAD_FILENAMES:
            new = copy.deepcopy(doc)
            new["images"][0]["file_name"] = name
            emit("file-name", new, scope="file", lost=None, note=repr(name))
    categories = doc.get("categories") or []
    if categories:
        new = copy.deepcopy(doc)
        new["categories"].append(copy.deepcopy(new["categories"][0]))
        emit("duplicate-category-id", new, scope="source", lost=None)
        for label in BAD_LABELS[:8]:
            new = copy.deepcopy(doc)
            new["categories"][0]["name"] = label
            emit("category-name", new, scope="source", lost=0, note=repr(label[:20]))
        for value in ([1, 2], "x", [["a", "b"]], [[1, 99]], [[0, 1]], 5, {"a": 1}, None):
            new = copy.deepcopy(doc)
            new["categories"][0].update(keypoints=["a", "b"], skeleton=value)
            emit("skeleton", new, scope="source", lost=None, note=repr(value))


# ==== Pascal VOC ===========================================================================================
def _voc(make: _Maker) -> None:
    from lxml import etree

    seed = make.seed
    def R(op):
        return make.rng_for("voc:" + op)
    path = seed.main_files[0]
    text = seed.tree[path]

    def emit(op, content, **kw):
        tree = dict(seed.tree)
        tree[path] = content
        make.add(op, tree, **kw)

    def edit(op, change, **kw):
        root = etree.fromstring(text)
        change(root)
        emit(op, etree.tostring(root), **kw)

    objects = etree.fromstring(text).findall("object")
    # an object with a mask in SegmentationObject/ is two annotations (its box and its mask)
    per_object = 2 if any(p.startswith("SegmentationObject/") for p in seed.tree) else 1
    # remove required elements, wrong numbers
    for tag in ("name", "bndbox", "bndbox/xmin", "bndbox/ymax"):
        edit("missing", lambda r, t=tag: [o.find(t).getparent().remove(o.find(t)) for o in r.findall("object")[:1]
                                          if o.find(t) is not None], note=tag, lost=per_object)
    numbers = ["abc", "nan", "inf", "-inf", "-5", "1e300", "", "0x10", " 7 ", "1_0", "१२", "9" * 400]
    for value in numbers:
        tag = R("bndbox").choice(("xmin", "ymin", "xmax", "ymax"))
        edit("bndbox", lambda r, t=tag, v=value: setattr(r.find("object/bndbox/" + t), "text", v),
             note=f"{tag}={value[:20]!r}", lost=per_object)
    for value in ("0", "-1", "1000000000", "nan", "inf", "abc", "1e300", "3.5", "", "99999999999999999999"):
        tag = R("size").choice(("width", "height", "depth"))

        def size(root, t=tag, v=value):
            element = root.find("size/" + t)
            if element is None:
                element = etree.SubElement(root.find("size") if root.find("size") is not None
                                           else etree.SubElement(root, "size"), t)
            element.text = v

        edit("size", size, note=f"{tag}={value[:20]!r}", scope="file", lost=None)
    edit("size-huge", lambda r: ([r.remove(s) for s in r.findall("size")] and None) or r.append(etree.fromstring(
        b"<size><width>1000000000</width><height>1000000000</height><depth>3</depth></size>")),
        scope="file", lost=None)
    for label in BAD_LABELS[2:12]:
        clean = "".join(c if c in "\t\n\r" or (" " <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd")
                        or c >= "\U00010000" else "" for c in label)
        edit("label", lambda r, v=clean: setattr(r.find("object/name"), "text", v), note=repr(label[:20]),
             lost=per_object)
    emit("label-control", text.replace(b"<name>", b"<name>\x01\x1b", 1), scope="file", lost=None)
    emit("label-charref", text.replace(b"<name>", b"<name>&#1;&#x1b;", 1), scope="file", lost=None)
    for name in BAD_FILENAMES:
        if any(c < " " for c in name):
            continue
        edit("filename", lambda r, v=name: (r.find("filename") if r.find("filename") is not None
                                            else etree.SubElement(r, "filename")).__setattr__("text", v),
             note=repr(name[:30]), scope="file", lost=None)
    # entities, DTDs, billion laughs, external references
    body = text[text.find(b"<annotation"):]
    hostile_heads = {
        "xxe-file": b'<!DOCTYPE annotation [<!ENTITY xxe SYSTEM "file://{OUTSIDE}/secret.txt">]>',
        "xxe-http": b'<!DOCTYPE annotation [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]>',
        "billion-laughs": b'<!DOCTYPE lolz [<!ENTITY lol "lol">' + b"".join(
            b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
        + b"]>",
        "parameter-entity": b'<!DOCTYPE a [<!ENTITY % p SYSTEM "file://{OUTSIDE}/x.dtd"> %p;]>',
        "external-dtd": b'<!DOCTYPE annotation SYSTEM "file://{OUTSIDE}/x.dtd">',
        "public-dtd": b'<!DOCTYPE annotation PUBLIC "-//X//Y" "http://127.0.0.1:9/x.dtd">',
        "empty-doctype": b"<!DOCTYPE annotation>",
        "lowercase-entity": b'<!DOCTYPE annotation [<!entity x "y">]>',
    }
    for op, head in hostile_heads.items():
        use = body
        if b"ENTITY" in head or b"entity" in head:
            reference = b"&lol9;" if op == "billion-laughs" else b"&xxe;" if b"xxe" in head else b""
            use = body.replace(b"<name>", b"<name>" + reference, 1)
        extra = {OUTSIDE_KEY + "secret.txt": b"TOP SECRET", OUTSIDE_KEY + "x.dtd": b'<!ENTITY leak "x">'}
        tree = dict(seed.tree)
        tree[path] = b'<?xml version="1.0"?>\n' + head + b"\n" + use
        tree.update(extra)
        make.add(op, tree, scope="file", lost=None)
    emit("xinclude", body.replace(b"<annotation>", b'<annotation xmlns:xi="http://www.w3.org/2001/XInclude">'
                                                   b'<xi:include href="file://{OUTSIDE}/secret.txt" parse="text"/>', 1),
         scope="file", lost=0)
    emit("wrong-root", b"<not-annotation><object/></not-annotation>", scope="file", lost=None)
    emit("deep", b"<annotation>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</annotation>", scope="file", lost=None)
    emit("many-attributes", b"<annotation " + b" ".join(b'a%d="x"' % i for i in range(20000)) + b"/>",
         scope="file", lost=None)
    emit("processing-instruction", b'<?xml-stylesheet href="file://{OUTSIDE}/x"?>' + body, scope="file", lost=0)
    if objects:
        edit("many-objects", lambda r: [r.append(copy.deepcopy(r.find("object"))) for _ in range(300)], lost=0)
        edit("nested-object", lambda r: r.find("object").append(copy.deepcopy(r.find("object"))), lost=0)
    # segmentation PNGs and label maps
    pngs = [p for p in seed.tree if p.endswith(".png")]
    for png in pngs[:2]:
        for op, content in (("png-garbage", b"not a png"), ("png-empty", b""),
                            ("png-truncated", seed.tree[png][: len(seed.tree[png]) // 2]),
                            ("png-bomb", png_header(10**9, 10**9)), ("png-large", png_header(20000, 20000)),
                            ("png-wrong-size", png_bytes(7, 3, mode="L")),
                            ("png-rgb-unknown", png_bytes(20, 10, mode="RGB", fill=(1, 2, 3))),
                            ("png-values", png_bytes(20, 10, mode="L"))):
            tree = dict(seed.tree)
            tree[png] = content
            make.add(op, tree, scope="file", lost=None, note=png)
        tree = dict(seed.tree)
        tree[png] = DIR
        make.add("png-directory", tree, scope="file", lost=None, note=png)


# ==== WebVTT =================================================================================================
_TIMING = re.compile(rb"^([^\n]*-->[^\n]*)$", re.M)


def _vtt(make: _Maker) -> None:
    seed = make.seed
    path = seed.main_files[0]
    text = seed.tree[path]
    def R(op):
        return make.rng_for("vtt:" + op)
    timings = _TIMING.findall(text)

    def emit(op, content, **kw):
        tree = dict(seed.tree)
        tree[path] = content
        make.add(op, tree, **kw)

    bad_timings = [
        b"00:00:61.000 --> 00:00:62.000", b"00:61:00.000 --> 00:62:00.000", b"0:00:00.000 --> 0:00:01.000",
        b"00:00.00 --> 00:01.00", b"00:00:00,000 --> 00:00:01,000", b"-00:00:01.000 --> 00:00:02.000",
        b"99999999999999999999:00:00.000 --> 99999999999999999999:00:01.000", b"00:00:05.000 --> 00:00:01.000",
        b"00:00:01.000 00:00:02.000", b"00:00:01.000-->00:00:02.000", b"-->", b"00:00:01.000 --> ",
        b"00:00:01.000 --> 00:00:02.000 align:\x00", b"\x00:00:01.000 --> 00:00:02.000",
        b"00:00:01.0000 --> 00:00:02.000", b"\xd9\xa0\xd9\xa0:\xd9\xa0\xd9\xa1.000 --> 00:02.000",
        b"00:00:01.000 --> 00:00:02.000 --> 00:00:03.000", b"1e300 --> 2e300",
        b"00:00:01.000 --> 00:00:02.000 " + b"x:" * 5000,
    ]
    for value in bad_timings:
        if not timings:
            break
        old = R("timing").choice(timings)
        emit("timing", text.replace(old, value, 1), note=value[:40].decode("utf-8", "replace"), lost=1)
    if timings:
        emit("timings-out-of-order", text.replace(timings[0], b"10:00:00.000 --> 10:00:01.000", 1), lost=0)
    body = text[text.find(b"\n"):] if b"\n" in text else b""
    heads = [b"WEBVTTX", b"webvtt", b"WEBVTT\x00", b"\xef\xbb\xbf\xef\xbb\xbfWEBVTT", b" WEBVTT", b"\nWEBVTT",
             b"WEBVTT - \x1b[31m", b"WEBVTT " + b"h" * 100000]
    for head in heads:
        emit("header", head + body, scope="file", lost=None, note=repr(head[:20]))
    emit("crlf", text.replace(b"\n", b"\r\n"), lost=0)
    emit("cr-only", text.replace(b"\n", b"\r"), lost=0)
    emit("only-bom", b"\xef\xbb\xbf", scope="file", lost=None)
    emit("header-only", b"WEBVTT\n", scope="file", lost=None)
    lines = text.split(b"\n")
    payload_lines = [i for i, line in enumerate(lines) if i > 0 and line and b"-->" not in line
                     and i > 0 and b"-->" in lines[i - 1]]
    payloads = [b"\x00", b"a\x00b", b"<v", b"<v >x", b"<v \x1b[31m>x", b"<v " + b"n" * 10000 + b">x", b"a --> b",
                b"&#0;&#xD800;&#99999999;&#x110000;", b"&" + b"a" * 40 + b";", b"\xff\xfe",
                b"<c." + b"x." * 5000 + b">",
                "\u202e\U0001f600\u0301".encode(), b"<i><b><u>" * 2000, b"x" * 200000]
    for value in payloads:
        if not payload_lines:
            break
        index = R("payload").choice(payload_lines)
        new = list(lines)
        new[index] = value
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:  # a file that is not UTF-8 fails as a whole (documented)
            emit("payload", b"\n".join(new), note=repr(value[:20]), scope="file", lost=None)
            continue
        emit("payload", b"\n".join(new), note=repr(value[:20]), lost=1)
    blocks = [b"STYLE\n::cue { color: red }", b"REGION\nid:x", b"NOTE --> sneaky", b"just some words",
              b"NOTE\n\x00"]
    for value in blocks:
        emit("block", text.rstrip(b"\n") + b"\n\n" + value + b"\n", note=repr(value[:20]), lost=0)
    many = b"WEBVTT\n\n" + b"".join(b"00:00:%02d.000 --> 00:00:%02d.500\nc%d\n\n" % (i % 60, i % 60, i)
                                    for i in range(3000))
    emit("many-cues", many, scope="file", lost=None)


# ==== YOLO ==================================================================================================
def _yolo(make: _Maker) -> None:
    seed = make.seed
    def R(op):
        return make.rng_for("yolo:" + op)
    path = seed.main_files[0]
    text = seed.tree[path]
    lines = [line for line in text.split(b"\n") if line.strip()]

    def emit(op, content, at=path, **kw):
        tree = dict(seed.tree)
        tree[at] = content
        make.add(op, tree, **kw)

    def line_case(op, transform, note=""):
        index = R(op).randrange(len(lines)) if lines else 0
        new = list(lines) or [b"0 0.5 0.5 0.1 0.1"]
        new[index] = transform(new[index])
        emit(op, b"\n".join(new) + b"\n", note=note or new[index][:50].decode("utf-8", "replace"),
             lost=1 + (lines[index].count(b" ") // 3 if seed.name == "pose" and lines else 0))

    line_case("commas", lambda line: line.replace(b" ", b","))
    line_case("commas-spaces", lambda line: line.replace(b" ", b", "))
    line_case("extra-column", lambda line: line + b" 0.5")
    line_case("extra-columns", lambda line: line + b" 0.5 0.5 0.5")
    line_case("missing-column", lambda line: line.rsplit(b" ", 1)[0])
    line_case("one-column", lambda line: line.split(b" ")[0])
    for token in (b"nan", b"inf", b"-inf", b"1e300", b"-0.5", b"1.5", b"abc", b"0x1", b"1_0", b"\xd9\xa1", b"",
                  b"1e-400", b"NaN", b"+0.5"):
        line_case("value", lambda line, t=token: b" ".join(
            [*line.split(b" ")[:2], t, *line.split(b" ")[3:]]), note=token.decode("utf-8", "replace"))
    for token in (b"-1", b"1.5", b"10" * 20, b"abc", b"1e3", b"99", b"\x00"):
        line_case("class", lambda line, t=token: b" ".join([t, *line.split(b" ")[1:]]),
                  note=token.decode("utf-8", "replace"))
    line_case("tabs", lambda line: line.replace(b" ", b"\t"))
    line_case("many-spaces", lambda line: line.replace(b" ", b"    "))
    line_case("nul", lambda line: line + b"\x00")
    line_case("huge-line", lambda line: line + b" 0.5" * 100000)
    emit("crlf", text.replace(b"\n", b"\r\n"), lost=0)
    emit("blank-lines", b"\n\n  \n" + text + b"\n\t\n", lost=0)
    emit("duplicate-lines", text + text, lost=0)
    # the images
    images = [p for p in seed.tree if p.lower().endswith((".jpg", ".png", ".jpeg"))]
    for image in images[:1]:
        for op, content in (("image-garbage", b"not an image"), ("image-empty", b""),
                            ("image-bomb", png_header(10**9, 10**9)), ("image-large", png_header(30000, 30000)),
                            ("image-zero", png_header(0, 0)), ("image-truncated", seed.tree[image][:40])):
            emit(op, content, at=image, scope="file", lost=None)
        tree = dict(seed.tree)
        del tree[image]
        make.add("image-missing", tree, scope="file", lost=None)
        tree = dict(seed.tree)
        tree[image] = DIR
        make.add("image-directory", tree, scope="file", lost=None)
        tree = dict(seed.tree)
        tree[image] = Link(f"{OUTSIDE}/img.jpg")
        tree[OUTSIDE_KEY + "img.jpg"] = seed.tree[image]
        make.add("image-symlink-outside", tree, scope="file", lost=0)
    # data.yaml / obj.data
    yaml_path = next((p for p in seed.tree if p.endswith("data.yaml")), None)
    if yaml_path is not None:
        yaml_text = seed.tree[yaml_path]
        variants = [
            b"names: [a, b", b"names: {0: a, 2: b}", b"names: {-1: a}", b"names: 5", b"names: [[a], {b: c}]",
            b"nc: 1000000000", b"nc: -1\nnames: []", b"nc: abc", b"kpt_shape: [1000000000, 3]", b"kpt_shape: [-1, 3]",
            b"kpt_shape: [3, 7]", b"kpt_shape: '3,3'", b"kpt_shape: [3]", b"path: {OUTSIDE}", b"path: ../outside-x",
            b"train: {OUTSIDE}/images", b"train: [{OUTSIDE}, ../../x]", b"train: 5", b"train: ''",
            b"!!python/object/apply:os.system ['echo pwned > {OUTSIDE}/pwned']",
            b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
            b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nnames: [*e, *e, *e, *e, *e, *e, *e, *e, *e]",
            b"\x00", b"- a\n- b", b"names: {0: \"\\x00\", 1: \"\\e[31m\"}", b"flip_idx: [5, 6, 7]",
            b"kpt_names: {0: 5}",
        ]
        for variant in variants:
            replaced = yaml_text + b"\n" + variant + b"\n"
            if variant.startswith((b"!!", b"- a", b"\x00")):
                replaced = variant
            emit("data-yaml", replaced, at=yaml_path, scope="source", lost=None, note=repr(variant[:30]))
        tree = dict(seed.tree)
        tree[yaml_path] = DIR
        make.add("data-yaml-directory", tree, scope="source", lost=None)
        # class names from nc alone (class_0 …): an absurd nc must not make a billion names
        kept, skipping = [], False
        for line in yaml_text.split(b"\n"):
            skipping = line.startswith((b"names", b"nc")) or (skipping and line.startswith((b" ", b"-")))
            if not skipping:
                kept.append(line)
        for count in (b"1000000000", b"10000", b"-3", b"2.5"):
            emit("data-yaml-nc", b"\n".join(kept) + b"\nnc: " + count + b"\n", at=yaml_path, scope="source", lost=None,
                 note=count.decode())
    data_path = next((p for p in seed.tree if p.endswith("obj.data")), None)
    if data_path is not None:
        for variant in (b"classes = 1000000000\n", b"names = {OUTSIDE}/names\n", b"garbage\n", b"classes = x\n",
                        b"train = /etc/passwd\n", b"names = ../../../../etc/hostname\n"):
            emit("obj-data", seed.tree[data_path] + variant, at=data_path, scope="source", lost=None,
                 note=repr(variant[:30]))
    names_path = next((p for p in seed.tree if p.endswith("obj.names")), None)
    if names_path is not None:
        for variant in (b"", b"\n\n", b"\x00\n", b"a\na\na\n", "\u202e\n\U0001f600\n".encode(), b"\xff\n"):
            emit("names-file", variant, at=names_path, scope="source", lost=None, note=repr(variant[:20]))
    # a label file without its image, and a label file that is a folder
    tree = dict(seed.tree)
    orphan = path.rsplit("/", 1)[0] + "/orphan.txt" if "/" in path else "orphan.txt"
    tree[orphan] = b"0 0.5 0.5 0.1 0.1\n"
    make.add("orphan-label", tree, scope="file", lost=0)
    tree = dict(seed.tree)
    tree[path] = DIR
    make.add("label-directory", tree, scope="file", lost=None)


_BY_FORMAT: dict[str, Callable[[_Maker], None]] = {
    "dataloop": _dataloop, "coco": _coco, "voc": _voc, "vtt": _vtt, "yolo": _yolo,
}


def corpus(master: int = 0, formats: tuple[str, ...] | None = None) -> list[Case]:
    """Every case of the corpus for ``master`` (same seed, same cases, same ids)."""
    cases: list[Case] = []
    for seed in SEEDS():
        if formats is not None and seed.fmt not in formats:
            continue
        make = _Maker(seed, master)
        _common(make)
        _label_maps(make)
        _BY_FORMAT[seed.fmt](make)
        cases.extend(make.cases)
    return cases


_TOKENS = (b"\x00", b"-", b"1e300", b"NaN", b",", b" ", b"\n", b"{", b"]", b"<", b"&", b"-->", b"..", b"/", b"\xff",
           b"\"", b"9" * 30, b"-1", b"0", b"\r", b"\t", b"\xef\xbb\xbf", b"<!ENTITY", b"&lol;", b"{OUTSIDE}")


def _damage_bytes(data: bytearray, rng: random.Random) -> bytes:
    for _ in range(rng.randint(1, 6)):
        choice = rng.random()
        if not data:
            data += bytes([rng.randrange(256)])
        elif choice < 0.25:  # flip a byte
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif choice < 0.5:  # an interesting byte or token
            at = rng.randrange(len(data) + 1)
            data[at:at] = rng.choice(_TOKENS)
        elif choice < 0.7:  # delete a span
            at = rng.randrange(len(data))
            del data[at:at + rng.randint(1, 16)]
        elif choice < 0.9:  # duplicate a span
            at = rng.randrange(len(data))
            data[at:at] = data[at:at + rng.randint(1, 64)]
        else:  # truncate
            del data[rng.randrange(len(data)):]
    return bytes(data)


def _damage_json(value, rng: random.Random):
    """1–4 random edits of a JSON value: a hostile value, a key removed, a list item duplicated or dropped."""
    from .values import HOSTILE_VALUES

    for _ in range(rng.randint(1, 4)):
        paths = [p for p in _paths(value, (), depth=7, width=4) if p]
        if not paths:
            return rng.choice(HOSTILE_VALUES)
        path = rng.choice(paths)
        parent = _get(value, path[:-1])
        choice = rng.random()
        if choice < 0.55:
            _set(value, path, rng.choice(HOSTILE_VALUES) if rng.random() < 0.7 else wrong_type(_get(value, path), rng))
        elif choice < 0.75:
            _delete(value, path)
        elif isinstance(parent, list):
            if choice < 0.9:
                parent.insert(path[-1], copy.deepcopy(parent[path[-1]]))
            else:
                parent.reverse()
        else:
            _set(value, path, [_get(value, path)] * rng.randint(0, 3))
    return value


def _damage_lines(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 4)):
        if not lines:
            lines = [b""]
        at = rng.randrange(len(lines))
        choice = rng.random()
        if choice < 0.3:  # a token of the line replaced
            tokens = lines[at].split(b" ")
            tokens[rng.randrange(len(tokens))] = rng.choice((*_TOKENS, b"1.5", b"-0.5", b"inf", b"abc", b""))
            lines[at] = b" ".join(tokens)
        elif choice < 0.5:
            lines.insert(at, lines[at])
        elif choice < 0.65:
            del lines[at]
        elif choice < 0.8:
            other = rng.randrange(len(lines))
            lines[at], lines[other] = lines[other], lines[at]
        else:
            lines[at] = _damage_bytes(bytearray(lines[at]), rng)
    return b"\n".join(lines)


def random_case(rng: random.Random, pool: list[Case] | None = None, case_id: str | None = None) -> Case:
    """A case for the long fuzz run: a corpus case with random damage stacked on one of its files
    (structure-aware for JSON, line-aware for text, bytes otherwise). Same ``rng`` state, same case."""
    pool = pool or corpus(0)
    base = rng.choice(pool)
    tree = dict(base.tree)
    files = sorted(p for p, c in tree.items() if isinstance(c, bytes) and not p.startswith(OUTSIDE_KEY)
                   and not p.lower().endswith((".jpg", ".png", ".mp4", ".wav")))
    if not files:
        return replace(base, id=case_id or f"fuzz-{base.id}", base=base.id)
    path = rng.choice(files)
    data = tree[path]
    how = "bytes"
    if rng.random() < 0.75:
        if path.endswith(".json"):
            try:
                tree[path] = _dumps(_damage_json(json.loads(data), rng))
                how = "json"
            except ValueError:
                pass
        elif path.endswith((".txt", ".vtt", ".yaml", ".data", ".names", ".xml")):
            tree[path] = _damage_lines(data, rng)
            how = "lines"
    if how == "bytes":
        tree[path] = _damage_bytes(bytearray(data), rng)
    if rng.random() < 0.3:  # and sometimes another target than the base case's
        seed = next(s for s in SEEDS() if s.fmt == base.fmt and s.name == base.seed)
        base = replace(base, to=rng.choice(seed.targets))
    return replace(base, id=case_id or f"fuzz-{base.id}", base=base.id, tree=tree, scope="file", lost=None,
                   note=f"{base.note} + random {how} damage to {path}".strip(" +"))
