"""Airflow's ``[core] hostname_callable`` for the distributed test's Celery workers.

Both workers run on one machine, so the host name alone cannot tell them apart; each
worker's environment names it, and Airflow records that name on every task instance
the worker runs (``task_instance.hostname``), as it records container names in Docker.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return f"{os.environ['ECQM_TEST_WORKER_NAME']}@{socket.gethostname()}"
