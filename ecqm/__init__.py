"""ecqm: online monitoring of e-commerce product quality (GB/T 37538-2019)."""

__version__ = "0.1.0"
