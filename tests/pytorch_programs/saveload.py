# A PyTorch program as users write it (run under torch and neuralab by
# tests/test_pytorch_programs_more.py).
# ruff: noqa: B007
import io
import os
import shutil
import tempfile

import torch
import torch.nn as nn
import torch.optim as optim

torch.manual_seed(0)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.ModuleList([nn.Linear(6, 8), nn.Linear(8, 8)])
        self.heads = nn.ModuleDict({"a": nn.Linear(8, 2), "b": nn.Linear(8, 1)})
        self.scale = nn.Parameter(torch.ones(1))
        self.bn = nn.BatchNorm1d(8)

    def forward(self, x):
        for layer in self.features:
            x = torch.relu(layer(x))
        x = self.bn(x)
        return self.heads["a"](x) * self.scale, self.heads["b"](x)


model = Model()
optimizer = optim.Adam(model.parameters(), lr=1e-2)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
x, y = torch.randn(20, 6), torch.randn(20, 2)
for epoch in range(3):
    optimizer.zero_grad()
    a, b = model(x)
    loss = nn.functional.mse_loss(a, y) + b.pow(2).mean()
    loss.backward()
    optimizer.step()
    scheduler.step()

tmp = tempfile.mkdtemp()
path = os.path.join(tmp, "checkpoint.pth")
torch.save({"epoch": epoch, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "loss": loss.item()}, path)
model2 = Model()
optimizer2 = optim.Adam(model2.parameters(), lr=1e-2)
scheduler2 = optim.lr_scheduler.StepLR(optimizer2, step_size=2, gamma=0.5)
checkpoint = torch.load(path, map_location=torch.device("cpu"))
missing = model2.load_state_dict(checkpoint["model_state_dict"], strict=True)
optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
scheduler2.load_state_dict(checkpoint["scheduler"])
model.eval()
model2.eval()
with torch.no_grad():
    same = all(torch.equal(u, v) for u, v in zip(model(x), model2(x)))
buffer = io.BytesIO()
torch.save(model.state_dict(), buffer)
buffer.seek(0)
sd = torch.load(buffer, weights_only=True)
keys = list(sd.keys())
steps = []
for m, o, s in [(model, optimizer, scheduler), (model2, optimizer2, scheduler2)]:
    m.train()
    o.zero_grad()
    a, b = m(x)
    (nn.functional.mse_loss(a, y) + b.pow(2).mean()).backward()
    o.step()
    s.step()
    steps.append(m.scale.item())
shutil.rmtree(tmp)
RESULT = {"same": same, "keys": keys, "epoch": checkpoint["epoch"],
          "resumed_equal": steps[0] == steps[1], "lr": optimizer2.param_groups[0]["lr"],
          "missing": (list(missing.missing_keys), list(missing.unexpected_keys)),
          "nbt": int(sd["bn.num_batches_tracked"])}
