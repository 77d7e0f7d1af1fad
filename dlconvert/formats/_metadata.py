"""Reading what a format kept in an item's or annotation's metadata (``metadata.user.<format>``).

That metadata comes from files, so any level may hold anything; every format reads it the same
way: an object at each level, else nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SPLIT_SOURCES", "item_split", "section"]

#: The formats whose readers record an item's split (``metadata.user.<format>.split``), in the order asked.
SPLIT_SOURCES = ("yolo", "coco")


def section(data: Any, *keys: str) -> dict:
    """``data[keys[0]][keys[1]]…`` when every level is an object, else ``{}``."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def item_split(item_json: Any) -> Any:
    """The split a reader recorded for an item (a YOLO dataset's, a COCO folder's file), or None."""
    for fmt in SPLIT_SOURCES:
        split = section(item_json, "metadata", "user", fmt).get("split")
        if split is not None:
            return split
    return None
