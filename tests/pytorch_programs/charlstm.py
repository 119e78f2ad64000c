# A PyTorch program as users write it (run under torch and neuralab by
# tests/test_pytorch_programs_more.py).
# ruff: noqa: B007
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
text = "hello world, this is a tiny corpus for a tiny char model. " * 8
chars = sorted(set(text))
stoi = {ch: i for i, ch in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
vocab, seq_len, batch = len(chars), 16, 8


class CharLM(nn.Module):
    def __init__(self, vocab, emb=16, hidden=32, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, num_layers=layers, batch_first=True, dropout=0.1)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def get_batch():
    ix = torch.randint(len(data) - seq_len - 1, (batch,))
    x = torch.stack([data[i:i + seq_len] for i in ix])
    y = torch.stack([data[i + 1:i + seq_len + 1] for i in ix])
    return x, y


model = CharLM(vocab)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=30)
losses = []
for step in range(30):
    x, y = get_batch()
    logits, _ = model(x)
    loss = F.cross_entropy(logits.view(-1, vocab), y.view(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())

model.eval()
with torch.no_grad():
    idx = torch.tensor([[stoi["h"]]])
    state = None
    out = []
    for _ in range(20):
        logits, state = model(idx, state)
        probs = F.softmax(logits[:, -1, :] / 0.8, dim=-1)
        idx = torch.multinomial(probs, num_samples=1)
        out.append(chars[idx.item()])
RESULT = {"first": sum(losses[:5]) / 5, "last": sum(losses[-5:]) / 5, "sample": "".join(out),
          "lr": scheduler.get_last_lr()[0], "norm": float(total_norm)}
