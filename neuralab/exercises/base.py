"""The autograder: load a learner's file, run its functions on a table of cases, compare them
with neuralab's reference ops in float64, check its backward against finite differences of its
own forward, and name the first wrong case with a hint read from the pattern of the error.

An exercise is a pair (or a few pairs) of NumPy functions, ``NAME_forward(*inputs, *params) ->
(*outputs, cache)`` and ``NAME_backward(*douts, cache) -> gradients``, graded by a ``Pair``; the
two optimizer updates are graded by trajectories instead (``neuralab.exercises.optimizers``).
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from neuralab.autograd import Tensor
from neuralab.kernels import use_kernels

#: Agreement with the reference in float64: the learner's code is the same mathematics.
RTOL, ATOL = 1e-6, 1e-8
#: Finite differences of the learner's forward against its backward (central, float64).
FD_STEP, FD_RTOL, FD_ATOL = 1e-6, 1e-5, 1e-7


class LearnerError(Exception):
    """The learner's file cannot be used (missing, a syntax error, an exception, a forbidden
    import): one line for the learner, naming their file and line."""


class Failure(Exception):
    """A graded case that came out wrong: the report to print."""

    def __init__(self, report: str):
        super().__init__(report)
        self.report = report


@dataclass
class Case:
    """One graded call: named float64 arrays, the other arguments, a label for the report."""

    label: str
    inputs: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)
    douts: dict[str, Any] = field(default_factory=dict)  # set while grading: for hint rules

    def describe(self) -> str:
        arrays = ", ".join(f"{k} {tuple(np.shape(v))}" for k, v in self.inputs.items())
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f'"{self.label}": ' + ", ".join(p for p in (arrays, params) if p)


#: A hint rule: (gradient or output name, expected, got, case) -> a hint, or None.
Rule = Callable[[str, Any, Any, Case], "str | None"]


@dataclass
class Pair:
    """A forward/backward pair of the learner's functions and how to grade them.

    Attributes:
        forward, backward: the function names in the learner's file.
        inputs: the array arguments of forward, in order (the keys of ``Case.inputs``).
        params: the other arguments of forward, in order (keys of ``Case.params``).
        outputs: the names of forward's outputs before the cache (``("out",)``).
        grads: the names of backward's results, in order (``("dx", "dw", "db")``); ``dx`` is
            the gradient of input ``x``.
        reference: case -> {output name: array} and a function dout-dict -> {grad name: array}
            (neuralab's reference ops, float64).
        cases: the graded table.
        rules: hints special to this pair, tried before the general ones.
        gradcheck: whether finite differences of the forward apply (not for a random forward
            unless it is deterministic per call).
    """

    forward: str
    backward: str
    inputs: tuple[str, ...]
    params: tuple[str, ...]
    outputs: tuple[str, ...]
    grads: tuple[str, ...]
    reference: Callable[[Case], tuple[dict, Callable[[dict], dict]]]
    cases: Callable[[], list[Case]]
    rules: Sequence[Rule] = ()
    gradcheck: bool = True
    gradcheck_case: int | None = None  # the case of the gradient check (None: the smallest)


# ----------------------------------------------------------------------------- the learner's file
def load_learner(path: Path, name: str) -> ModuleType:
    """Import the learner's file on its own (nothing added to ``sys.path`` or ``sys.modules``).

    Raises:
        LearnerError: the file is missing, does not parse, imports neuralab or torch, or
            raises while it is imported; the message names the line.
    """
    if not path.is_file():
        raise LearnerError(f"no file {path}; write it first with `neuralab exercise start {name}"
                           f"{'' if path.parent == Path('.') else ' ' + str(path.parent)}`")
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise LearnerError(f"cannot read {path}: {err}") from None
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as err:
        line = (err.text or "").strip()
        raise LearnerError(f"{path.name} line {err.lineno}: {err.msg}"
                           + (f": {line}" if line else "")) from None
    for node in ast.walk(tree):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                 [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        for module in names:
            if module.split(".")[0] in ("neuralab", "torch"):
                raise LearnerError(f"{path.name} line {node.lineno} imports {module}: write the "
                                   "exercise with NumPy alone (neuralab grades it against its own "
                                   "ops)")
    module_name = f"neuralab_exercise_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    # Registered only while it runs (a dataclass in the file looks its module up), so that
    # nothing of the learner's stays behind in this process's modules.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # the learner's code: report it, never neuralab's traceback
        raise LearnerError(learner_exception(path, err, "importing it")) from None
    finally:
        sys.modules.pop(module_name, None)
    return module


def learner_exception(path: Path, err: BaseException, doing: str) -> str:
    """One line for an exception raised in the learner's code: the learner's own line."""
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if Path(f.filename).resolve() == path.resolve()]
    where = ""
    if frames:
        frame = frames[-1]
        where = f" at {path.name} line {frame.lineno}" + (f" (in {frame.name})"
                                                           if frame.name != "<module>" else "")
        if frame.line:
            where += f": `{frame.line.strip()}`"
    if isinstance(err, NotImplementedError):
        return f"not written yet{where} ({doing}); replace the `raise NotImplementedError` line"
    return f"{type(err).__name__}: {err}{where} ({doing})"


def learner_function(module: ModuleType, path: Path, name: str) -> Callable:
    """The function ``name`` of the learner's file (a LearnerError when it is missing)."""
    fn = module.__dict__.get(name)
    if not callable(fn):
        raise LearnerError(f"{path.name} has no function {name}(); keep the names of the "
                           "skeleton (`neuralab exercise start` writes them)")
    return fn


def call(path: Path, fn: Callable, args: Sequence, kwargs: dict | None = None,
         doing: str = "") -> Any:
    """Run a learner's function; its exception becomes a Failure naming its line."""
    try:
        with np.errstate(all="ignore"):
            return fn(*args, **(kwargs or {}))
    except Exception as err:
        raise Failure(f"{fn.__name__} {learner_exception(path, err, doing)}") from None


# ----------------------------------------------------------------------------- hints
def _ratio(expected: Any, got: Any) -> float | None:
    """The constant c with got ≈ c·expected, if there is one."""
    e, g = np.ravel(expected), np.ravel(got)
    denom = float(e @ e)
    if denom == 0.0:
        return None
    c = float(e @ g) / denom
    return c if np.allclose(g, c * e, rtol=1e-6, atol=1e-9) else None


def general_hint(name: str, expected: Any, got: Any, case: Case) -> str | None:
    """Mistakes any exercise can make, read from how ``got`` relates to ``expected``."""
    batch = next(iter(case.inputs.values())).shape[0] if case.inputs else None
    if np.shape(got) != np.shape(expected):
        eshape, gshape = np.shape(expected), np.shape(got)
        if gshape == eshape[::-1] and len(eshape) == 2:
            return (f"{name} has the transposed shape: a missing transpose (the gradient of a "
                    "parameter has the parameter's own shape)")
        if len(gshape) == len(eshape) + 1 and gshape[1:] == eshape:
            return (f"{name} still has the batch axis: sum over the examples (axis 0), since "
                    "every example uses the same parameter")
        if np.prod(gshape) == np.prod(eshape):
            return "the right number of values in the wrong shape: check the reshape/transpose"
        return None
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
        return ("got inf or nan where the answer is finite: an overflow (exp of a large number?) "
                "or a division by zero")
    if not np.any(got) and np.any(expected):
        return f"{name} is all zeros: is it still a placeholder (np.zeros_like)?"
    if np.allclose(got, -expected, rtol=1e-6, atol=1e-9):
        return "every value has the opposite sign: a sign error"
    if np.ndim(expected) == 2 and expected.shape[0] == expected.shape[1] and \
            np.allclose(got, expected.T, rtol=1e-6, atol=1e-9):
        return "got the transpose of the answer: a missing (or extra) transpose"
    c = _ratio(expected, got)
    if c is not None and batch:
        if batch > 1 and np.isclose(c, batch):
            return (f"got N = {batch} times the answer: a forgotten 1/N (the loss is the mean "
                    "over the batch)")
        if batch > 1 and np.isclose(c, 1 / batch):
            return f"got 1/N = 1/{batch} of the answer: divided by N once too often"
        return f"got {c:.6g} times the answer: a constant factor is off"
    return None


# ----------------------------------------------------------------------------- grading
def _as_tuple(value: Any, n: int) -> tuple:
    if n == 1 and not isinstance(value, tuple):
        return (value,)
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def compare(name: str, expected: Any, got: Any, case: Case, rules: Sequence[Rule],
            what: str) -> None:
    """Raise a Failure naming the first wrong element of ``got`` and the likely mistake."""
    head = f"wrong {what} in case {case.describe()}"
    if got is None:
        raise Failure(f"{head}\n  {name}: returned None; return every value the docstring "
                      "lists")
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise Failure(f"{head}\n  {name}: expected an array, got {type(got).__name__}") from None
    hint = next((h for h in (rule(name, expected, got, case) for rule in rules) if h), None)
    if got.shape != np.shape(expected):
        hint = hint or general_hint(name, expected, got, case)
        raise Failure(f"{head}\n  {name}: expected shape {np.shape(expected)}, got shape "
                      f"{got.shape}" + (f"\n  hint: {hint}" if hint else ""))
    with np.errstate(invalid="ignore"):
        wrong = ~np.isclose(got, expected, rtol=RTOL, atol=ATOL)
    if not wrong.any():
        return
    index = tuple(int(i) for i in np.argwhere(wrong)[0])
    hint = hint or general_hint(name, expected, got, case)
    at = f"{name}[{', '.join(map(str, index))}]" if index else name
    raise Failure(f"{head}\n  {at}: expected {float(np.asarray(expected)[index]):.10g}, got "
                  f"{float(got[index]):.10g}  ({int(wrong.sum())} of {wrong.size} elements "
                  "wrong)" + (f"\n  hint: {hint}" if hint else ""))


def _douts(outputs: dict, seed: int) -> dict:
    """Random upstream gradients, one per output (a number in [0.5, 2) for a scalar loss)."""
    generator = np.random.default_rng(seed)
    return {k: (np.float64(generator.uniform(0.5, 2.0)) if np.ndim(v) == 0 else
                generator.standard_normal(np.shape(v)))
            for k, v in outputs.items()}


def run_pair(pair: Pair, module: ModuleType, path: Path, case: Case, douts: dict) -> tuple:
    """(outputs dict, grads dict) of the learner's pair on one case (copies of the inputs)."""
    forward = learner_function(module, path, pair.forward)
    backward = learner_function(module, path, pair.backward)
    args = [np.array(case.inputs[k], copy=True) for k in pair.inputs]
    args += [case.params[k] for k in pair.params]
    result = call(path, forward, args, doing=f"case {case.describe()}")
    result = _as_tuple(result, 1)
    if len(result) != len(pair.outputs) + 1:
        raise Failure(f"{pair.forward} returned {len(result)} values; it must return "
                      f"{', '.join(pair.outputs)} and the cache ({len(pair.outputs) + 1} values)")
    outputs = dict(zip(pair.outputs, result[:-1]))
    grads = call(path, backward, [*(douts[k] for k in pair.outputs), result[-1]],
                 doing=f"case {case.describe()}")
    grads = _as_tuple(grads, len(pair.grads))
    if len(grads) != len(pair.grads):
        raise Failure(f"{pair.backward} returned {len(grads)} values; it must return "
                      f"{', '.join(pair.grads)}")
    return outputs, dict(zip(pair.grads, grads))


def grade_pair(pair: Pair, module: ModuleType, path: Path) -> list[str]:
    """Grade one pair on its table; returns the lines of a passing report (or raises Failure)."""
    cases = pair.cases()
    for number, case in enumerate(cases):
        with use_kernels("reference"):
            expected, reference_grads = pair.reference(case)
        douts = case.douts = _douts(expected, seed=number)
        outputs, grads = run_pair(pair, module, path, case, douts)
        for name in pair.outputs:
            compare(name, expected[name], outputs[name], case, pair.rules,
                    f"{pair.forward} output")
        with use_kernels("reference"):
            expected_grads = reference_grads(douts)
        for name in pair.grads:
            compare(name, expected_grads[name], grads[name], case, pair.rules,
                    f"{pair.backward} gradient")
    checked_cases = cases if pair.gradcheck_case is None else [cases[pair.gradcheck_case]]
    worst = gradient_check(pair, module, path, checked_cases) if pair.gradcheck else None
    checked = (f"; your backward against finite differences of your forward: largest relative "
               f"error {worst:.1e}" if worst is not None else "")
    return [f"{pair.forward}/{pair.backward}: {len(cases)} cases, "
            f"{', '.join(pair.outputs + pair.grads)} match neuralab's reference (float64)"
            f"{checked}"]


def gradient_check(pair: Pair, module: ModuleType, path: Path, cases: list[Case]) -> float:
    """Central differences of the learner's forward against its backward on the smallest case.

    L = Σ_k ⟨dout_k, output_k⟩ so that its gradient is what backward returns for ``douts``.
    """
    case = min(cases, key=lambda c: sum(np.size(v) for v in c.inputs.values()))
    forward = learner_function(module, path, pair.forward)
    with use_kernels("reference"):
        expected, _ = pair.reference(case)
    douts = _douts(expected, seed=99)
    _, grads = run_pair(pair, module, path, case, douts)

    def loss(inputs: dict) -> float:
        args = [inputs[k] for k in pair.inputs] + [case.params[k] for k in pair.params]
        result = _as_tuple(call(path, forward, args, doing="the gradient check"), 1)
        return sum(float(np.sum(np.asarray(o) * douts[k]))
                   for k, o in zip(pair.outputs, result[:-1]))

    worst = 0.0
    for gname in pair.grads:
        xname = gname[1:]
        if xname not in case.inputs:
            continue
        inputs = {k: np.array(v, copy=True) for k, v in case.inputs.items()}
        x = inputs[xname] = inputs[xname].astype(np.float64)
        numeric = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            old = x[index]
            x[index] = old + FD_STEP
            up = loss(inputs)
            x[index] = old - FD_STEP
            down = loss(inputs)
            x[index] = old
            numeric[index] = (up - down) / (2 * FD_STEP)
        analytic = np.asarray(grads[gname], dtype=np.float64)
        wrong = ~np.isclose(analytic, numeric, rtol=FD_RTOL, atol=FD_ATOL)
        if wrong.any():
            index = tuple(int(i) for i in np.argwhere(wrong)[0])
            raise Failure(f"gradient check failed in case {case.describe()}\n  {gname}"
                          f"[{', '.join(map(str, index))}]: your backward gives "
                          f"{analytic[index]:.10g}, finite differences of your forward give "
                          f"{numeric[index]:.10g}\n  hint: backward must be the derivative of "
                          "the forward you wrote")
        scale = np.maximum(np.abs(numeric), 1e-3)
        worst = max(worst, float(np.max(np.abs(analytic - numeric) / scale)))
    return worst


def tensors(case: Case, names: Sequence[str]) -> dict[str, Tensor]:
    """float64 Tensors of the case's inputs that require a gradient."""
    return {k: Tensor(np.array(case.inputs[k], dtype=np.float64), dtype=np.float64,
                      requires_grad=True) for k in names}


def backprop(outputs: dict[str, Tensor], inputs: dict[str, Tensor]) -> Callable[[dict], dict]:
    """The reference gradients for given douts: backward of Σ ⟨dout, output⟩ through neuralab."""

    def grads(douts: dict) -> dict:
        for t in inputs.values():
            t.grad = None
        total = None
        for k, out in outputs.items():
            term = (out * Tensor(np.asarray(douts[k], dtype=np.float64), dtype=np.float64)).sum()
            total = term if total is None else total + term
        total.backward()
        return {"d" + k: t.grad.array.copy() for k, t in inputs.items()}

    return grads


def arrays(outputs: dict[str, Tensor]) -> dict[str, Any]:
    return {k: v.array.copy() for k, v in outputs.items()}


def learner_path(name: str, folder: str | None) -> Path:
    return Path(folder or ".") / f"{name}.py"


@dataclass
class Exercise:
    """One exercise: what ``neuralab exercise`` lists, writes, grades and trains.

    Attributes:
        name: the command-line name and the learner's file name (``NAME.py``).
        lecture: the CSC321 lecture (``"L5"``), as ``neuralab curriculum`` shows them.
        goal: one line.
        skeleton: the learner's starting file.
        pairs: the graded forward/backward pairs (empty when ``grade`` is given).
        grade: a grader of its own (module, path) -> report lines, for the optimizer updates.
        train: (module, path, epochs, seed, log) -> None: the training run with the learner's
            code next to neuralab's own.
        default_epochs: the training budget of ``neuralab exercise train``.
    """

    name: str
    lecture: str
    goal: str
    skeleton: str
    train: Callable[..., None]
    pairs: tuple[Pair, ...] = ()
    grade: Callable[[ModuleType, Path], list[str]] | None = None
    default_epochs: int = 1

    def check(self, module: ModuleType, path: Path) -> list[str]:
        """Grade the learner's module: report lines, or a Failure for the first wrong case."""
        if self.grade is not None:
            return self.grade(module, path)
        lines = []
        for pair in self.pairs:
            lines += grade_pair(pair, module, path)
        return lines


__all__ = ["Case", "Pair", "Failure", "LearnerError", "load_learner", "grade_pair",
           "general_hint", "tensors", "backprop", "arrays", "call", "learner_function",
           "learner_path", "learner_exception", "Exercise"]
