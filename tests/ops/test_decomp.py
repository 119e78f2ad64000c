"""The decompositions beyond the spec table: PyTorch's raw gradients where the spec masks or
symmetrises the input, the ``*_ex`` info codes, tolerances, result types and error messages."""

import numpy as np
import pytest
import torch

import neuralab as nl

RNG = np.random.default_rng(7)
SQ = RNG.uniform(-1, 1, (2, 3, 3))
SYM = SQ + np.swapaxes(SQ, -1, -2)
SPD = SQ @ np.swapaxes(SQ, -1, -2) + 3 * np.eye(3)


def _t(a):
    return nl.tensor(a, dtype=nl.float64)


LOW = np.tril(RNG.uniform(-0.5, 0.5, (2, 3, 3))) + 2 * np.eye(3)


def _grads(ours_fn, torch_fn, *arrays):
    """Values and input gradients of both under the same random projection of the output."""
    ours = [nl.tensor(a, dtype=nl.float64, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    o, t = ours_fn(*ours), torch_fn(*theirs)
    v = np.random.default_rng(1).standard_normal(tuple(t.shape))
    (o * nl.tensor(v, dtype=nl.float64)).sum().backward()
    (t * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-10)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse_give_pytorchs_dense_factor_gradient(upper):
    f = np.swapaxes(LOW, -1, -2).copy() if upper else LOW
    b = RNG.uniform(-1, 1, (2, 3, 2))
    _grads(lambda b, f: nl.cholesky_solve(b, f, upper),
           lambda b, f: torch.cholesky_solve(b, f, upper), b, f)
    _grads(lambda f: nl.cholesky_inverse(f, upper), lambda f: torch.cholesky_inverse(f, upper), f)


def test_symmetric_input_ops_give_pytorchs_symmetric_gradient():
    """Without the spec's symmetrisation: the gradient of the matrix as given."""
    _grads(lambda a: nl.linalg.eigvalsh(a), torch.linalg.eigvalsh, SYM)
    _grads(lambda a: nl.linalg.eigh(a, UPLO="U").eigenvectors ** 2,
           lambda a: torch.linalg.eigh(a, UPLO="U").eigenvectors ** 2, SYM)
    _grads(nl.linalg.cholesky, torch.linalg.cholesky, SPD)
    _grads(lambda a: nl.linalg.cholesky(a, upper=True),
           lambda a: torch.linalg.cholesky(a, upper=True), SPD)
    _grads(lambda a: nl.linalg.pinv(a, hermitian=True),
           lambda a: torch.linalg.pinv(a, hermitian=True), SYM)


def test_one_triangle_is_read():
    a = SYM.copy()
    a[..., 0, 2] = 100.0  # above the diagonal: ignored by UPLO='L', read by 'U'
    np.testing.assert_allclose(nl.linalg.eigvalsh(_t(a)).numpy(),
                               np.linalg.eigvalsh(SYM))
    np.testing.assert_allclose(nl.linalg.eigvalsh(_t(a), "U").numpy(),
                               torch.linalg.eigvalsh(torch.tensor(a), "U").numpy())
    x = RNG.uniform(-1, 1, (3, 2))
    got = nl.linalg.solve_triangular(nl.tensor(LOW[0] + np.triu(np.ones((3, 3)), 1)),
                                     nl.tensor(x), upper=False)
    np.testing.assert_allclose(got.numpy(), np.linalg.solve(LOW[0], x), rtol=1e-6)


def test_ex_variants_report_pytorchs_info():
    bad = np.stack([SPD[0], SPD[1] - 10 * np.eye(3), np.diag([1.0, 1.0, -1.0])])
    ours, theirs = nl.linalg.cholesky_ex(_t(bad)), torch.linalg.cholesky_ex(torch.tensor(bad))
    assert ours.info.dtype == nl.int32
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    np.testing.assert_allclose(ours.L.numpy()[0], theirs.L.numpy()[0], rtol=1e-6)
    singular = np.stack([np.eye(3), np.zeros((3, 3)), [[1.0, 2, 3], [2, 4, 6], [0, 0, 1]]])
    rhs = np.ones((3, 3, 2))
    for ours, theirs in ((nl.linalg.inv_ex(_t(singular)),
                          torch.linalg.inv_ex(torch.tensor(singular))),
                         (nl.linalg.solve_ex(_t(singular), _t(rhs)),
                          torch.linalg.solve_ex(torch.tensor(singular), torch.tensor(rhs)))):
        np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
        np.testing.assert_allclose(ours[0].numpy()[0], theirs[0].numpy()[0])
        assert np.isnan(ours[0].numpy()[1:]).all()
    with pytest.raises(RuntimeError, match="not positive-definite"):
        nl.linalg.cholesky_ex(_t(bad), check_errors=True)


def test_rank_deficient_lstsq_pinv_and_rank():
    a = RNG.uniform(-1, 1, (2, 5, 2)) @ RNG.uniform(-1, 1, (2, 2, 4))  # rank 2
    b = RNG.uniform(-1, 1, (2, 5, 3))
    ours = nl.linalg.lstsq(_t(a), _t(b))
    theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b))
    assert ours._fields == ("solution", "residuals", "rank", "singular_values")
    np.testing.assert_allclose(ours.solution.numpy(), theirs.solution.numpy(), atol=1e-10)
    np.testing.assert_array_equal(ours.rank.numpy(), theirs.rank.numpy())
    assert ours.residuals.shape == tuple(theirs.residuals.shape) == (0,)
    ta = torch.tensor(a)
    for kwargs in ({}, {"rtol": 0.3}, {"atol": 1.0}, {"atol": 0.5, "rtol": 0.1}):
        np.testing.assert_allclose(nl.linalg.pinv(_t(a), **kwargs)
                                   .numpy(), torch.linalg.pinv(ta, **kwargs).numpy(), atol=1e-10)
        np.testing.assert_array_equal(
            nl.linalg.matrix_rank(_t(a), **kwargs).numpy(),
            torch.linalg.matrix_rank(ta, **kwargs).numpy())
    assert nl.linalg.matrix_rank(_t(a[0]), 1.0).item() == \
        torch.linalg.matrix_rank(ta[0], 1.0).item()
    np.testing.assert_array_equal(
        nl.linalg.matrix_rank(_t(SYM), hermitian=True).numpy(),
        torch.linalg.matrix_rank(torch.tensor(SYM), hermitian=True).numpy())


def test_result_types_shapes_and_dtypes():
    a = nl.randn(2, 4, 3)
    u, s, vh = nl.linalg.svd(a)
    assert (u.shape, s.shape, vh.shape) == ((2, 4, 4), (2, 3), (2, 3, 3))
    assert u.dtype == s.dtype == nl.float32
    r = nl.svd(a, compute_uv=False)
    assert r.U.shape == (2, 4, 4) and r.V.shape == (2, 3, 3) and not r.U.numpy().any()
    assert nl.linalg.qr(a, mode="complete").Q.shape == (2, 4, 4)
    assert nl.linalg.qr(a, mode="r").Q.shape == (0,)
    assert nl.linalg.eigh(nl.eye(3)).eigenvalues.dtype == nl.float32
    assert nl.slogdet(nl.eye(2)).logabsdet.item() == 0.0
    assert np.isnan(nl.logdet(nl.tensor([[-1.0, 0], [0, 1]])).item())
    assert nl.linalg.slogdet(nl.zeros(2, 2)).sign.item() == 0.0
    assert nl.matrix_exp(nl.zeros(0, 0)).shape == (0, 0)


def test_tensor_methods():
    a = _t(SPD[0])
    t = torch.tensor(SPD[0])
    np.testing.assert_allclose(a.cholesky().numpy(), t.cholesky().numpy())
    np.testing.assert_allclose(a.logdet().numpy(), t.logdet().numpy())
    np.testing.assert_allclose(a.slogdet()[1].numpy(), t.slogdet()[1].numpy())
    np.testing.assert_allclose(a.pinverse().numpy(), t.pinverse().numpy(), atol=1e-12)
    np.testing.assert_allclose(a.matrix_exp().numpy(), t.matrix_exp().numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.svd().S.numpy(), t.svd().S.numpy())
    np.testing.assert_allclose(a.qr().R.numpy(), t.qr().R.numpy())
    low = _t(LOW[0])
    np.testing.assert_allclose(low.cholesky_inverse().numpy(),
                               torch.tensor(LOW[0]).cholesky_inverse().numpy())
    np.testing.assert_allclose(nl.ones(3, 1, dtype=nl.float64).cholesky_solve(low).numpy(),
                               torch.ones(3, 1, dtype=torch.float64)
                               .cholesky_solve(torch.tensor(LOW[0])).numpy())


def test_qr_backward_refused_where_pytorch_refuses():
    a = nl.randn(4, 3, dtype=nl.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='r'"):
        nl.linalg.qr(a, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete'"):
        nl.linalg.qr(a, mode="complete").Q.sum().backward()


@pytest.mark.parametrize(("call", "message"), [
    (lambda: nl.linalg.cholesky(nl.tensor(np.stack([SPD[0], -SPD[1]]))),
     r"\(Batch element 1\): The factorization could not be completed because the input is not "
     r"positive-definite \(the leading minor of order 1"),
    (lambda: nl.linalg.cholesky(nl.randn(2, 3)), "square matrices, but they are 2 by 3"),
    (lambda: nl.linalg.eigh(nl.randn(2, 3)), "linalg.eigh: A must be batches of square"),
    (lambda: nl.linalg.eigh(nl.eye(2), UPLO="X"), "UPLO argument to be 'L' or 'U'"),
    (lambda: nl.linalg.qr(nl.eye(2), mode="full"), "unrecognized mode 'full'"),
    (lambda: nl.linalg.svd(nl.ones(3)), "at least 2 dimensions"),
    (lambda: nl.linalg.svd(nl.ones(2, 2, dtype=nl.int64)), "floating point"),
    (lambda: nl.linalg.solve_triangular(nl.eye(3), nl.ones(4, 2), upper=True),
     r"Incompatible shapes of A and B for the equation AX = B \(3x3 and 4x2\)"),
    (lambda: nl.linalg.solve_triangular(nl.eye(3), nl.ones(3, 2), upper=True, left=False),
     r"XA = B \(3x3 and 3x2\)"),
    (lambda: nl.linalg.multi_dot([nl.eye(2)]), "expected at least 2 tensors but got 1"),
    (lambda: nl.linalg.multi_dot([nl.ones(2, 3), nl.ones(2, 3)]),
     r"tensors 0 and 1 with shapes \[2, 3\] and \[2, 3\] cannot be multiplied"),
    (lambda: nl.linalg.multi_dot([nl.ones(2, 2), nl.ones(2, 2, 2), nl.ones(2, 2)]),
     "tensor 1 must be 2D but got 3D"),
    (lambda: nl.linalg.lstsq(nl.ones(4, 3), nl.ones(3, 2)), r"input.size\(-2\) should match"),
    (lambda: nl.linalg.cond(nl.eye(2), "max"), "invalid norm type"),
    (lambda: nl.matrix_exp(nl.ones(2, 3)), "square matrices"),
    (lambda: nl.linalg.vecdot(nl.ones(2), nl.ones(3)), "cannot be broadcast"),
])
def test_bad_input_messages(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()
