"""Risk models: signals, text and anomaly models, recall matching, the risk matrix,
scoring, sample allocation and training."""
