"""OutputFolder: safe_join's rules for the many files of one output folder, each folder resolved once."""

from __future__ import annotations

import os

import pytest

from dlconvert._io import OutputFolder, safe_join
from dlconvert.errors import OutputError


@pytest.mark.parametrize("relative", ["a.txt", "/a.txt", "sub/a.txt", "/sub/deeper/a.txt", "sub/./a.txt", "x\\y.txt",
                                      "../a.txt", "sub/../../a.txt"])  # ".." stops at the root, as in safe_join
def test_it_answers_what_safe_join_answers(relative, tmp_path):
    assert OutputFolder(tmp_path).join(relative) == safe_join(tmp_path, relative)


@pytest.mark.parametrize("relative", ["C:/a.txt", "a\x00.txt", "x" * 256 + ".txt", "", "/"])
def test_it_refuses_what_leaves_the_folder_or_names_no_file(relative, tmp_path):
    with pytest.raises(OutputError):
        OutputFolder(tmp_path).join(relative)


def test_a_folder_linked_out_of_the_output_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "out"
    root.mkdir()
    os.symlink(outside, root / "sub")
    folder = OutputFolder(root)
    assert folder.join("a.txt") == root.resolve() / "a.txt"
    with pytest.raises(OutputError, match="resolves outside"):
        folder.join("sub/a.txt")
