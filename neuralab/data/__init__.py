"""``neuralab.data``: datasets, the DataLoader, transforms and the real data sets of the course."""
