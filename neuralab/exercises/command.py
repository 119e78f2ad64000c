"""``neuralab exercise list|start|check|train``: write the lecture's ops yourself, get them
graded against neuralab's, then train a network with them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from neuralab.exercises import EXERCISES
from neuralab.exercises.base import Failure, LearnerError, learner_path, load_learner

#: The lectures the exercises belong to (CSC321, Winter 2017).
LECTURES = {
    "L3": "Lecture 3: Linear classifiers",
    "L4": "Lecture 4: Training a classifier",
    "L5": "Lecture 5: Multilayer perceptrons",
    "L6": "Lecture 6: Backpropagation",
    "L7": "Lecture 7: Optimization",
    "L9": "Lecture 9: Generalization",
    "L11": "Lecture 11: Convolutional networks",
    "L12": "Lecture 12: Image classification",
    "L14": "Lecture 14: Recurrent neural nets",
    "L15": "Lecture 15: Exploding and vanishing gradients",
}


def add_commands(subparsers: Any) -> None:
    """Add the ``exercise`` subcommand and its actions."""
    p = subparsers.add_parser(
        "exercise", help="write the lecture's ops yourself; neuralab grades them and trains "
        "with them",
        description="Exercises: `start NAME [DIR]` writes DIR/NAME.py with the functions to "
        "write, `check NAME [DIR]` grades them against neuralab's reference ops (forward, every "
        "gradient, a gradient check) and names the first wrong case with a hint, `train NAME "
        "[DIR]` trains a network with your code next to neuralab's own.")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    a = actions.add_parser("list", help="the exercises in the course's order",
                           description="List the exercises in the course's order.")
    a.set_defaults(handler=run_list)
    for action, text in (("start", "write the skeleton DIR/NAME.py to fill in"),
                         ("check", "grade DIR/NAME.py against neuralab's reference"),
                         ("train", "train a network with DIR/NAME.py once it passes")):
        a = actions.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".")
        a.add_argument("name", metavar="NAME", help="the exercise (see `neuralab exercise list`)")
        a.add_argument("dir", nargs="?", metavar="DIR", default=".",
                       help="the folder of your file (default: the current folder)")
        if action == "start":
            a.add_argument("--force", action="store_true",
                           help="replace DIR/NAME.py if it exists (your work in it is lost)")
        if action == "train":
            a.add_argument("--epochs", type=int, default=None,
                           help="training epochs (default: the exercise's short budget)")
            a.add_argument("--seed", type=int, default=0, help="the seed of both runs")
        a.set_defaults(handler={"start": run_start, "check": run_check,
                                "train": run_train}[action])


def _fail(action: str, message: str, code: int) -> int:
    print(f"neuralab exercise {action}: {message}", file=sys.stderr)
    return code


def _exercise(args: argparse.Namespace):
    exercise = EXERCISES.get(args.name)
    if exercise is None:
        _fail(args.action, f"unknown exercise {args.name!r}; choose one of "
              f"{', '.join(EXERCISES)} (see `neuralab exercise list`)", 2)
    return exercise


def run_list(args: argparse.Namespace) -> int:
    """Handler of ``neuralab exercise list``."""
    lecture = None
    for exercise in EXERCISES.values():
        if exercise.lecture != lecture:
            lecture = exercise.lecture
            print(LECTURES[lecture])
        print(f"    {exercise.name:<12} {exercise.goal}")
    print("\nstart one with: neuralab exercise start NAME [DIR]")
    return 0


def run_start(args: argparse.Namespace) -> int:
    """Handler of ``neuralab exercise start``."""
    exercise = _exercise(args)
    if exercise is None:
        return 2
    folder = Path(args.dir)
    if folder.exists() and not folder.is_dir():
        return _fail("start", f"{folder} exists and is not a folder", 1)
    path = learner_path(exercise.name, args.dir)
    if path.exists() and not args.force:
        return _fail("start", f"{path} already exists (your work?); check it with `neuralab "
                     f"exercise check {exercise.name} {args.dir}`, or start over with --force", 1)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(exercise.skeleton, encoding="utf-8")
    except OSError as err:
        return _fail("start", f"cannot write {path}: {err.strerror or err}", 1)
    print(f"wrote {path}: {LECTURES[exercise.lecture]}, {exercise.goal}")
    print(f"fill in the functions, then: neuralab exercise check {exercise.name}"
          f"{'' if args.dir == '.' else ' ' + args.dir}")
    return 0


def _grade(args: argparse.Namespace, action: str):
    """(exercise, module, path, report lines) or an exit status after printing the failure."""
    exercise = _exercise(args)
    if exercise is None:
        return 2
    path = learner_path(exercise.name, args.dir)
    try:
        module = load_learner(path, exercise.name)
        lines = exercise.check(module, path)
    except LearnerError as err:
        return _fail(action, str(err), 1)
    except Failure as failure:
        print(f"{exercise.name}: FAILED\n{failure.report}")
        return _fail(action, f"{path} does not pass yet; fix the case above and check again",
                     1)
    return exercise, module, path, lines


def run_check(args: argparse.Namespace) -> int:
    """Handler of ``neuralab exercise check``."""
    graded = _grade(args, "check")
    if isinstance(graded, int):
        return graded
    exercise, _, _, lines = graded
    print(f"{exercise.name}: PASSED")
    for line in lines:
        print(f"  {line}")
    print(f"now train with it: neuralab exercise train {exercise.name}"
          f"{'' if args.dir == '.' else ' ' + args.dir}")
    return 0


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``neuralab exercise train``."""
    if args.epochs is not None and args.epochs < 1:
        return _fail("train", f"--epochs must be a positive number of epochs, got {args.epochs}",
                     2)
    if args.seed < 0:
        return _fail("train", f"--seed must be a non-negative integer, got {args.seed}", 2)
    graded = _grade(args, "train")
    if isinstance(graded, int):
        return graded
    exercise, module, path, _ = graded
    print(f"{exercise.name}: your {path.name} passes the check")
    epochs = exercise.default_epochs if args.epochs is None else args.epochs
    try:
        exercise.train(module, path, epochs, args.seed, print)
    except Failure as failure:  # the learner's code raised while training
        return _fail("train", failure.report, 1)
    return 0
