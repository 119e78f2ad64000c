"""Einstein summation: one notation for every product of tensors (Lecture 5's z = Wx and more).

``einsum("ij,jk->ik", a, b)`` is the matrix product: each label names a dimension; labels shared
by operands are multiplied along, labels missing from the output are summed over. A batched
product is ``"bij,bjk->bik"``, a trace ``"ii->"``, an outer product ``"i,j->ij"``.

The backward pass needs no new mathematics: the gradient of an operand is another einsum, of
the output gradient with the other operands, whose output labels are that operand's labels
(ā_ij = Σ_k z̄_ik b_jk for the matrix product, i.e. z̄ bᵀ). Three details complete it: a label
repeated on one operand (a diagonal) sends the gradient back onto that diagonal; a label only
that operand has (summed away inside it) copies the gradient along it; a size-1 dimension that
was broadcast sums the gradient back to size 1.
"""

from __future__ import annotations

from typing import Any

from neuralab.autograd.function import Function
from neuralab.autograd.tensor import Tensor
from neuralab.backend import xp

__all__ = ["einsum"]

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _parse(equation: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Explicit subscripts (ellipses replaced by unused letters) and the output subscript."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum(): {len(terms)} operands in the equation {equation!r} but "
                           f"{len(shapes)} tensors were given")
    for ch in lhs.replace(",", "").replace("...", "") + rhs.replace("...", ""):
        if ch not in _LETTERS:
            raise RuntimeError(f"einsum(): invalid subscript given at index of the equation "
                               f"{equation!r}: {ch!r}; subscripts must be letters in [a-zA-Z]")
    unused = [c for c in _LETTERS if c not in eq]
    n_ellipsis = 0
    for term, shape in zip(terms, shapes):
        named = len(term.replace("...", ""))
        if "..." in term:
            if term.count("...") > 1:
                raise RuntimeError(f"einsum(): found more than one ellipsis in {term!r}")
            if named > len(shape):
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({named}) is more than the number of dimensions "
                                   f"({len(shape)}) for operand {terms.index(term)}")
            n_ellipsis = max(n_ellipsis, len(shape) - named)
        elif named != len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) "
                               f"does not match the number of dimensions ({len(shape)}) for "
                               f"operand {terms.index(term)} and no ellipsis was given")
    ell = "".join(unused[:n_ellipsis])
    subs = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            k = len(shape) - len(term.replace("...", ""))
            term = term.replace("...", ell[n_ellipsis - k:])
        subs.append(term)
    if arrow:
        rhs = rhs.replace("...", ell)
        for c in rhs:
            if rhs.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in "
                                   "the output")
            if not any(c in s for s in subs):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   "equation for any input operand")
        out = rhs
    else:
        counts = {c: sum(s.count(c) for s in subs) for c in set("".join(subs))}
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return subs, out


def _sizes(subs: list[str], shapes: list[tuple[int, ...]]) -> dict[str, int]:
    """The size of each label: equal across operands, or 1 (which broadcasts)."""
    sizes: dict[str, int] = {}
    for k, (sub, shape) in enumerate(zip(subs, shapes)):
        for c, n in zip(sub, shape):
            seen = sizes.get(c)
            if seen is None or seen == 1:
                sizes[c] = n
            elif n != seen and n != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which "
                                   f"does not broadcast with previously seen size {seen}")
    return sizes


def _diagonal_coords(sub: str, sizes: dict[str, int]) -> tuple:
    """Index arrays that address, for the labels of ``sub`` in first-appearance order, the
    elements of an operand whose repeated labels are equal (its generalised diagonal)."""
    unique = list(dict.fromkeys(sub))
    coords = []
    for c in sub:
        j = unique.index(c)
        shape = [1] * len(unique)
        shape[j] = sizes[c]
        coords.append(xp.arange(sizes[c]).reshape(shape))
    return tuple(coords)


class Einsum(Function):
    """z = einsum(equation, x₁, ..., xₙ) (labels multiplied along, missing ones summed).

    x̄ₖ = einsum(z̄ and the other operands -> xₖ's labels), then put on xₖ's diagonal where a
    label repeats in xₖ, copied along labels only xₖ has, and summed over broadcast dims.
    """

    @staticmethod
    def check(*operands, subs=(), out="", sizes=None):
        kinds = {t.dtype.kind == "f" for t in operands}
        if len(kinds) > 1:
            raise TypeError(f"einsum(): operands have dtypes {[str(t.dtype) for t in operands]}; "
                            "they must all be floating point (or all integer): convert with "
                            ".float()")
        for k, (sub, t) in enumerate(zip(subs, operands)):
            for c in set(sub):
                dims = {t.shape[i] for i, ch in enumerate(sub) if ch == c}
                if len(dims) > 1:
                    raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} but "
                                       f"the sizes don't match, {sorted(dims)}")

    @staticmethod
    def forward(ctx, *xs, subs=(), out="", sizes=None):
        full = [xp.broadcast_to(x, tuple(sizes[c] for c in sub)) for x, sub in zip(xs, subs)]
        ctx.full, ctx.subs, ctx.out, ctx.sizes = full, subs, out, sizes
        ctx.shapes, ctx.dtypes = [x.shape for x in xs], [x.dtype for x in xs]
        equation = ",".join(subs) + "->" + out
        return xp.asarray(xp.einsum(equation, *full, optimize=len(xs) > 2))

    @staticmethod
    def backward(ctx, dout):
        grads = []
        for k, sub in enumerate(ctx.subs):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [(s, f) for j, (s, f) in enumerate(zip(ctx.subs, ctx.full)) if j != k]
            reachable = set(ctx.out).union(*(set(s) for s, _ in others))
            unique = "".join(dict.fromkeys(sub))
            target = "".join(c for c in unique if c in reachable)
            equation = ",".join([ctx.out] + [s for s, _ in others]) + "->" + target
            g = xp.einsum(equation, dout, *(f for _, f in others),
                          optimize=len(others) > 1)
            # Labels only this operand has were summed inside it: each element receives z̄.
            g = g.reshape([ctx.sizes[c] if c in target else 1 for c in unique])
            g = xp.broadcast_to(g, [ctx.sizes[c] for c in unique])
            if len(unique) != len(sub):  # a repeated label: back onto the diagonal
                dx = xp.zeros([ctx.sizes[c] for c in sub], dtype=dout.dtype)
                dx[_diagonal_coords(sub, ctx.sizes)] = g
            else:
                dx = g
            shape = ctx.shapes[k]
            axes = tuple(i for i, n in enumerate(shape) if n == 1 and dx.shape[i] != 1)
            if axes:  # a broadcast size-1 dimension sums its copies
                dx = dx.sum(axis=axes, keepdims=True)
            grads.append(xp.array(dx, dtype=ctx.dtypes[k]).reshape(shape))
        return tuple(grads)


def _from_sublists(args: tuple) -> tuple[str, list]:
    """``einsum(a, [0, 1], b, [1, 2], [0, 2])`` (the sublist format) as an equation string."""
    def letters(sublist: Any) -> str:
        out = ""
        for item in sublist:
            if item is Ellipsis:
                out += "..."
            elif isinstance(item, int) and 0 <= item < len(_LETTERS):
                out += _LETTERS[item]  # 0-25: A-Z, 26-51: a-z, as PyTorch
            else:
                raise RuntimeError(f"einsum(): subscript in subscript list is not within the "
                                   f"valid range [0, 52), got {item!r}")
        return out

    output = letters(args[-1]) if len(args) % 2 else None
    pairs = args[:-1] if len(args) % 2 else args
    operands, terms = list(pairs[0::2]), [letters(s) for s in pairs[1::2]]
    equation = ",".join(terms) + ("" if output is None else "->" + output)
    return equation, operands


def einsum(equation: Any, *operands: Any) -> Tensor:
    """Einstein summation over the operands, as ``torch.einsum``.

    Args:
        equation: e.g. ``"ij,jk->ik"``; labels are letters, ``...`` stands for broadcast
            dimensions, a label repeated on one operand takes its diagonal, and without ``->``
            the output is the ellipsis dimensions then the labels used once, in alphabetical
            order. The sublist format ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` is accepted.
        operands: the tensors (or one list of them).

    Size-1 dimensions broadcast against the other operands' sizes of the same label.
    """
    if not isinstance(equation, str):
        equation, ops = _from_sublists((equation,) + operands)
        operands = tuple(ops)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in operands]
    shapes = [t.shape for t in tensors]
    subs, out = _parse(equation, shapes)
    sizes = _sizes(subs, shapes)
    return Einsum.apply(*tensors, subs=tuple(subs), out=out, sizes=sizes)
