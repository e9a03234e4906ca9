"""What every benchmark shares: the machine description and the results file."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"


def machine() -> dict[str, Any]:
    try:
        import psutil

        memory_gib = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # pragma: no cover
        memory_gib = None
    return {
        "cpus": os.cpu_count(),
        "memory_gib": memory_gib,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def record(name: str, result: dict[str, Any], path: Path = RESULTS) -> None:
    """Store one benchmark's result under ``name``, keeping the others."""
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **result,
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
