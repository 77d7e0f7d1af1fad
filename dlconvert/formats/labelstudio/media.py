"""A task's media: which ``data`` value is the image, the item file name it stands for, and the local file.

Label Studio tasks name their image by URL or path in ``data`` (the key the config's ``<Image value="$key">``
names; without a config ``image``, else the first value that looks like a media reference). Item file
names, the way Label Studio's own converter names exported images:

* ``/data/upload/<project>/<name>`` (uploaded files) → ``/<name>``; Label Studio prefixes the name it was
  uploaded under with 8 hex digits and a dash (``48c220e9-fox.jpg``), so the local image is also looked
  for under the name without them (``fox.jpg``), and where Label Studio keeps it: ``upload/<project>/<name>``
  under its ``media`` folder (or ``<project>/<name>`` under ``media/upload``) given as ``--images``;
* ``/data/local-files/?d=<path>`` (local storage) → ``/<path>``;
* a URL (``https://…``, ``s3://…``, ``gs://…``) → ``/<its last path segment>``, percent-decoding undone;
* a plain path → itself, with a leading ``/``.

A task without media (text, or data Label Studio renders itself) is named ``/task-<id>`` and is not an
image. Written tasks name a new item's image ``/data/local-files/?d=<file name>``, which reads back as
the same file name; an item read from Label Studio keeps its own ``data`` value.
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ...images import IMAGE_EXTENSIONS, find_image

__all__ = ["LOCAL_FILES", "ImageFinder", "filename_of", "media_key", "mimetype_of"]

LOCAL_FILES = "/data/local-files/?d="
_UPLOAD = re.compile(r"^/?data/upload/([^/]+)/(.+)$")
_UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-(.+)$")
_MEDIA_EXTENSIONS = (*IMAGE_EXTENSIONS, ".mp4", ".webm", ".mov", ".avi", ".mkv", ".mp3", ".wav", ".ogg", ".flac",
                     ".m4a")
#: Data keys Label Studio's templates use for media, and the kind of media each holds.
_KEY_KINDS = {"image": "image", "img": "image", "video": "video", "audio": "audio"}


def media_key(data: dict, object_keys: dict[str, str] | None = None, to_names: tuple[str, ...] = ()) -> str | None:
    """The ``data`` key holding the task's media: the one the config ties to the results' ``to_name``,
    else ``image`` (``video``, ``audio``), else the first value that looks like a media reference."""
    for name in to_names:
        key = (object_keys or {}).get(name)
        if key is not None and _is_reference(data.get(key)):
            return key
    for key in _KEY_KINDS:
        if _is_reference(data.get(key)):
            return key
    return next((key for key, value in data.items() if _is_reference(value) and _has_media_extension(value)), None)


def _is_reference(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and "\n" not in value and not value.startswith("data:")


def _has_media_extension(value: str) -> bool:
    path = urlsplit(value).path if "://" in value else value
    return posixpath.splitext(path.lower())[1] in _MEDIA_EXTENSIONS


def filename_of(reference: str) -> str:
    """The item file name a media reference stands for (see the module docstring)."""
    reference = reference.strip()
    if reference.startswith(LOCAL_FILES) or reference.startswith(LOCAL_FILES[1:]):
        path = unquote(reference.split("?d=", 1)[1])
    else:
        parts = urlsplit(reference)
        path = unquote(parts.path)
        upload = _UPLOAD.match(path)
        if upload is not None:
            path = upload.group(2)
        elif parts.scheme and parts.scheme != "file":
            path = posixpath.basename(path.rstrip("/")) or parts.netloc
    path = path.replace("\\", "/")
    return "/" + path.lstrip("/")


def mimetype_of(filename: str, key: str | None) -> str | None:
    """The item's mimetype: by its extension, else by the data key (``video``, ``audio``); None for text."""
    guessed = mimetypes.guess_type(filename)[0]
    if guessed is not None:
        return guessed
    kind = _KEY_KINDS.get(key or "")
    return {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/mpeg"}.get(kind or "")


class ImageFinder:
    """Finds a task's image under folders (``--images``, beside the export): by its file name, also without the
    upload prefix Label Studio adds, and by its base name alone. Each folder's own files are listed once, so a
    large export asks the file system once per folder, not once per task; names with folders go through
    :func:`~dlconvert.images.find_image` (which keeps them inside the folder)."""

    def __init__(self, roots: tuple[Path, ...]) -> None:
        self.roots = roots
        self._files: dict[Path, dict[str, Path]] = {}

    def find(self, filename: str, reference: str | None = None) -> Path | None:
        """The image of the item ``filename``; ``reference``: the task's own (an upload's path says where Label
        Studio keeps it)."""
        base = posixpath.basename(filename)
        unprefixed = _UPLOAD_PREFIX.match(base)
        names = [base] + ([unprefixed.group(1)] if unprefixed is not None else [])
        paths = [filename] if posixpath.dirname(filename) not in ("", "/") else []
        upload = _UPLOAD.match(unquote(urlsplit(reference.strip()).path)) if reference else None
        if upload is not None:
            paths += [f"upload/{upload.group(1)}/{upload.group(2)}", f"{upload.group(1)}/{upload.group(2)}"]
        for root in self.roots:
            found = next((image for image in (find_image(root, path) for path in paths) if image), None)
            if found is None:
                files = self._listing(root)
                found = next((files[key] for name in names for key in (name, posixpath.splitext(name)[0])
                              if key in files), None)
            if found is not None:
                return found
        return None

    def _listing(self, root: Path) -> dict[str, Path]:
        """The image files directly in ``root``: by name, and by stem (another extension still pairs)."""
        if root not in self._files:
            files: dict[str, Path] = {}
            try:
                with os.scandir(root) as entries:
                    for entry in entries:
                        stem, extension = posixpath.splitext(entry.name)
                        if extension.lower() in IMAGE_EXTENSIONS and entry.is_file():
                            files.setdefault(entry.name, Path(entry.path))
                            files.setdefault(stem, Path(entry.path))
            except OSError:
                pass
            self._files[root] = files
        return self._files[root]
