"""The package's import structure: imports flow one way (STYLE.md), with no cycle, and no private
name crosses a package boundary.

Every module of neuralab/ is parsed with ``ast`` (imports inside functions included, since a
deferred import is still a dependency) and each import of a neuralab module becomes an edge of
the module graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

import neuralab

ROOT = Path(neuralab.__file__).resolve().parent

# The layers, lowest first (STYLE.md's order). A module may import its own layer's modules and
# lower layers' only. Adjusted to the package as it is:
# * kernels sit below ops: an op's Function dispatches to its fast kernel, never the reverse;
# * dtypes and devices (nl.float32, nl.device, nl.cuda, nl.accelerator, nl.backends) describe
#   arrays with PyTorch's names and sit with the backend;
# * factories (nl.tensor, nl.zeros) and interop (PyTorch state dicts) build Tensors from arrays
#   and sit with the ops; progress (a progress bar) and plotting are leaf utilities;
# * the package itself (neuralab/__init__.py, the ``nl`` namespace), the command line and
#   ``python -m neuralab`` are the top;
# * distributed (data-parallel training over MPI) wraps nn modules and data sets, under train;
# * lab (the experiment framework) sits under the experiments that declare themselves with it.
# * distributions (torch.distributions) build on the ops alone and sit above nn, so that models
#   (policies, VAEs) may use them.
LAYERS = [
    {"backend", "dtypes", "devices", "cuda", "accelerator", "backends", "fileio", "parallel",
     "progress", "plotting"},
    {"autograd"},
    {"kernels"},
    {"ops", "factories", "linalg", "windows"},
    {"nn"},
    {"distributions"},
    {"optim", "func", "runtime"},
    {"data", "serialization"},
    {"models", "interop", "utils", "vision", "distributed"},
    {"train"},
    {"diagnostics"},
    {"lab"},
    {"experiments", "exercises", "notebooks"},
    {"cli", "__main__", ""},
]
LEVEL = {name: i for i, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def top(module: str) -> str:
    """The first component under neuralab ("" for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def package(module: str) -> str:
    """The package a module belongs to (a package's __init__ belongs to the package)."""
    path = MODULES[module]
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def imports(module: str) -> list[tuple[str, str, int]]:
    """(imported neuralab module, imported name or "", line) for every import in ``module``."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "neuralab":
                    found.append((alias.name, "", node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package(module).split(".")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "neuralab":
                continue
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                if sub in MODULES:  # ``from neuralab.ops import conv``: the submodule
                    found.append((sub, "", node.lineno))
                else:
                    found.append((source, alias.name, node.lineno))
    return [(target, name, line) for target, name, line in found if target in MODULES]


GRAPH = {module: imports(module) for module in MODULES}


def test_the_layer_table_names_every_top_level_module():
    unknown = sorted({top(m) for m in MODULES} - set(LEVEL))
    assert not unknown, f"add these to LAYERS in {__file__}: {unknown}"


def test_no_upward_import():
    upward = [f"{m}:{line} imports {target} ({top(m) or 'neuralab'} is below "
              f"{top(target) or 'neuralab'})"
              for m, edges in GRAPH.items() for target, _, line in edges
              if LEVEL[top(target)] > LEVEL[top(m)]]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_private_name_crosses_a_package():
    crossing = []
    for m, edges in GRAPH.items():
        for target, name, line in edges:
            if package(target if name else target) == package(m) or \
                    target.rpartition(".")[0] == package(m):
                continue
            private_module = any(part.startswith("_") and not part.startswith("__")
                                 for part in target.split("."))
            if private_module or (name.startswith("_") and not name.startswith("__")):
                crossing.append(f"{m}:{line} imports {name or target} from {target}")
    assert not crossing, "private names imported across packages:\n" + "\n".join(crossing)


def test_no_import_cycle():
    edges = {m: sorted({t for t, _, _ in GRAPH[m] if t != m}) for m in MODULES}
    # A package's __init__ re-exporting its own modules is how a package is built; an edge from
    # a module back into its own package's __init__ (``from neuralab.nn import Module`` inside
    # neuralab.nn) is not, and counts.
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in edges[m]:
            if state.get(t) == 1:
                cycles.append(" -> ".join(stack[stack.index(t):] + [t]))
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(MODULES):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)
