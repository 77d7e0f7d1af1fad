"""The command line on the bundled sample: ``info`` (text and JSON), ``demo``, and what every option of
``info``, ``validate`` and ``verify`` says and accepts.

The expected counts are computed here from the sample's JSON files with the standard library
only, not through dlconvert.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import click
import orjson
import pytest

from dlconvert.cli import main


def _sample_counts(sample_dir: Path) -> dict:
    items = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((sample_dir / "json").rglob("*.json"))]
    by_type: Counter = Counter()
    by_label: Counter = Counter()
    by_mimetype: Counter = Counter()
    tracks = frame_states = 0
    last_frames = []
    for item in items:
        mimetype = item["metadata"]["system"]["mimetype"]
        by_mimetype[mimetype] += 1
        timed = mimetype.startswith(("video/", "audio/"))
        for annotation in item["annotations"]:
            by_type[annotation["type"]] += 1
            by_label[annotation["label"] or "(no label)"] += 1
            if timed:
                system = annotation["metadata"]["system"]
                tracks += 1
                frame_states += 1 + len(system.get("snapshots_") or [])
                last_frames.append(system["endFrame"])
    return {
        "items": len(items),
        "annotated_items": sum(bool(item["annotations"]) for item in items),
        "annotations": sum(len(item["annotations"]) for item in items),
        "by_type": dict(sorted(by_type.items())),
        "by_label": dict(sorted(by_label.items())),
        "by_mimetype": dict(sorted(by_mimetype.items())),
        "tracks": tracks,
        "frame_states": frame_states,
        "max_frame": max(last_frames) if last_frames else None,
    }


def test_sample_counts_are_what_the_sample_readme_says(sample_dir: Path):
    # The oracle agrees with the sample's own description (samples/README.md).
    counts = _sample_counts(sample_dir)
    assert counts["items"] == 5 and counts["annotated_items"] == 4
    assert counts["annotations"] == 9 + 8 + 0 + 2 + 3
    assert counts["tracks"] == 2 + 3
    assert counts["frame_states"] == 10 + 6 + 3


def _counts(document: dict) -> dict:
    """The summary's counts, without what ``info --json`` says besides them."""
    return {k: v for k, v in document.items() if k not in ("format", "label_files", "problems", "skipped")}


def test_info_json_counts(cli_runner, sample_dir: Path):
    result = cli_runner.invoke(main, ["info", "--json", str(sample_dir)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert _counts(document) == _sample_counts(sample_dir)
    assert document["format"] == "dataloop" and document["label_files"] is None and document["problems"] == []
    # Keys in a stable order.
    assert list(document) == ["format", "items", "annotated_items", "annotations", "by_type", "by_label",
                              "by_mimetype", "tracks", "frame_states", "max_frame", "label_files", "skipped",
                              "problems"]


def test_info_json_on_the_json_folder_and_one_file(cli_runner, sample_dir: Path):
    on_json = cli_runner.invoke(main, ["info", "--json", str(sample_dir / "json")])
    assert on_json.exit_code == 0 and _counts(json.loads(on_json.stdout)) == _sample_counts(sample_dir)
    one = cli_runner.invoke(main, ["info", "--json", str(sample_dir / "json/street/scene_02.json")])
    assert one.exit_code == 0
    item = json.loads((sample_dir / "json/street/scene_02.json").read_text(encoding="utf-8"))
    summary = json.loads(one.stdout)
    assert summary["items"] == 1 and summary["annotations"] == len(item["annotations"])
    assert summary["by_type"] == dict(sorted(Counter(a["type"] for a in item["annotations"]).items()))
    assert summary["tracks"] == 0 and summary["max_frame"] is None


def _section(lines: list[str], title: str) -> dict[str, int]:
    start = lines.index(f"{title}:") + 1
    out = {}
    for line in lines[start:]:
        match = re.fullmatch(r"  (\S.*?)\s{2,}(\d+)", line)
        if not match:
            break
        out[match.group(1)] = int(match.group(2))
    return out


def test_info_text(cli_runner, sample_dir: Path):
    counts = _sample_counts(sample_dir)
    result = cli_runner.invoke(main, ["info", str(sample_dir)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"items:        {counts['items']} ({counts['annotated_items']} annotated)"
    assert lines[1] == f"annotations:  {counts['annotations']}"
    assert lines[2] == (f"tracks:       {counts['tracks']} ({counts['frame_states']} stored frame states, "
                        f"last frame {counts['max_frame']})")
    assert _section(lines, "by type") == counts["by_type"]
    assert _section(lines, "by label") == counts["by_label"]
    assert _section(lines, "by mimetype") == counts["by_mimetype"]


def test_info_on_a_missing_path_is_a_usage_error(cli_runner, tmp_path: Path):
    result = cli_runner.invoke(main, ["info", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def _json_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.json"))


def test_demo_writes_the_sample_back_identical(cli_runner, sample_dir: Path, tmp_path: Path):
    out = tmp_path / "demo"
    result = cli_runner.invoke(main, ["demo", str(out)])
    assert result.exit_code == 0, result.output
    written = out / "dataloop" / "json"
    assert _json_files(written) == _json_files(sample_dir / "json")
    for relative in _json_files(written):
        assert orjson.dumps(orjson.loads((written / relative).read_bytes())) == orjson.dumps(
            orjson.loads((sample_dir / "json" / relative).read_bytes())), relative
    assert "(5 identical to the source)" in result.stdout
    # The demo's summary is the same as `info --json`.
    assert json.loads((out / "summary.json").read_text(encoding="utf-8")) == _sample_counts(sample_dir)


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]], ids=["plain", "overwrite"])
def test_demo_never_touches_a_folder_of_files_it_did_not_write(cli_runner, tmp_path: Path, overwrite: list[str]):
    out = tmp_path / "busy"
    out.mkdir()
    keep = out / "precious.txt"
    keep.write_text("do not delete", encoding="utf-8")
    result = cli_runner.invoke(main, ["demo", *overwrite, str(out)])
    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {out}: ") and "precious.txt" in line
    assert "Traceback" not in result.output
    assert keep.read_text(encoding="utf-8") == "do not delete"
    assert sorted(p.name for p in out.iterdir()) == ["precious.txt"]


def test_demo_overwrite_replaces_its_own_previous_output(cli_runner, tmp_path: Path):
    out = tmp_path / "demo"
    assert cli_runner.invoke(main, ["demo", str(out)]).exit_code == 0
    again = cli_runner.invoke(main, ["demo", str(out)])
    assert again.exit_code == 1 and again.stderr.startswith(f"error: {out}: ")
    result = cli_runner.invoke(main, ["demo", "--overwrite", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "dataloop" / "json" / "street" / "scene_01.json").is_file()


@pytest.mark.parametrize("empty", [True, False], ids=["empty-folder", "missing-folder"])
def test_demo_into_an_empty_or_missing_folder(cli_runner, tmp_path: Path, empty: bool):
    out = tmp_path / "new" / "demo"
    if empty:
        out.mkdir(parents=True)
    result = cli_runner.invoke(main, ["demo", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "summary.json").is_file()


def test_demo_refuses_a_file(cli_runner, tmp_path: Path):
    out = tmp_path / "file.txt"
    out.write_text("x", encoding="utf-8")
    result = cli_runner.invoke(main, ["demo", str(out)])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert out.read_text(encoding="utf-8") == "x"


# ==== what every option says and accepts ===========================================================
def _options(command: str) -> dict[str, click.Option]:
    return {option.opts[0]: option for option in main.commands[command].params if isinstance(option, click.Option)}


@pytest.mark.parametrize("command", ["info", "validate", "verify"])
def test_every_option_has_help_text(command):
    missing = [name for name, option in _options(command).items() if not (option.help or "").strip()]
    assert missing == []


@pytest.mark.parametrize(("command", "flag"), [("info", "--from"), ("validate", "--from"), ("verify", "--from"),
                                               ("verify", "--via")])
def test_format_options_list_the_formats(cli_runner, command, flag):
    from dlconvert.formats import list_formats

    help_text = " ".join(cli_runner.invoke(main, [command, "--help"]).stdout.split("Options:", 1)[1].split())
    described = help_text.split(flag, 1)[1].split(" --", 1)[0]
    assert all(spec.name in described for spec in list_formats())


@pytest.mark.parametrize(("args", "bad"), [
    (["--min-iou", "1.5"], "--min-iou"), (["--min-iou", "-0.1"], "--min-iou"), (["--min-iou", "nan"], "--min-iou"),
    (["--max-distance", "-1"], "--max-distance"), (["--max-distance", "inf"], "--max-distance"),
    (["--precision", "99"], "--precision"),
])
def test_verify_refuses_numbers_out_of_range(cli_runner, sample_dir: Path, args: list[str], bad: str):
    result = cli_runner.invoke(main, ["verify", str(sample_dir), "--from", "dataloop", "--via", "coco", *args])
    assert result.exit_code == 2
    assert bad in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("command", ["info", "validate"])
def test_info_and_validate_refuse_an_unknown_format(cli_runner, sample_dir: Path, command: str):
    result = cli_runner.invoke(main, [command, "--from", "tfrecord", str(sample_dir)])
    assert result.exit_code == 2 and "tfrecord" in result.stderr


def test_validate_puts_its_summary_on_stdout(cli_runner, sample_dir: Path):
    result = cli_runner.invoke(main, ["validate", str(sample_dir)])
    assert result.exit_code == 0
    assert result.stdout == "5 items checked: 0 errors, 0 warnings\n" and result.stderr == ""
    as_json = json.loads(cli_runner.invoke(main, ["validate", "--json", str(sample_dir)]).stdout)
    assert as_json == {"format": "dataloop", "source": str(sample_dir), "items": 5, "errors": 0, "warnings": 0,
                       "skipped": {}, "label_files": None, "problems": []}


@pytest.mark.parametrize("argv", [["convert", "SRC", "OUT", "--to", "labelbox"],
                                  ["verify", "SRC", "--via", "labelbox"]])
def test_a_format_dlconvert_only_reads_is_a_usage_error_naming_those_it_writes(argv, sample_dir, tmp_path,
                                                                               cli_runner):
    argv = [str(sample_dir) if a == "SRC" else str(tmp_path / "out") if a == "OUT" else a for a in argv]
    result = cli_runner.invoke(main, argv)
    assert result.exit_code == 2
    said = " ".join(result.stderr.split())
    assert "dlconvert reads labelbox but does not write it; it writes coco," in said
    assert "labelbox" not in said.split("it writes", 1)[1]
    assert not (tmp_path / "out").exists()
