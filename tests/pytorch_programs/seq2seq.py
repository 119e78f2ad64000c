# A PyTorch program as users write it (run under torch and neuralab by
# tests/test_pytorch_programs_more.py).
# ruff: noqa: B007
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
PAD, SOS, V, H = 0, 1, 12, 24


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(V, H, padding_idx=PAD)
        self.gru = nn.GRU(H, H, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * H, H)

    def forward(self, src):
        outputs, hidden = self.gru(self.embedding(src))
        hidden = torch.tanh(self.fc(torch.cat((hidden[-2], hidden[-1]), dim=1)))
        return self.fc(outputs), hidden


class AttnDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(V, H)
        self.gru = nn.GRUCell(2 * H, H)
        self.out = nn.Linear(2 * H, V)

    def forward(self, token, hidden, enc_out, mask):
        emb = self.embedding(token)
        scores = torch.bmm(enc_out, hidden.unsqueeze(2)).squeeze(2)
        scores = scores.masked_fill(mask == 0, float("-inf"))
        attn = F.softmax(scores, dim=1)
        context = torch.bmm(attn.unsqueeze(1), enc_out).squeeze(1)
        hidden = self.gru(torch.cat([emb, context], dim=-1), hidden)
        return self.out(torch.cat([hidden, context], dim=1)), hidden, attn


B, S = 8, 7
lengths = torch.randint(3, S + 1, (B,))
src = torch.randint(2, V, (B, S))
mask = torch.arange(S).unsqueeze(0) < lengths.unsqueeze(1)
src = src.masked_fill(~mask, PAD)
tgt = torch.flip(src, dims=[1])
enc, dec = Encoder(), AttnDecoder()
params = list(enc.parameters()) + list(dec.parameters())
optimizer = torch.optim.Adam(params, lr=5e-3)
criterion = nn.CrossEntropyLoss(ignore_index=PAD)
losses = []
for step in range(15):
    optimizer.zero_grad()
    enc_out, hidden = enc(src)
    token = torch.full((B,), SOS, dtype=torch.long)
    loss = 0
    for t in range(S):
        logits, hidden, attn = dec(token, hidden, enc_out, mask)
        loss = loss + criterion(logits, tgt[:, t])
        token = tgt[:, t] if torch.rand(1).item() < 0.5 else logits.argmax(-1)
    loss = loss / S
    loss.backward()
    nn.utils.clip_grad_value_(params, 1.0)
    optimizer.step()
    losses.append(loss.item())
RESULT = {"losses": losses, "attn_shape": tuple(attn.shape),
          "attn_sum": attn.sum(dim=1).tolist(),
          "masked_zero": bool((attn[~mask] == 0).all())}
