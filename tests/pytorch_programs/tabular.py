# A PyTorch program as users write it (run under torch and neuralab by
# tests/test_pytorch_programs_more.py).
# ruff: noqa: B007
import copy

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)
N, D = 400, 12
X = torch.randn(N, D)
w_true = torch.randn(D, 1)
y = (X @ w_true + 0.1 * torch.randn(N, 1) > 0).float().squeeze(1)
dataset = TensorDataset(X, y)
train_ds, val_ds = random_split(dataset, [320, 80], generator=torch.Generator().manual_seed(42))
train_loader = DataLoader(train_ds, batch_size=32, shuffle=True, drop_last=True)
val_loader = DataLoader(val_ds, batch_size=64)

model = nn.Sequential(
    nn.Linear(D, 32), nn.BatchNorm1d(32), nn.GELU(), nn.Dropout(p=0.2),
    nn.Linear(32, 16), nn.SiLU(), nn.Linear(16, 1),
)
decay, no_decay = [], []
for name, param in model.named_parameters():
    (no_decay if name.endswith("bias") or param.ndim == 1 else decay).append(param)
optimizer = torch.optim.AdamW([
    {"params": decay, "weight_decay": 1e-2},
    {"params": no_decay, "weight_decay": 0.0},
], lr=3e-3)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5,
                                                       patience=1)
loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.5]))
best_val, best_state, bad_epochs, patience = float("inf"), None, 0, 3
history = []
for epoch in range(25):
    model.train()
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb).squeeze(-1), yb)
        loss.backward()
        optimizer.step()
    model.eval()
    val_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for xb, yb in val_loader:
            logits = model(xb).squeeze(-1)
            val_loss += loss_fn(logits, yb).item() * xb.size(0)
            correct += ((logits > 0).float() == yb).sum().item()
            count += len(xb)
    val_loss /= count
    scheduler.step(val_loss)
    history.append(val_loss)
    if val_loss < best_val - 1e-4:
        best_val, bad_epochs = val_loss, 0
        best_state = copy.deepcopy(model.state_dict())
    else:
        bad_epochs += 1
        if bad_epochs >= patience:
            break
model.load_state_dict(best_state)
RESULT = {"history": history, "best": best_val, "acc": correct / count, "epochs": epoch + 1,
          "lrs": [g["lr"] for g in optimizer.param_groups], "n_train": len(train_ds)}
