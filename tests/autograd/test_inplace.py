"""In-place updates as PyTorch's: the same values, the same gradients, the same refusals."""

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab.ops._methods import ELEMENTWISE_TWINS, SHAPE_TWINS


def _both(values, requires_grad=False, dtype=np.float32):
    a = np.asarray(values, dtype=dtype)
    return (nl.tensor(a.copy(), dtype=dtype, requires_grad=requires_grad),
            torch.tensor(a.copy(), requires_grad=requires_grad))


def _same(ours, theirs, rtol=1e-6):
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol,
                               atol=1e-6)


# ------------------------------------------------------------------ values of the in-place methods
X = [[0.5, -1.5, 2.0], [3.0, -0.25, 1.0]]
Y = [[1.0, 2.0, -0.5], [0.5, 4.0, 2.0]]
CASES = {
    "add_": lambda x, y: x.add_(y),
    "add_ alpha": lambda x, y: x.add_(y, alpha=-0.1),
    "sub_": lambda x, y: x.sub_(y, alpha=2),
    "mul_": lambda x, y: x.mul_(y),
    "mul_ scalar": lambda x, y: x.mul_(3),
    "div_": lambda x, y: x.div_(y),
    "pow_": lambda x, y: x.abs_().pow_(2),
    "iadd": lambda x, y: x.__iadd__(y),
    "isub": lambda x, y: x.__isub__(2.5),
    "imul": lambda x, y: x.__imul__(y[0]),
    "itruediv": lambda x, y: x.__itruediv__(y),
    "zero_": lambda x, y: x.zero_(),
    "fill_": lambda x, y: x.fill_(7.5),
    "clamp_": lambda x, y: x.clamp_(-1, 1),
    "clamp_ min": lambda x, y: x.clamp_(min=0),
    "copy_": lambda x, y: x.copy_(y),
    "copy_ broadcast": lambda x, y: x.copy_(y[1]),
    "masked_fill_": lambda x, y: x.masked_fill_(y > 1, -3.0),
    "exp_": lambda x, y: x.exp_(),
    "neg_": lambda x, y: x.neg_(),
    "sqrt_": lambda x, y: x.abs_().sqrt_(),
    "abs_": lambda x, y: x.abs_(),
    "relu_": lambda x, y: x.relu_(),
    "sigmoid_": lambda x, y: x.sigmoid_(),
    "tanh_": lambda x, y: x.tanh_(),
    "addcmul_": lambda x, y: x.addcmul_(y, y, value=0.5),
    "addcdiv_": lambda x, y: x.addcdiv_(y, y + 10, value=2),
    "lerp_": lambda x, y: x.lerp_(y, 0.25),
    "setitem int": lambda x, y: x.__setitem__(0, 9.0),
    "setitem column": lambda x, y: x.__setitem__((slice(None), 1), y[:, 0]),
    "setitem mask": lambda x, y: x.__setitem__(y > 1, 0.0),
}


@pytest.mark.parametrize("name", list(CASES))
def test_inplace_methods_match_torch_and_keep_identity(name):
    x, tx = _both(X)
    y, ty = _both(Y)
    out = CASES[name](x, y)
    tout = CASES[name](tx, ty)
    assert out is x or out is None  # returns the tensor itself, as PyTorch
    _same(x, tx)
    assert tout is None or tout is tx
    assert x._version > 0


def test_augmented_assignment_keeps_the_object_and_its_memory():
    x = nl.zeros(3)
    array = x.array
    same = x
    x += 1
    x -= 0.5
    x *= 4
    x /= 2
    assert x is same and x.array is array
    np.testing.assert_array_equal(x.numpy(), [1.0, 1.0, 1.0])


def test_manual_sgd_line_updates_the_model():
    """The course's manual update loop, which used to rebind p silently."""
    nl.manual_seed(0)
    model = nl.nn.Linear(3, 1)
    before = model.weight.detach().clone()
    model(nl.ones(2, 3)).sum().backward()
    with nl.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    np.testing.assert_allclose(model.weight.numpy(),
                               before.numpy() - 0.1 * model.weight.grad.numpy(), rtol=1e-6)


def test_inplace_keeps_dtype_and_refuses_to_lose_the_category():
    x = nl.tensor([1, 2, 3])
    x += 2
    assert x.dtype == nl.int64 and x.tolist() == [3, 4, 5]
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        x += 1.5
    with pytest.raises(RuntimeError, match="can't be cast"):
        x /= 2
    with pytest.raises(RuntimeError, match="can't be cast"):
        torch.tensor([1, 2]).div_(2)
    f = nl.zeros(2)
    f += nl.tensor([1.0, 2.0], dtype=nl.float64)
    assert f.dtype == nl.float32


def test_inplace_shape_must_not_grow():
    x = nl.zeros(3)
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the "
                                           r"broadcast shape \[2, 3\]"):
        x.add_(nl.ones(2, 3))
    with pytest.raises(RuntimeError):
        torch.zeros(3).add_(torch.ones(2, 3))


# ------------------------------------------------------------------ leaves and no_grad
def test_leaf_that_requires_grad_needs_no_grad():
    w = nl.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in "
                                           "an in-place operation"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w -= 1
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w[0] = 5.0
    with nl.no_grad():
        w.mul_(2)
        w[0] = 5.0
        w.uniform_(-1, 1)
    assert w.requires_grad and w.is_leaf and w.grad_fn is None


def test_data_updates_bypass_autograd_as_in_pytorch():
    w, tw = _both([1.0, 2.0], requires_grad=True)
    for p in (w, tw):
        (p * p).sum().backward()
        p.data.add_(p.grad, alpha=-0.1)
    _same(w, tw)
    assert isinstance(w.data, nl.Tensor) and not w.data.requires_grad
    assert np.shares_memory(w.data.numpy(), w.numpy())
    assert w._version == tw._version == 0  # .data does not count as a version
    w.data = nl.tensor([5.0, 6.0, 7.0])
    assert w.tolist() == [5.0, 6.0, 7.0] and w.requires_grad


def test_zero_on_gradients():
    w = nl.ones(2, requires_grad=True)
    (w * 3).sum().backward()
    w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0]


# ------------------------------------------------------------------ version counter
def test_modified_saved_value_raises_instead_of_a_wrong_gradient():
    """The issue's example: h*h saved h; h.zero_() changed it; backward must refuse."""
    for lib in (nl, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        y = (h * h).sum()
        h.zero_()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


def test_error_names_the_tensor_and_the_versions():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = h.exp().sum()  # exp saves its output
    h.add_(1)  # h itself was not saved by exp (only exp's output was): fine
    z = x.sigmoid()
    w = (z * 3).sum()
    z.mul_(2)
    with pytest.raises(RuntimeError, match=r"\[neuralab.FloatTensor \[2\]\], which is output 0 "
                                           r"of SigmoidBackward0, is at version 1; expected "
                                           r"version 0 instead \(it is needed by MulBackward0\)"):
        w.backward()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([2.0, 4.0]), rtol=1e-6)


def test_ops_that_saved_nothing_allow_later_inplace_changes():
    for lib in (nl, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        y = (h + 1).sum()
        h.mul_(5)  # add saved nothing: PyTorch allows this, and so do we
        y.backward()
        assert x.grad.tolist() == [2.0, 2.0]


def test_versions_are_shared_by_views_and_detach():
    x = nl.zeros(2, 3)
    v = x[0]
    d = x.detach()
    t = x.t()
    v.fill_(1.0)
    assert x._version == v._version == d._version == t._version == 1
    assert x.tolist() == [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
    d[1, 2] = 5.0
    assert x[1, 2].item() == 5.0 and x._version == 2
    tx = torch.zeros(2, 3)
    tx[0].fill_(1.0)
    tx.detach()[1, 2] = 5.0
    assert tx._version == x._version


def test_optimizer_step_bumps_versions_like_pytorch():
    p = nl.nn.Parameter(nl.ones(2))
    tp = torch.nn.Parameter(torch.ones(2))
    for param, opt in ((p, nl.optim.SGD([p], lr=0.1)), (tp, torch.optim.SGD([tp], lr=0.1))):
        (param * param).sum().backward()
        opt.step()
    assert p._version == tp._version == 1


def test_backward_through_a_graph_whose_parameter_was_stepped_raises():
    for lib in (nl, torch):
        w = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        opt = lib.optim.SGD([w], lr=0.1)
        loss = (w * w).sum()
        loss.backward(retain_graph=True)
        opt.step()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()


# ------------------------------------------------------------------ in-place ops inside a graph
GRAPH_CASES = {
    "mul_": lambda h, w: h.mul_(2),
    "add_ tensor": lambda h, w: h.add_(w, alpha=3),
    "imul by grad tensor": lambda h, w: h.__imul__(w),
    "sub_": lambda h, w: h.sub_(w),
    "div_": lambda h, w: h.div_(w + 3),
    "pow_": lambda h, w: h.pow_(2),
    "exp_": lambda h, w: h.exp_(),
    "sigmoid_": lambda h, w: h.sigmoid_(),
    "tanh_": lambda h, w: h.tanh_(),
    "relu_": lambda h, w: h.relu_(),
    "clamp_": lambda h, w: h.clamp_(-0.5, 0.5),
    "masked_fill_": lambda h, w: h.masked_fill_(w > 0, 0.0),
    "zero_": lambda h, w: h.zero_(),
    "copy_": lambda h, w: h.copy_(w * 2),
    "addcmul_": lambda h, w: h.addcmul_(w, w, value=0.5),
    "lerp_": lambda h, w: h.lerp_(w, 0.3),
    "setitem row": lambda h, w: h.__setitem__(0, w[1]),
    "setitem mask": lambda h, w: h.__setitem__(w > 0, 2.0),
    "setitem int list": lambda h, w: h.__setitem__(([0, 1], [2, 0]), w[0, :2]),
    "view mul_": lambda h, w: h[1].mul_(3),
    "view iadd": lambda h, w: h[:, 1:].__iadd__(w[:, :2]),
    "transpose view add_": lambda h, w: h.t().add_(w.t()),
    "row iadd through index": lambda h, w: h.__setitem__(0, h[0] + w[0]),
}


@pytest.mark.parametrize("name", list(GRAPH_CASES))
def test_inplace_inside_a_graph_is_differentiable_like_pytorch(name):
    xv = np.array([[0.3, -0.7, 1.2], [0.9, 0.1, -1.1]])
    wv = np.array([[0.2, 0.5, -0.4], [-0.6, 1.3, 0.8]])
    grads = []
    for lib in (nl, torch):
        x = lib.tensor(xv, dtype=lib.float64, requires_grad=True)
        w = lib.tensor(wv, dtype=lib.float64, requires_grad=True)
        h = x * 1.5  # a non-leaf that requires grad
        GRAPH_CASES[name](h, w)
        loss = (h * lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64)).sum()
        loss.backward()
        grads.append((h.detach().numpy().copy(), x.grad.numpy().copy(),
                      None if w.grad is None else w.grad.numpy().copy()))
    (h, dx, dw), (th, tdx, tdw) = grads
    np.testing.assert_allclose(h, th, rtol=1e-12)
    np.testing.assert_allclose(dx, tdx, rtol=1e-12, atol=1e-15)
    if tdw is None:
        assert dw is None or not dw.any()
    else:
        np.testing.assert_allclose(dw, tdw, rtol=1e-12, atol=1e-15)


def test_inplace_on_a_plain_tensor_with_a_graph_operand_makes_it_a_non_leaf():
    for lib in (nl, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        acc = lib.zeros(2)
        acc += w * 3
        assert acc.requires_grad and not acc.is_leaf
        acc.sum().backward()
        assert w.grad.tolist() == [3.0, 3.0]


def test_setitem_into_a_plain_buffer_from_a_graph():
    for lib in (nl, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        out = lib.zeros(3, 2)
        out[1] = w * w
        out[2, 0] = w[1]
        (out * 2).sum().backward()
        assert w.grad.tolist() == [4.0, 10.0]


def test_grad_fn_after_inplace_is_the_inplace_op():
    x = nl.tensor([1.0], requires_grad=True)
    h = x * 2
    h.mul_(3)
    assert h.grad_fn.name() == "MulBackward0" and h._version == 1
    h.add_(1)
    assert h.grad_fn.name() == "AddBackward0" and h._version == 2


def test_inplace_on_an_expanded_view_in_a_graph_is_refused():
    x = nl.tensor([1.0, 2.0], requires_grad=True)
    e = (x * 1).expand(3, 2)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        e.add_(1)


def test_integer_index_is_a_view_as_in_pytorch():
    for lib in (nl, torch):
        x = lib.zeros(3)
        x[1].fill_(2.0)
        x[2].add_(5.0)
        assert x.tolist() == [0.0, 2.0, 5.0]
        w = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="view of a leaf Variable"):
            w[0].mul_(2)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            lib.ones(1).expand(3).add_(1)


# ------------------------------------------------------------------ every other in-place twin
def _twin_cases(lib, grad=False):
    """name -> (x, call): x a fresh float64 tensor (a non-leaf when ``grad``), call(x) the
    in-place method with its arguments. Values in (0.1, 0.9) fit every domain (acos, atanh,
    logit, erfinv...); integer ops get integer tensors, matrix ops matrices."""
    rng = np.random.default_rng(0)
    made = {}

    def make(values, dtype=None):
        t = lib.tensor(np.asarray(values), dtype=dtype or lib.float64, requires_grad=grad)
        made.setdefault("leaves", []).append(t)
        return t * 1.0 if grad else t

    def floats(*shape, low=0.1, high=0.9):
        return make(rng.uniform(low, high, shape))

    y = rng.uniform(0.1, 0.9, (2, 3))
    y_neg = y - 0.5
    cases = {name: (lambda n=name: (floats(2, 3), lambda x: getattr(x, n + "_")()))
             for name in ELEMENTWISE_TWINS}
    cases.update({name: (lambda n=name: (floats(2, 3), lambda x: getattr(x, n + "_")(
        make(y_neg if n in ("copysign", "heaviside") else y))))
        for name in ("arctan2", "atan2", "copysign", "float_power", "floor_divide", "fmod",
                     "heaviside", "hypot", "remainder", "true_divide", "xlogy", "eq", "ne", "ge",
                     "gt", "le", "lt", "logical_and", "logical_or", "logical_xor")})
    cases.update({
        "acosh": lambda: (floats(2, 3, low=1.2, high=3.0), lambda x: x.acosh_()),
        "arccosh": lambda: (floats(2, 3, low=1.2, high=3.0), lambda x: x.arccosh_()),
        "cumsum": lambda: (floats(2, 3), lambda x: x.cumsum_(1)),
        "cumprod": lambda: (floats(2, 3), lambda x: x.cumprod_(0)),
        "round": lambda: (floats(2, 3, low=-3, high=3), lambda x: x.round_(decimals=1)),
        "nan_to_num": lambda: (floats(2, 3), lambda x: x.nan_to_num_(posinf=1.0)),
        "addmm": lambda: (floats(2, 3), lambda x: x.addmm_(floats(2, 4), floats(4, 3),
                                                         beta=0.5, alpha=2.0)),
        "addmv": lambda: (floats(2), lambda x: x.addmv_(floats(2, 4), floats(4))),
        "addr": lambda: (floats(2, 3), lambda x: x.addr_(floats(2), floats(3), alpha=3.0)),
        "addbmm": lambda: (floats(2, 3), lambda x: x.addbmm_(floats(5, 2, 4), floats(5, 4, 3))),
        "baddbmm": lambda: (floats(5, 2, 3), lambda x: x.baddbmm_(floats(5, 2, 4),
                                                                 floats(5, 4, 3))),
    })
    ints = lambda values: make(values, lib.int64)  # noqa: E731
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor", "gcd", "lcm"):
        cases[name] = (lambda n=name: (ints([[12, 7, 9], [4, 6, 15]]), lambda x: getattr(
            x, n + "_")(ints([[8, 3, 6], [10, 9, 5]]))))
    cases["bitwise_not"] = lambda: (ints([[12, -7, 0]]), lambda x: x.bitwise_not_())
    cases.update({name: (lambda n=name: (floats(2, 3, 4), lambda x: getattr(x, n + "_")(0, 2)))
                  for name in ("transpose", "swapaxes", "swapdims")})
    cases.update({"t": lambda: (floats(2, 3), lambda x: x.t_()),
                  "squeeze": lambda: (floats(2, 1, 3), lambda x: x.squeeze_(1)),
                  "unsqueeze": lambda: (floats(2, 3), lambda x: x.unsqueeze_(-1))})
    return cases, made


# No gradient in PyTorch either (integer ops, comparisons, heaviside's undefined derivative).
NOT_DIFFERENTIABLE = {"heaviside", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
                      "gcd", "lcm", "eq", "ne", "ge", "gt", "le", "lt", "logical_and", "logical_or",
                      "logical_xor", "logical_not", "floor_divide"}


@pytest.mark.parametrize("name", ELEMENTWISE_TWINS + SHAPE_TWINS)
def test_every_inplace_twin_matches_torch(name):
    outs = []
    for lib in (nl, torch):
        cases, _ = _twin_cases(lib)
        x, call = cases[name]()
        memory = x.numpy() if lib is nl else None
        assert call(x) is x  # the method returns the tensor itself
        outs.append(x.numpy().copy())
        if lib is nl and name not in SHAPE_TWINS:
            assert np.shares_memory(x.numpy(), memory)  # written into x's own memory
    assert outs[0].shape == outs[1].shape and outs[0].dtype == outs[1].dtype
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12, atol=1e-12)


class _OutOfPlace:
    """A PyTorch tensor on which ``t.op_(...)`` runs ``t = t.op(...)`` instead."""

    def __init__(self, tensor):
        self.tensor = tensor

    def __getattr__(self, name):
        def out_of_place(*args, **kwargs):
            self.tensor = getattr(self.tensor, name[:-1])(*args, **kwargs)
            return self

        return out_of_place


@pytest.mark.parametrize("name", [n for n in ELEMENTWISE_TWINS + SHAPE_TWINS
                                  if n not in NOT_DIFFERENTIABLE])
def test_every_differentiable_inplace_twin_has_torch_gradients(name):
    grads = []
    for lib in (nl, torch):
        cases, made = _twin_cases(lib, grad=True)
        x, call = cases[name]()
        if lib is nl:
            call(x)
        else:  # PyTorch's out-of-place op (it lacks some in-place derivatives, e.g. acosh_'s)
            x = call(_OutOfPlace(x)).tensor
        weights = lib.tensor(np.linspace(-1.0, 2.0, x.numel()).reshape(tuple(x.shape)),
                             dtype=lib.float64)
        (x * weights).sum().backward()
        grads.append([np.zeros(tuple(leaf.shape)) if leaf.grad is None else  # unreached
                      leaf.grad.numpy(force=True).copy() if lib is torch else  # ZeroTensors
                      leaf.grad.numpy().copy() for leaf in made["leaves"]])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
