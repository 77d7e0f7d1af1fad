"""The dataset's own files: ``data.yaml`` (read with bounds), darknet's ``obj.data``, names files.

A YAML document is untrusted: it is refused when the file is larger than :data:`MAX_CONFIG_BYTES`
or when it would expand, aliases followed, to more than :data:`MAX_YAML_NODES` nodes (an "alias
bomb" of nested ``&a [*b, *b, …]`` anchors is a few hundred bytes and expands to billions) or
refers to itself. The optional fields are checked for type: a wrong one is reported
(``yolo.invalid-config``: an error, or with ``on_error="skip"`` listed and left out), never guessed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import FormatError
from .common import MAX_CLASSES, MAX_KEYPOINTS, NAMES_FILES, read_text

if TYPE_CHECKING:
    from ...report import ConversionReport

MAX_CONFIG_BYTES = 16 * 2 ** 20  # a data.yaml naming 100,000 classes is about 2 MB
MAX_YAML_NODES = 1_000_000  # after aliases are expanded


def load_yaml(path: Path) -> dict:
    """A bounded ``data.yaml``: a mapping, or a one-line error naming the file (and the line)."""
    import yaml

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FormatError(f"cannot read the file: {exc.strerror}", path=path) from None
    if size > MAX_CONFIG_BYTES:
        raise FormatError(f"the file is {size} bytes; a YOLO data.yaml has at most {MAX_CONFIG_BYTES}", path=path)
    loader = yaml.SafeLoader(read_text(path))
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_expansion(node, path)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FormatError(f"invalid YAML: {problem}", path=path, where=where) from None
    except RecursionError:
        raise FormatError("the YAML is nested too deeply", path=path) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise FormatError("a YOLO data.yaml must be a mapping (path, train, val, names …)", path=path)
    return data


def _check_expansion(root: Any, path: Path) -> None:
    """Refuse a YAML node graph that expands (aliases followed) past :data:`MAX_YAML_NODES` or into itself.

    Aliases make the composed graph a DAG that is cheap to hold but exponential to walk as a tree,
    which is what building names from it does; the expanded size is counted here once per node.
    """
    import yaml

    def children(node: Any) -> list:
        if isinstance(node, yaml.MappingNode):
            return [part for pair in node.value for part in pair]
        return list(node.value) if isinstance(node, yaml.SequenceNode) else []

    sizes: dict[int, int] = {}
    expanding: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            expanding.discard(key)
            sizes[key] = min(MAX_YAML_NODES + 1, 1 + sum(sizes[id(child)] for child in children(node)))
            continue
        if key in sizes:
            continue
        if key in expanding:
            mark = node.start_mark
            raise FormatError("the YAML refers to itself (a recursive alias)", path=path, where=f"line {mark.line + 1}")
        expanding.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children(node) if id(child) not in sizes)
    if sizes[id(root)] > MAX_YAML_NODES:
        raise FormatError(f"the YAML expands (aliases followed) to more than {MAX_YAML_NODES} values", path=path)


def invalid(report: ConversionReport, message: str, path: Path, where: str) -> None:
    """An optional field of a wrong type or value: reported as ``yolo.invalid-config`` and left out."""
    report.failed(FormatError(message, path=path, where=where), code="yolo.invalid-config")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _name(value: Any, path: Path, where: str) -> str:
    """A class or keypoint name: a YAML scalar (``7`` is the name "7", as Ultralytics reads it)."""
    if value is None or isinstance(value, (list, dict)):
        raise FormatError(f"a name must be text, not {'nothing' if value is None else type(value).__name__}",
                          path=path, where=where)
    return str(value)


def names_from_yaml(data: dict, path: Path, report: ConversionReport) -> list[str] | None:
    """``names`` (a list or an ``{index: name}`` map) or ``class_0 …`` for ``nc`` alone; None when neither."""
    names = data.get("names")
    count = data.get("nc")
    if count is not None and not (_is_int(count) and count >= 0):
        invalid(report, f"nc must be a number of classes, not {count!r}", path, "/nc")
        count = None
    if names is None:
        if count is None:
            return None
        if count > MAX_CLASSES:
            raise FormatError(f"nc asks for {count} classes without names, more than {MAX_CLASSES}", path=path,
                              where="/nc")
        return [f"class_{i}" for i in range(count)]
    if isinstance(names, dict):
        by_index: dict[int, Any] = {}
        for key, value in names.items():
            if not (_is_int(key) or (isinstance(key, str) and key.isdigit())):
                raise FormatError(f"names key {key!r} is not a class index", path=path, where="/names")
            by_index[int(key)] = value
        if sorted(by_index) != list(range(len(by_index))):
            raise FormatError(f"names must number the classes 0…{len(by_index) - 1} without gaps, "
                              f"found {sorted(by_index)}", path=path, where="/names")
        names = [by_index[i] for i in range(len(by_index))]
    if not isinstance(names, list):
        raise FormatError("names must be a list or an {index: name} map", path=path, where="/names")
    out = [_name(n, path, f"/names/{i}") for i, n in enumerate(names)]
    if count is not None and count != len(out):
        raise FormatError(f"nc is {count} but names has {len(out)} entries", path=path, where="/nc")
    return unique(out)


def pose_config(data: dict, path: Path, report: ConversionReport) -> dict[str, Any]:
    """``kpt_shape`` [K, 2 or 3], ``flip_idx`` (a permutation of 0…K−1) and ``kpt_names`` (``{class index or
    None for every class: K names}``) from a data.yaml, each checked."""
    config: dict[str, Any] = {}
    shape = data.get("kpt_shape")
    if shape is not None:
        if not (isinstance(shape, list) and len(shape) == 2 and all(_is_int(v) for v in shape)
                and shape[0] >= 0 and shape[1] in (2, 3)):
            raise FormatError("kpt_shape must be [number of keypoints, 2 or 3]", path=path, where="/kpt_shape")
        if shape[0] > MAX_KEYPOINTS:
            raise FormatError(f"kpt_shape asks for {shape[0]} keypoints, more than {MAX_KEYPOINTS}", path=path,
                              where="/kpt_shape")
        config["kpt_shape"] = [shape[0], shape[1]]
    count = config["kpt_shape"][0] if "kpt_shape" in config else None
    flip = data.get("flip_idx")
    if flip is not None:
        if not (isinstance(flip, list) and all(_is_int(v) for v in flip)):
            invalid(report, "flip_idx must be a list of keypoint indices", path, "/flip_idx")
        elif count is not None and sorted(flip) != list(range(count)):
            invalid(report, f"flip_idx must order the {count} keypoints of kpt_shape (each index once)", path,
                    "/flip_idx")
        else:
            config["flip_idx"] = list(flip)
    kpt_names = data.get("kpt_names")
    if kpt_names is not None and count is not None:
        config["kpt_names"] = _kpt_names(kpt_names, count, path, report)
    return config


def _kpt_names(value: Any, count: int, path: Path, report: ConversionReport) -> dict[int | None, list[str]]:
    """``kpt_names`` as ``{class index: names}`` (``None``: the names of every class): Ultralytics'
    ``{0: [nose, …]}``, a list per class, or one list for all."""
    if isinstance(value, dict):
        entries = list(value.items())
    elif isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        entries = list(enumerate(value))
    elif isinstance(value, list):
        entries = [(None, value)]
    else:
        invalid(report, "kpt_names must map class indices to lists of keypoint names", path, "/kpt_names")
        return {}
    out: dict[int | None, list[str]] = {}
    for key, names in entries:
        where = "/kpt_names" if key is None else f"/kpt_names/{key}"
        if key is not None and not (_is_int(key) or (isinstance(key, str) and key.isdigit())):
            invalid(report, f"kpt_names key {key!r} is not a class index", path, where)
        elif not isinstance(names, list) or any(v is None or isinstance(v, (list, dict)) for v in names):
            invalid(report, "keypoint names must be a list of names", path, where)
        elif len(names) != count or len({str(v) for v in names}) != count:
            invalid(report, f"{len(names)} keypoint names (distinct: {len({str(v) for v in names})}) for the "
                            f"{count} keypoints of kpt_shape", path, where)
        else:
            out[None if key is None else int(key)] = [str(v) for v in names]
    return out


def darknet_entries(path: Path) -> dict[str, str]:
    """The ``key = value`` lines of a darknet ``obj.data`` (``#`` starts a comment)."""
    entries: dict[str, str] = {}
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if "=" not in text:
            raise FormatError("expected 'key = value'", path=path, where=f"line {number}")
        key, value = (part.strip() for part in text.split("=", 1))
        entries[key] = value
    return entries


def unique(names: list[str]) -> list[str]:
    """Names with duplicates kept apart (``name (index)``), as the COCO reader does."""
    seen: set[str] = set()
    out = []
    for index, name in enumerate(names):
        if name in seen:
            name = f"{name} ({index})"
        seen.add(name)
        out.append(name)
    return out


def names_file(path: Path) -> list[str]:
    """A names file: one class name a line, in index order; blank lines left out."""
    return unique([line.strip() for line in read_text(path).splitlines() if line.strip()])


def find_names_file(folder: Path) -> Path | None:
    """``obj.names``, ``classes.txt``, ``labels.txt`` or else the first ``*.names`` in ``folder``."""
    for name in NAMES_FILES:
        if (folder / name).is_file():
            return folder / name
    others = sorted(p for p in folder.glob("*.names") if p.is_file())
    return others[0] if others else None
