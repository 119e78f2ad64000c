"""grid_sample, affine_grid, pdist, CTC and the multi-label margin loss beyond the op table:
PyTorch's warnings, list lengths, unbatched inputs, and the messages for bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import neuralab as nl
import neuralab.nn.functional as F


def test_align_corners_default_warns_as_pytorch():
    theta = nl.tensor(np.eye(2, 3)[None], dtype=nl.float32)
    with pytest.warns(UserWarning, match="align_corners=False"):
        grid = F.affine_grid(theta, (1, 1, 3, 3))
    with pytest.warns(UserWarning, match="align_corners=False"):
        F.grid_sample(nl.randn(1, 1, 3, 3), grid)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.grid_sample(nl.randn(1, 1, 3, 3), grid, align_corners=False)


def test_identity_grid_samples_the_image_itself():
    x = nl.randn(2, 3, 4, 5, dtype=nl.float64)
    theta = nl.tensor(np.tile(np.eye(2, 3), (2, 1, 1)), dtype=nl.float64)
    for align in (False, True):
        grid = F.affine_grid(theta, (2, 3, 4, 5), align_corners=align)
        for mode in ("bilinear", "nearest"):
            y = F.grid_sample(x, grid, mode=mode, align_corners=align)
            np.testing.assert_allclose(y.numpy(), x.numpy(), atol=1e-12)


def test_affine_grid_gradient_reaches_theta_through_grid_sample():
    rng = np.random.default_rng(0)
    x, theta = rng.standard_normal((2, 2, 5, 5)), rng.uniform(-0.8, 0.8, (2, 2, 3))
    ours = [nl.tensor(a, dtype=nl.float64, requires_grad=True) for a in (x, theta)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, theta)]
    F.grid_sample(ours[0], F.affine_grid(ours[1], (2, 2, 3, 4), False), padding_mode="border",
                  align_corners=False).pow(2).sum().backward()
    TF.grid_sample(theirs[0], TF.affine_grid(theirs[1], (2, 2, 3, 4), False),
                   padding_mode="border", align_corners=False).pow(2).sum().backward()
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_grid_sample_float32_matches_pytorch():
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal((1, 2, 3, 4)), rng.uniform(-1.2, 1.2, (1, 2, 3, 2))
    ours = F.grid_sample(nl.tensor(x, dtype=nl.float32),
                         nl.tensor(g, dtype=nl.float32), padding_mode="reflection",
                         align_corners=True)
    theirs = TF.grid_sample(torch.tensor(x, dtype=torch.float32),
                            torch.tensor(g, dtype=torch.float32), padding_mode="reflection",
                            align_corners=True)
    assert ours.dtype == nl.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_grid_bad_input_messages():
    x, g = nl.randn(1, 1, 3, 3), nl.randn(1, 2, 2, 2)
    with pytest.raises(ValueError, match="expected mode"):
        F.grid_sample(x, g, mode="linear", align_corners=False)
    with pytest.raises(ValueError, match="expected padding_mode"):
        F.grid_sample(x, g, padding_mode="wrap", align_corners=False)
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.grid_sample(x, g, mode="bicubic", align_corners=False)
    with pytest.raises(NotImplementedError, match="5-D"):
        F.grid_sample(nl.randn(1, 1, 2, 2, 2), nl.randn(1, 1, 1, 1, 3), align_corners=False)
    with pytest.raises(RuntimeError, match="same batch size"):
        F.grid_sample(nl.randn(2, 1, 3, 3), g, align_corners=False)
    with pytest.raises(RuntimeError, match="size 2 in last dimension"):
        F.grid_sample(x, nl.randn(1, 2, 2, 3), align_corners=False)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.grid_sample(x, g.double(), align_corners=False)
    with pytest.raises(ValueError, match="Nx2x3"):
        F.affine_grid(nl.randn(1, 3, 3), (1, 1, 2, 2), align_corners=False)
    with pytest.raises(NotImplementedError, match="4D and 5D"):
        F.affine_grid(nl.randn(1, 2, 3), (1, 2, 2), align_corners=False)
    with pytest.raises(ValueError, match="positive output size"):
        F.affine_grid(nl.randn(1, 2, 3), (1, 1, 0, 2), align_corners=False)


def test_pdist_bad_input_messages():
    with pytest.raises(RuntimeError, match="2D tensors, got: 3D"):
        F.pdist(nl.randn(2, 3, 4))
    with pytest.raises(RuntimeError, match="non-negative p"):
        F.pdist(nl.randn(3, 4), -1)
    with pytest.raises(TypeError, match="floating"):
        F.pdist(nl.tensor([[1, 2], [3, 4]]))


def test_pdist_of_repeated_rows_has_zero_gradient_as_pytorch():
    data = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 5.0]])
    x, xt = nl.tensor(data, dtype=nl.float64, requires_grad=True), torch.tensor(
        data, requires_grad=True)
    F.pdist(x).sum().backward()
    torch.pdist(xt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


LOG_PROBS = np.log(np.random.default_rng(0).dirichlet(np.ones(4), size=(5, 2)))


def test_ctc_accepts_lists_and_unbatched_inputs_as_pytorch():
    targets = np.array([[1, 2], [3, 0]])
    ours = F.ctc_loss(nl.tensor(LOG_PROBS, dtype=nl.float64), nl.tensor(targets), [5, 4], (2, 1),
                      reduction="none")
    theirs = TF.ctc_loss(torch.tensor(LOG_PROBS), torch.tensor(targets), [5, 4], (2, 1),
                         reduction="none")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    one = F.ctc_loss(nl.tensor(LOG_PROBS[:, 0], dtype=nl.float64), nl.tensor([1, 2]), 5, 2,
                     reduction="none")
    assert one.shape == ()
    np.testing.assert_allclose(one.numpy(), theirs.numpy()[0], rtol=1e-12)


def test_ctc_infinite_loss_and_zero_infinity():
    targets = nl.tensor([[2, 3, 1], [1, 1, 2]])
    x = nl.tensor(LOG_PROBS, dtype=nl.float64, requires_grad=True)
    loss = F.ctc_loss(x, targets, [5, 3], [3, 3], reduction="none")  # 1, 1, 2 needs 4 frames
    assert np.isfinite(loss.numpy()[0]) and np.isinf(loss.numpy()[1])
    x.grad = None
    loss = F.ctc_loss(x, targets, [5, 3], [3, 3], reduction="sum", zero_infinity=True)
    loss.backward()
    assert np.isfinite(loss.item()) and not np.any(x.grad.numpy()[:, 1])


def test_ctc_bad_input_messages():
    lp, t = nl.tensor(LOG_PROBS), nl.tensor([[1, 2], [3, 0]])
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        F.ctc_loss(lp, t, [5, 5], [2, 1], blank=4)
    with pytest.raises(RuntimeError, match="at most 5"):
        F.ctc_loss(lp, t, [6, 5], [2, 1])
    with pytest.raises(RuntimeError, match="one length per sequence"):
        F.ctc_loss(lp, t, [5], [2, 1])
    with pytest.raises(RuntimeError, match="exceeds the padded"):
        F.ctc_loss(lp, t, [5, 5], [3, 1])
    with pytest.raises(RuntimeError, match="sum to 4"):
        F.ctc_loss(lp, nl.tensor([1, 2, 3]), [5, 5], [2, 2])
    with pytest.raises(IndexError, match=r"\[0, 3\]"):
        F.ctc_loss(lp, nl.tensor([[1, 7], [3, 0]]), [5, 5], [2, 1])
    with pytest.raises(TypeError, match="integer"):
        F.ctc_loss(lp, nl.tensor([[1.0, 2.0], [3.0, 0.0]]), [5, 5], [2, 1])
    with pytest.raises(ValueError, match="reduction"):
        F.ctc_loss(lp, t, [5, 5], [2, 1], reduction="batchmean")
    with pytest.raises(RuntimeError, match="3-d"):
        F.ctc_loss(nl.randn(5), t, [5, 5], [2, 1])


def test_multilabel_margin_bad_input_messages():
    x = nl.randn(2, 3)
    with pytest.raises(ValueError, match="inconsistent target size"):
        F.multilabel_margin_loss(x, nl.tensor([[0, -1], [1, -1]]))
    with pytest.raises(TypeError, match="integer"):
        F.multilabel_margin_loss(x, nl.zeros(2, 3))
    with pytest.raises(IndexError, match="class indices"):
        F.multilabel_margin_loss(x, nl.tensor([[0, 3, -1], [1, -1, 0]]))
    with pytest.raises(ValueError, match="1-d"):
        F.multilabel_margin_loss(nl.randn(2, 3, 4), nl.zeros(2, 3, 4, dtype=nl.int64))


def test_triplet_with_distance_bad_input_messages():
    a = nl.randn(3, 4)
    with pytest.raises(ValueError, match="greater than 0"):
        F.triplet_margin_with_distance_loss(a, a, a, margin=0.0)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.triplet_margin_with_distance_loss(a, a, nl.randn(4))
    with pytest.raises(TypeError, match="callable"):
        F.triplet_margin_with_distance_loss(a, a, a, distance_function=3)
    with pytest.raises(TypeError):
        F.triplet_margin_with_distance_loss(a, a, a, None)  # keyword-only, as PyTorch
