"""One module per warehouse revision."""
