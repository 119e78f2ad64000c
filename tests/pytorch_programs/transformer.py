# A PyTorch program as users write it (run under torch and neuralab by
# tests/test_pytorch_programs_more.py).
# ruff: noqa: B007
import math

import torch
import torch.nn as nn

torch.manual_seed(0)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=64):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[: x.size(0)]


class Classifier(nn.Module):
    def __init__(self, vocab=50, d_model=32, nhead=4, layers=2, classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.pos = PositionalEncoding(d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=64, dropout=0.1)
        self.encoder = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)
        self.cls = nn.Linear(d_model, classes)

    def forward(self, src, pad_mask):
        x = self.pos(self.embed(src).transpose(0, 1) * math.sqrt(self.embed.embedding_dim))
        x = self.encoder(x, src_key_padding_mask=pad_mask).transpose(0, 1)
        keep = (~pad_mask).unsqueeze(-1).float()
        return self.cls((x * keep).sum(1) / keep.sum(1))


B, S = 16, 10
src = torch.randint(1, 50, (B, S))
lengths = torch.randint(4, S + 1, (B,))
pad_mask = torch.arange(S)[None, :] >= lengths[:, None]
src[pad_mask] = 0
labels = src[:, 0] % 3
model = Classifier()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-9)
warmup = 4
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
losses = []
for step in range(15):
    model.train()
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(src, pad_mask), labels)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
model.eval()
with torch.inference_mode():
    probs = model(src, pad_mask).softmax(-1)
RESULT = {"losses": losses, "probs": tuple(probs.shape),
          "rows": bool(torch.allclose(probs.sum(-1), torch.ones(B)))}
