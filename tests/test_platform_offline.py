"""The platform connector without the Dataloop SDK: a dtlpy-less install, the fake server's own
behaviour (query language, faults, HTTP details) and the upload fingerprints.

Everything here runs with the standard library's HTTP client; the SDK-driven tests are in
``test_platform.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dlconvert.platform.fingerprints import annotation_fingerprint, sdk_encoded_snapshots
from dlconvert.testing import FakeDataloop, Fault, make_token
from dlconvert.testing.faults import HttpError
from dlconvert.testing.query import matches

ROOT = Path(__file__).parent.parent


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


# ==================================================================================================
# without dtlpy
# ==================================================================================================
def test_import_dlconvert_and_the_platform_package_never_imports_dtlpy():
    result = _run("""
        import json, sys
        import dlconvert, dlconvert.platform, dlconvert.testing
        print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'dtlpy', 'click', 'tqdm', 'cv2'})))
    """)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_without_dtlpy_every_platform_call_says_how_to_install_it():
    result = _run("""
        import sys
        sys.modules["dtlpy"] = None  # as if not installed: "import dtlpy" raises ImportError
        import dlconvert
        from dlconvert import PlatformError
        from dlconvert.converter import Converter
        from dlconvert.platform import (convert_dataset, download_dataset, upload_collections, upload_local_dataset,
                                        login, get_dataset)
        calls = [
            lambda: convert_dataset(Converter(), object(), "coco", "out"),
            lambda: download_dataset(Converter(), object(), "out", views=["mask"]),
            lambda: upload_local_dataset(Converter(), "coco", object(), local_annotations_path="x.json"),
            lambda: upload_collections(Converter(), [], object()),
            lambda: login(),
            lambda: get_dataset("abc"),
        ]
        for call in calls:
            try:
                call()
            except PlatformError as exc:
                print("ERR", exc)
            else:
                print("NO ERROR")
    """)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 6
    for line in lines:
        assert line.startswith("ERR ") and "pip install 'dlconvert[platform]'" in line and "dtlpy" in line


def test_without_dtlpy_the_cli_prints_one_line_and_fails(tmp_path):
    result = _run(f"""
        import sys
        sys.modules["dtlpy"] = None
        from click.testing import CliRunner
        from dlconvert.cli import _Group
        from dlconvert.cli.platform import download, upload
        group = _Group(commands=[download, upload])
        out = {str(tmp_path / "out")!r}
        result = CliRunner().invoke(group, ["download", "--dataset-id", "abc", "--to", "coco", out])
        print(result.exit_code)
        print(repr(result.output))
    """)
    assert result.returncode == 0, result.stderr
    code, output = result.stdout.strip().splitlines()
    assert code == "1"
    text = eval(output)  # the repr printed above
    assert text.count("\n") == 1 and text.startswith("error: ") and "dlconvert[platform]" in text


# ==================================================================================================
# the query language
# ==================================================================================================
ITEM = {"id": "6a01", "filename": "/street/a.jpg", "dir": "/street", "hidden": False, "type": "file",
        "annotated": True, "metadata": {"system": {"mimetype": "image/jpeg", "width": 640},
                                        "user": {"tags": ["a", "b"]}}}


@pytest.mark.parametrize(("query", "expected"), [
    ({"$and": [{"hidden": False}, {"type": "file"}]}, True),
    ({"$and": [{"hidden": False}, {"type": "dir"}]}, False),
    ({"filename": "/street/*.jpg"}, True),
    ({"filename": "/other/*"}, False),
    ({"metadata.system.mimetype": "image/*"}, True),
    ({"metadata.system.width": {"$gt": 600, "$lte": 640}}, True),
    ({"metadata.system.width": {"$lt": 600}}, False),
    ({"id": {"$in": ["6a00", "6a01"]}}, True),
    ({"id": {"$nin": ["6a01"]}}, False),
    ({"metadata.user.tags": "b"}, True),
    ({"metadata.user.missing": {"$exists": False}}, True),
    ({"$or": [{"dir": "/x"}, {"dir": "/street"}]}, True),
    ({"annotated": 1}, False),  # booleans are not numbers
    ({"id": {"$gt": "6a00"}}, True),
])
def test_queries_follow_the_sdk_filters_semantics(query, expected):
    assert matches(ITEM, query) is expected


def test_an_unknown_operator_is_refused_rather_than_ignored():
    with pytest.raises(HttpError, match=r"\$where"):
        matches(ITEM, {"id": {"$where": "x"}})


# ==================================================================================================
# the server over plain HTTP
# ==================================================================================================
@pytest.fixture
def server():
    with FakeDataloop(seed=3) as running:
        yield running


def _call(server: FakeDataloop, method: str, path: str, body: dict | None = None, token: str | None = "default",
          headers: dict | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, data=data, method=method)
    if token:
        request.add_header("authorization", f"Bearer {server.token if token == 'default' else token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_requests_need_a_token_the_server_issued(server):
    assert _call(server, "GET", "/users/me", token=None)[0] == 401
    assert _call(server, "GET", "/users/me", token=make_token("someone@example.com"))[0] == 401
    status, body = _call(server, "GET", "/users/me")
    assert status == 200 and json.loads(body)["email"] == server.email
    assert _call(server, "GET", "/users/me", token=server.issue_token())[0] == 200


def test_an_uncovered_route_answers_404_naming_it(server):
    status, body = _call(server, "GET", "/pipelines/abc")
    assert status == 404 and "/pipelines/abc" in json.loads(body)["message"]


def test_items_query_pages_and_sorts(server):
    dataset = server.create_dataset("d")
    for name in ("c.png", "a.png", "b.png"):
        server.add_item(dataset["id"], f"/x/{name}", b"data")
    query = {"filter": {"$and": [{"hidden": False}, {"type": "file"}]}, "sort": {"filename": "descending"},
             "page": 0, "pageSize": 2, "resource": "items"}
    page = json.loads(_call(server, "POST", f"/datasets/{dataset['id']}/query", query)[1])
    assert page["totalItemsCount"] == 3 and page["totalPagesCount"] == 2 and page["hasNextPage"] is True
    assert [i["filename"] for i in page["items"]] == ["/x/c.png", "/x/b.png"]
    query["page"] = 1
    page = json.loads(_call(server, "POST", f"/datasets/{dataset['id']}/query", query)[1])
    assert [i["filename"] for i in page["items"]] == ["/x/a.png"] and page["hasNextPage"] is False


def test_stream_honours_range(server):
    dataset = server.create_dataset("d")
    item = server.add_item(dataset["id"], "/f.bin", b"0123456789")
    assert _call(server, "GET", f"/items/{item['id']}/stream") == (200, b"0123456789")
    assert _call(server, "GET", f"/items/{item['id']}/stream", headers={"Range": "bytes=4-"}) == (206, b"456789")


def test_label_nodes_with_dots_nest_and_upsert(server):
    dataset = server.create_dataset("d")
    ontology_id = server.ontology_json(dataset["id"])["id"]
    body = {"labelsNode": [{"tag": "speaker.alice", "color": "#112233"}, {"tag": "car"}], "upsert": True}
    assert _call(server, "PATCH", f"/ontologies/{ontology_id}/labels", body)[0] == 200
    assert server.label_names(dataset["id"]) == ["car", "speaker", "speaker.alice"]
    roots = server.ontology_json(dataset["id"])["roots"]
    alice = next(r for r in roots if r["value"]["tag"] == "speaker")["children"][0]["value"]
    assert alice["color"] == "#112233"


def test_faults_are_drawn_from_the_seed_and_recorded():
    def run(seed: int) -> list:
        with FakeDataloop(seed=seed, faults=[Fault(rate=0.5, kinds=("error", "drop", "delay"), delay=0.001)]) as srv:
            for _ in range(30):
                try:
                    _call(srv, "GET", "/users/me")
                except (urllib.error.URLError, ConnectionError, OSError):
                    pass  # a dropped connection
            return [(r.status, r.fault) for r in srv.log]

    first, again, other = run(11), run(11), run(12)
    assert first == again and first != other
    assert any(fault == "drop" and status is None for status, fault in first)
    assert any(fault == "error" and status == 500 for status, fault in first)


def test_fault_rules_narrow_by_method_path_body_and_limit(server):
    dataset = server.create_dataset("d")
    server.faults = [Fault(rate=1.0, kinds=("error",), status=503, method="POST", path=r"/query$", body="needle",
                           limit=1)]
    query = {"filter": {"id": "needle"}, "resource": "items"}
    assert _call(server, "POST", f"/datasets/{dataset['id']}/query", {"filter": {}, "resource": "items"})[0] == 200
    assert _call(server, "POST", f"/datasets/{dataset['id']}/query", query)[0] == 503
    assert _call(server, "POST", f"/datasets/{dataset['id']}/query", query)[0] == 200  # the limit was 1
    assert [r.fault for r in server.faulted()] == ["error"]


def test_error_after_does_the_work_before_failing(server):
    dataset = server.create_dataset("d")
    item = server.add_item(dataset["id"], "/a.png", b"x")
    server.faults = [Fault(rate=1.0, kinds=("error-after",), path="/annotations$")]
    status, _ = _call(server, "POST", f"/items/{item['id']}/annotations",
                      [{"type": "box", "label": "a", "coordinates": [{"x": 0, "y": 0}, {"x": 1, "y": 1}]}])
    assert status == 500
    assert len(server.item_annotations_json(item["id"])) == 1  # created, though the client heard 500


def test_timeout_after_does_the_work_after_the_client_gave_up(server):
    dataset = server.create_dataset("d")
    item = server.add_item(dataset["id"], "/a.png", b"x")
    server.faults = [Fault(rate=1.0, kinds=("timeout-after",), path="/annotations$", stall=0.6)]
    request = urllib.request.Request(f"{server.url}/items/{item['id']}/annotations", method="POST", data=json.dumps(
        [{"type": "box", "label": "a", "coordinates": [{"x": 0, "y": 0}, {"x": 1, "y": 1}]}]).encode(),
        headers={"authorization": f"Bearer {server.token}", "Content-Type": "application/json"})
    with pytest.raises((urllib.error.URLError, TimeoutError, OSError)):
        urllib.request.urlopen(request, timeout=0.2)
    assert server.item_annotations_json(item["id"]) == []  # the client gave up: nothing was done yet …
    assert server.wait_idle(timeout=5)
    assert len(server.item_annotations_json(item["id"])) == 1  # … and then the server did it
    assert [(r.fault, r.status) for r in server.faulted()] == [("timeout-after", None)]


def test_bad_fault_settings_are_refused():
    with pytest.raises(ValueError, match="unknown fault kinds"):
        Fault(kinds=("explode",))
    with pytest.raises(ValueError, match="rate"):
        Fault(rate=1.5)


# ==================================================================================================
# fingerprints (the idempotency rule)
# ==================================================================================================
BOX = {"type": "box", "label": "car", "coordinates": [{"x": 10, "y": 20, "z": 0}, {"x": 30, "y": 40, "z": 0}],
       "attributes": [], "metadata": {"system": {"objectId": 3, "attributes": {"color": "red"}}, "user": {}}}


def test_fingerprint_ignores_what_the_server_assigns():
    remote = json.loads(json.dumps(BOX))
    remote.update({"id": "6a99", "itemId": "6a01", "creator": "x@y", "createdAt": "2024", "source": "sdk"})
    remote["coordinates"][0]["x"] = 10.0  # JSON numbers: 10 == 10.0
    remote["metadata"]["system"].update({"objectId": "3", "clientId": "abc", "automated": False})
    assert annotation_fingerprint(remote) == annotation_fingerprint(BOX)


@pytest.mark.parametrize("change", [
    lambda a: a.update(label="truck"),
    lambda a: a["coordinates"][1].update(x=31),
    lambda a: a["metadata"]["system"]["attributes"].update(color="blue"),
    lambda a: a["metadata"]["system"].update(objectId=4),
    lambda a: a["metadata"]["user"].update(note="x"),
    lambda a: a.update(description="d"),
])
def test_fingerprint_sees_every_change_of_content(change):
    other = json.loads(json.dumps(BOX))
    change(other)
    assert annotation_fingerprint(other) != annotation_fingerprint(BOX)


def test_fingerprint_of_a_child_depends_on_its_parent():
    point = {"type": "point", "label": "head", "coordinates": {"x": 1, "y": 2}}
    assert annotation_fingerprint(point, "parent-a") != annotation_fingerprint(point, "parent-b")


def test_snapshot_encoding_matches_the_sdk_and_is_idempotent():
    box = [{"x": 0, "y": 0}, {"x": 1, "y": 1}]
    moved = [{"x": 1, "y": 1}, {"x": 2, "y": 2}]
    annotation = {"type": "box", "label": "car", "attributes": [], "coordinates": box, "metadata": {"system": {
        "snapshots_": [
            {"frame": 1, "fixed": False, "objectVisible": True, "label": "car", "attributes": [], "type": "box",
             "data": box},
            {"frame": 2, "fixed": True, "objectVisible": True, "label": "car", "attributes": [], "type": "box",
             "data": moved},
            {"frame": 3, "fixed": False, "objectVisible": True, "label": "car", "attributes": [], "type": "box",
             "data": moved},
        ]}}}
    kept = sdk_encoded_snapshots(annotation)
    assert [s["frame"] for s in kept] == [2, 3]  # frame 1 repeats the start and is not fixed

    import copy

    again = copy.deepcopy(annotation)
    again["metadata"]["system"]["snapshots_"] = kept
    assert sdk_encoded_snapshots(again) == kept
    assert annotation_fingerprint(again) == annotation_fingerprint(annotation)


# ==================================================================================================
# paged SDK listings
# ==================================================================================================
class _Pages:
    """Shaped like the SDK's PagedEntities: ``items`` is the first page, iterating walks every page."""

    def __init__(self, pages: list[list[int]], has_next_page: bool, items_count: int) -> None:
        self._pages = pages
        self.items = pages[0]
        self.has_next_page = has_next_page
        self.items_count = items_count
        self.walked = False

    def __iter__(self):
        self.walked = True
        return iter(self._pages)


def test_paged_listings_use_the_first_page_only_when_it_holds_everything():
    from dlconvert.platform._sdk import collect_pages

    single = _Pages([[1, 2]], has_next_page=False, items_count=2)
    assert collect_pages(single) == [1, 2] and not single.walked
    several = _Pages([[1, 2], [3]], has_next_page=True, items_count=3)
    assert collect_pages(several) == [1, 2, 3] and several.walked
    short = _Pages([[1, 2], [3]], has_next_page=False, items_count=3)  # a server that does not say
    assert collect_pages(short) == [1, 2, 3]


def test_the_platform_and_testing_modules_stay_small():
    import dlconvert.platform
    import dlconvert.testing

    for package in (dlconvert.platform, dlconvert.testing):
        folder = Path(package.__file__).parent
        sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in folder.glob("*.py")}
        assert sizes and max(sizes.values()) <= 600, sizes
