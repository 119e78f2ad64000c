"""``neuralab.optim``: the optimizers of Lecture 7 with torch.optim's names and hyperparameters."""
