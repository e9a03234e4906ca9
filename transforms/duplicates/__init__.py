"""Near-duplicate review detection: copied and farmed reviews (刷单) flagged with a cluster id."""

from __future__ import annotations

from .index import ReviewClusterIndex, cluster_name, find_review_clusters
from .text import normalise_review_text

__all__ = ["ReviewClusterIndex", "cluster_name", "find_review_clusters", "normalise_review_text"]
