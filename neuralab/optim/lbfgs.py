"""L-BFGS: a quasi-Newton method that builds curvature from the last few steps (Nocedal, 1980)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from neuralab.backend import xp
from neuralab.optim.optimizer import Optimizer, check_nonnegative

# The entries of LBFGS's state that describe the whole problem (flat vectors and their history),
# kept, as PyTorch keeps them, in the state of the first parameter.
_FLAT_STATE = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss",
               "al")


class LBFGS(Optimizer):
    r"""Limited-memory BFGS: Newton-like steps from an inverse Hessian estimated on the fly.

    Lecture 7 explains why plain gradient descent crawls along a long narrow ravine: the best
    step is H⁻¹g, not g. Storing H (n × n) is out of the question for a network, but the last m
    changes of the weights s_k = θ_{k+1} − θ_k and of the gradient y_k = g_{k+1} − g_k describe
    the curvature along the directions actually travelled (y ≈ H s). L-BFGS applies the BFGS
    inverse-Hessian estimate built from those pairs to −g with two loops over the history,
    starting from H₀ = (sᵀy / yᵀy) I:

        q ← −g
        for k = newest … oldest:   a_k ← ρ_k s_kᵀq,   q ← q − a_k y_k      (ρ_k = 1 / y_kᵀs_k)
        r ← H₀ q
        for k = oldest … newest:   b ← ρ_k y_kᵀr,     r ← r + (a_k − b) s_k
        θ ← θ + t r                (the direction d = r; the first one is d = −g)

    A pair enters the history only when y_kᵀs_k > 1e-10 (the curvature is positive, so the
    estimate stays positive definite); the oldest pair is dropped past ``history_size``. The
    step length t is ``lr`` (on the very first iteration min(1, 1/‖g‖₁)·lr), or, with
    ``line_search_fn="strong_wolfe"``, the result of a line search (bracketing, then zooming by
    cubic interpolation) that satisfies the strong Wolfe conditions: enough decrease,
    f(θ + t d) ≤ f(θ) + 10⁻⁴ t gᵀd, and a flatter slope, |∇f(θ + t d)ᵀd| ≤ 0.9 |gᵀd|.

    One call of ``step(closure)`` runs up to ``max_iter`` iterations and ``max_eval`` loss
    evaluations, stopping early when the largest gradient component is at most
    ``tolerance_grad`` or when the loss or the step changes by less than ``tolerance_change``.
    This is ``torch.optim.LBFGS``'s algorithm, with its state: L-BFGS is a full-batch method,
    and the closure must clear the gradients, compute the loss, call ``backward()`` and return
    the loss.

    Args:
        params: the parameters (a single group: the method works on their concatenation).
        lr: the step length t, or the line search's first trial step (default 1).
        max_iter: iterations per ``step`` (default 20).
        max_eval: closure evaluations per ``step`` (default ``max_iter * 5 // 4``).
        tolerance_grad: stop when max |g_i| ≤ this (default 1e-7).
        tolerance_change: stop when the loss or every weight changes by less (default 1e-9).
        history_size: m, the number of (s, y) pairs kept (default 100).
        line_search_fn: ``None`` (fixed step) or ``"strong_wolfe"``.

    Example:
        >>> opt = LBFGS(model.parameters(), line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); return loss
        >>> opt.step(closure)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None):
        _check_count("max_iter", max_iter)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_nonnegative("LBFGS", "lr", group["lr"])
        for key in ("max_iter", "max_eval", "history_size"):
            _check_count(key, group[key])
        for key in ("tolerance_grad", "tolerance_change"):
            check_nonnegative("LBFGS", key, group[key])
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{group['line_search_fn']!r}")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups): "
                             "it optimizes all the parameters together, as one flat vector")
        super().add_param_group(param_group)

    # ------------------------------------------------------------------ flat views
    def _flat_grad(self) -> Any:
        """The gradients of all parameters as one new vector (zeros where there is none)."""
        parts = []
        for p in self.param_groups[0]["params"]:
            if p.grad is None:
                parts.append(xp.zeros(p.array.size, dtype=p.array.dtype))
            else:
                parts.append(self._grad(p).reshape(-1))
        return xp.concatenate(parts)

    def _move(self, t: float, d: Any) -> None:
        """θ ← θ + t d, in place, with d cut into the parameters' shapes."""
        offset = 0
        for p in self.param_groups[0]["params"]:
            n = p.array.size
            p.array += t * d[offset:offset + n].reshape(p.array.shape)
            p._bump_version()
            offset += n

    def _set(self, arrays: list[Any]) -> None:
        for p, a in zip(self.param_groups[0]["params"], arrays):
            p.array[...] = a
            p._bump_version()

    # ------------------------------------------------------------------ the update
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Run up to ``max_iter`` L-BFGS iterations.

        Args:
            closure: a function that clears the gradients, recomputes the loss, calls
                ``backward()`` and returns the loss (required: L-BFGS evaluates the loss
                several times per step).

        Returns:
            The loss the closure returned on its first call (before the update).
        """
        if closure is None:
            raise TypeError("LBFGS.step needs a closure: a function that clears the gradients, "
                            "recomputes the loss, calls backward() and returns the loss, as in "
                            "opt.step(closure)")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        params = group["params"]
        state = self.state.setdefault(params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if xp.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss  # already at a stationary point

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag = state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")
        opt_cond = False
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # ---- the direction d
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                h_diag = 1.0
            else:
                y = flat_grad - prev_flat_grad  # change of the gradient over the last step
                s = d * t                       # the last step
                ys = float(y @ s)
                if ys > 1e-10:                  # positive curvature: remember the pair
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / float(y @ y)  # H₀ = (sᵀy / yᵀy) I
                al = state.setdefault("al", [None] * history_size)
                if len(al) < len(old_dirs):
                    al.extend([None] * (len(old_dirs) - len(al)))
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = float(old_stps[i] @ q) * ro[i]
                    q -= al[i] * old_dirs[i]
                d = q * h_diag
                for i in range(len(old_dirs)):
                    be_i = float(old_dirs[i] @ d) * ro[i]
                    d += (al[i] - be_i) * old_stps[i]
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            # ---- the step length t
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(xp.abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = float(flat_grad @ d)  # directional derivative
            if gtd > -tolerance_change:
                break  # d is not a descent direction any more
            used = 0
            if group["line_search_fn"] == "strong_wolfe":
                x_init = [p.array.copy() for p in params]

                def evaluate(t_try: float, d=d, x_init=x_init) -> tuple[float, Any]:
                    self._move(t_try, d)
                    value = float(self._evaluate(closure))
                    grad = self._flat_grad()
                    self._set(x_init)
                    return value, grad

                loss, flat_grad, t, used = _strong_wolfe(evaluate, t, d, loss, flat_grad, gtd,
                                                         max_ls=max_eval - evals)
                self._move(t, d)
                opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
            else:
                self._move(t, d)
                if n_iter != max_iter:
                    # Re-evaluate (not after the last iteration: the next step will).
                    loss = float(self._evaluate(closure))
                    flat_grad = self._flat_grad()
                    opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
                    used = 1
            evals += used
            state["func_evals"] += used
            # ---- stopping
            if n_iter == max_iter or evals >= max_eval or opt_cond:
                break
            if xp.abs(d * t).max() <= tolerance_change:
                break  # the weights barely move
            if abs(loss - prev_loss) < tolerance_change:
                break  # the loss barely changes

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    def _update(self, p, grad, state, group):  # step() is overridden: never called
        raise NotImplementedError

    # ------------------------------------------------------------------ saving
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore state saved by ``state_dict()`` (this one's or ``torch.optim.LBFGS``'s).

        The flat vectors (``d``, ``prev_flat_grad``, the history ``old_dirs``/``old_stps``)
        have the length of all parameters together, not a parameter's shape.
        """
        if not isinstance(state_dict, dict) or not isinstance(state_dict.get("state"), dict):
            super().load_state_dict(state_dict)  # reports the malformed dict
            return
        flat: dict[str, Any] = {}
        per_param = {}
        for k, entries in state_dict["state"].items():
            per_param[k] = {key: v for key, v in entries.items() if key not in _FLAT_STATE}
            flat.update({key: v for key, v in entries.items() if key in _FLAT_STATE})
        super().load_state_dict({"state": per_param,
                                 "param_groups": state_dict["param_groups"]})
        params = self.param_groups[0]["params"]
        numel = sum(p.array.size for p in params)
        dtype = xp.result_type(*(p.array.dtype for p in params))

        def vector(key: str, value: Any) -> Any:
            if value is None:
                return None
            if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
                value = value.detach().cpu().numpy()
            array = xp.array(value, dtype=dtype, copy=True).reshape(-1)
            if array.size != numel:
                raise ValueError(f"LBFGS.load_state_dict: state '{key}' has {array.size} "
                                 f"elements but the parameters have {numel} in all; was the "
                                 "state saved from a different model?")
            return array

        def number(value: Any) -> Any:
            return None if value is None else float(value)

        restored = {}
        for key, value in flat.items():
            if key in ("d", "prev_flat_grad"):
                restored[key] = vector(key, value)
            elif key in ("old_dirs", "old_stps"):
                restored[key] = [vector(key, v) for v in value]
            elif key in ("ro", "al"):
                restored[key] = [number(v) for v in value]
            else:
                restored[key] = number(value)
        if restored:
            self.state.setdefault(params[0], {}).update(restored)


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, xp.integer)) or value < 1:
        raise ValueError(f"LBFGS: {name} must be a positive integer, got {value!r}")


def _cubic_minimum(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                   bounds: tuple[float, float] | None = None) -> float:
    """The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2.

    Nocedal & Wright, eq. (3.59), clipped to ``bounds`` (default: the interval between the two
    points); the middle of the bounds when the cubic has no minimum.
    """
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    if x1 == x2:
        return (lo + hi) / 2.0
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square < 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(d2_square)
    if x1 <= x2:
        denominator = g2 - g1 + 2 * d2
        x_min = x2 - (x2 - x1) * ((g2 + d2 - d1) / denominator) if denominator else lo
    else:
        denominator = g1 - g2 + 2 * d2
        x_min = x1 - (x1 - x2) * ((g1 + d2 - d1) / denominator) if denominator else lo
    return min(max(x_min, lo), hi)


def _strong_wolfe(evaluate: Callable[[float], tuple[float, Any]], t: float, d: Any, f: float,
                  g: Any, gtd: float, c1: float = 1e-4, c2: float = 0.9,
                  tolerance_change: float = 1e-9, max_ls: int = 25
                  ) -> tuple[float, Any, float, int]:
    """A step t along d satisfying the strong Wolfe conditions (Nocedal & Wright, alg. 3.5-3.6).

    ``evaluate(t)`` returns the loss and flat gradient at θ + t d (leaving θ unchanged); f, g
    and gtd = gᵀd are their values at t = 0. First a bracket [t_lo, t_hi] that must contain an
    acceptable step is found by growing t (cubic extrapolation, between 1.01 t and 10 t); then
    the bracket is shrunk (cubic interpolation, kept 10% away from its ends when progress stalls)
    until the conditions hold, at most ``max_ls`` evaluations in all (PyTorch's rule: the
    tolerance on the bracket's width is 1e-9 whatever the optimizer's ``tolerance_change``).

    Returns:
        (loss, gradient, t, evaluations) at the accepted step.
    """
    d_norm = float(xp.abs(d).max())
    g = g.copy()
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket, bracket_f, bracket_g, bracket_gtd = [0.0, t], [f, f_new], [g, g_new], [gtd, gtd_new]
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            # Not enough decrease: an acceptable step lies between the last two.
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g, bracket_gtd = [t], [f_new], [g_new], [gtd_new]
            done = True
            break
        if gtd_new >= 0:
            # The slope turned upwards: a minimum lies between the last two steps.
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # Still going down steeply: extrapolate further.
        t_next = _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
    if ls_iter == max_ls:  # out of evaluations: choose between the start and the last step
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]

    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break  # the bracket is too small to move the weights
        t = _cubic_minimum(bracket[0], bracket_f[0], bracket_gtd[0],
                           bracket[1], bracket_f[1], bracket_gtd[1])
        lo, hi = min(bracket), max(bracket)
        margin = 0.1 * (hi - lo)
        if min(hi - t, t - lo) < margin:
            # Close to an end: accept once; the second time (or at the end itself) move
            # 10% of the bracket inwards.
            if insufficient_progress or t >= hi or t <= lo:
                t = hi - margin if abs(t - hi) < abs(t - lo) else lo + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            # Not enough decrease, or no better than the low end: t is the new high end.
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True  # the strong Wolfe conditions hold
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                # The minimum lies on the other side of t: the old low end becomes the high.
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new, gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals
