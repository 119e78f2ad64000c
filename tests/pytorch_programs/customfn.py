# A PyTorch program as users write it (run under torch and neuralab by
# tests/test_pytorch_programs_more.py).
# ruff: noqa: B007
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class ClampedReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, ceiling=6.0):
        ctx.save_for_backward(input)
        ctx.ceiling = ceiling
        return input.clamp(min=0, max=ceiling)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        grad_input[input > ctx.ceiling] = 0
        return grad_input, None


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 20)
        self.fc2 = nn.Linear(20, 3)
        self.register_buffer("running_calls", torch.zeros(1))

    def forward(self, x):
        self.running_calls += 1
        return self.fc2(ClampedReLU.apply(self.fc1(x), 4.0))


x = torch.randn(32, 10, dtype=torch.double, requires_grad=True)
test = torch.autograd.gradcheck(lambda t: ClampedReLU.apply(t, 0.5), (x[:4, :3],), eps=1e-6,
                                atol=1e-4)
model = Net()
activations, grad_norms = {}, []
h1 = model.fc1.register_forward_hook(lambda m, i, o: activations.__setitem__("fc1", o.detach()))
h2 = model.fc2.register_full_backward_hook(
    lambda m, gin, gout: grad_norms.append(gout[0].norm().item()))
model.fc2.weight.register_hook(lambda g: g * 0.5)
inputs = torch.randn(64, 10)
targets = torch.randint(0, 3, (64,))
opt = torch.optim.RMSprop(model.parameters(), lr=1e-2, momentum=0.5)
losses = []
for step in range(12):
    opt.zero_grad()
    hidden = model.fc1(inputs)
    hidden.retain_grad()
    out = model.fc2(ClampedReLU.apply(hidden, 4.0))
    loss = F.nll_loss(F.log_softmax(out, dim=1), targets)
    loss.backward()
    opt.step()
    losses.append(loss.item())
h1.remove()
h2.remove()
n_hooked = len(grad_norms)
model(inputs).sum().backward()
with torch.no_grad():
    pred = model(inputs).argmax(dim=1)
    acc = (pred == targets).float().mean().item()
    assert not model(inputs).requires_grad
y = torch.autograd.grad((x ** 3).sum(), x)[0]
RESULT = {"gradcheck": test, "losses": losses, "hooked": n_hooked, "after": len(grad_norms),
          "act": tuple(activations["fc1"].shape), "hidden_grad": tuple(hidden.grad.shape),
          "acc": acc, "calls": model.running_calls.item(),
          "first": torch.allclose(y, 3 * x.detach() ** 2), "x_grad": x.grad}
