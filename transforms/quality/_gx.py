"""The one way this package makes a GX Data Context: ephemeral, quiet, writing nothing.

``gx.get_context()`` without arguments looks for (and may create) a ``gx/`` project
folder under the working directory, and the default ephemeral context points a docs
site at a temporary folder. Everything here runs inside pipeline tasks, whose working
directory is not ours to write to, so the context is built from an explicit in-memory
configuration: in-memory stores, no analytics, no progress bars, and a filesystem
Data Docs site only when the caller names its folder. GX is imported here, on first
use, never when a DAG file is parsed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DOCS_SITE = "ecqm"


def ephemeral_context(docs_dir: Path | None = None) -> Any:
    """A fresh :class:`EphemeralDataContext`; with ``docs_dir``, a Data Docs site there."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites: dict[str, Any] = {}
    if docs_dir is not None:
        sites[DOCS_SITE] = {
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(Path(docs_dir).resolve()),
            },
            "site_index_builder": {
                "class_name": "DefaultSiteIndexBuilder",
                "show_how_to_buttons": False,
            },
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites=sites,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def gx_version() -> str:
    import great_expectations as gx

    return str(gx.__version__)
