"""Page renderers, one module per site."""
