"""Planning a LabelMe source reads each file's ``imagePath`` to tell whether two files annotate one image (then the
source is read in one ordered pass). The base64 ``imageData`` is skipped, not scanned: the paths found are the
pattern's over the whole text, for any file — keys anywhere, escapes, several imageData, ``imageData`` null."""

from __future__ import annotations

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from dlconvert.formats.labelme.reader import _IMAGE_PATH, _image_paths

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
KEYS = st.sampled_from(["imagePath", "imageData", "label", "flags", "x"]) | TEXT
VALUES = st.recursive(
    st.none() | st.integers() | TEXT | st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3), max_leaves=12)


@given(st.dictionaries(KEYS, VALUES, max_size=8), st.booleans())
def test_skipping_image_data_finds_what_the_whole_text_holds(document, indent):
    data = json.dumps(document, indent=2 if indent else None, ensure_ascii=False).encode()
    assert _image_paths(data) == _IMAGE_PATH.findall(data)


def test_a_file_that_carries_its_image():
    image = base64.b64encode(bytes(range(256)) * 4000).decode()
    data = json.dumps({"version": "5.4.1", "shapes": [{"label": 'say "imagePath": "x.jpg"', "flags": {}}],
                       "imagePath": "..\\\\photos\\\\a.jpg", "imageData": image, "imageHeight": 1}).encode()
    assert _image_paths(data) == [b"..\\\\\\\\photos\\\\\\\\a.jpg"] == _IMAGE_PATH.findall(data)
