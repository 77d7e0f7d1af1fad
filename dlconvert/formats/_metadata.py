"""Reading what a format kept in an item's or annotation's metadata (``metadata.user.<format>``).

That metadata comes from files, so any level may hold anything; every format reads it the same
way: an object at each level, else nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["section"]


def section(data: Any, *keys: str) -> dict:
    """``data[keys[0]][keys[1]]…`` when every level is an object, else ``{}``."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}
