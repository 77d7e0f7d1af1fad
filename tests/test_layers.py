"""The import contract: imports point down, cli → engine → spokes → model → base.

Every module of dlconvert has a rank (below); a module imports modules of its rank or lower. The
declared ways up (``DECLARED_WAY_UP``): ``dlconvert.conveniences``, as the SDK-shaped model keeps
the SDK's conveniences (``show()``, ``download()``, ``from_vtt_file()``, ``to_dtlpy()``) as two-line
delegators that import it inside the method; and the format registry, where ``ConvertOptions`` finds
the format that declares an option. Both are imported on first use, so importing the model never
loads a spoke.
Imports under ``if TYPE_CHECKING:`` are type hints, not imports, and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "dlconvert"

#: rank → the top-level modules and packages of dlconvert at that rank.
RANKS = {
    0: {"errors", "_json", "_io", "_destination", "_text", "images", "labels", "geometry"},  # base
    1: {"annotation", "annotation_json", "frame_annotation", "collection", "table", "report", "dataset", "compare",
        "summary", "dql"},  # the model
    2: {"formats", "render", "platform", "interop", "validate", "parallel", "testing"},  # the spokes
    3: {"converter", "_sdk_compat", "detection", "api", "demo", "verify", "conveniences"},  # the engine
    4: {"cli", "_console", "__main__"},  # the command line
    5: {""},  # the package itself: its public names
}
#: Upward imports allowed inside functions: (importer's rank or the importer itself, imported module).
#: ``dlconvert.dataset`` looks a format option (``ConvertOptions(yolo_task=…)``) up in the registry that
#: declares it (``formats.format_option_sets``), when one is first used: a format owns its options.
DECLARED_WAY_UP = {(1, "conveniences"), ("dlconvert.dataset", "formats")}


def _rank(module: str) -> int:
    name = module.split(".")[1] if "." in module else ""
    found = [rank for rank, names in RANKS.items() if name in names]
    assert found, f"{module}: give it a rank in test_layers.RANKS"
    return found[0]


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path):
    """``(imported module, at module level?, line)`` of every dlconvert import, type-hint blocks left out."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []

    def visit(body: list, top: bool) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(node.body, False)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.startswith("dlconvert"):
                    targets = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
                    found.extend((t, top, node.lineno) for t in targets)
            elif isinstance(node, ast.Import):
                found.extend((a.name, top, node.lineno) for a in node.names if a.name.startswith("dlconvert"))
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    inner = getattr(node, field, None)
                    if isinstance(inner, list):
                        visit(inner, top)

    visit(ast.parse(path.read_text(encoding="utf-8")).body, True)
    return found


def test_imports_point_down():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module(path)
        rank = _rank(module)
        for target, top, line in _imports(path):
            target_rank = _rank(target)
            if target_rank <= rank:
                continue
            name = target.split(".")[1] if "." in target else ""
            if not top and ((rank, name) in DECLARED_WAY_UP or (module, name) in DECLARED_WAY_UP):
                continue
            upward.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {module} (rank {rank}) imports {target} "
                          f"(rank {target_rank}){'' if top else ' inside a function'}")
    assert upward == []


def test_the_model_loads_no_spoke():
    import subprocess
    import sys

    code = ("import sys, dlconvert, dlconvert.collection, dlconvert.annotation, dlconvert.table; "
            "print(sorted(m for m in sys.modules if m.startswith(('dlconvert.formats', 'dlconvert.render', "
            "'dlconvert.platform', 'dlconvert.converter', 'dlconvert.cli'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
