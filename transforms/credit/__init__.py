"""Merchant credit (诚信管理): the red list (红名单) and the black list (黑名单) of shops,
computed from the evaluated inspection results under the versioned rules in
``data/credit_rules.yaml`` and kept in ``merchant_credit``. See docs/credit.md.

- :mod:`transforms.credit.rules`: the rules file, checked;
- :mod:`transforms.credit.samples`: one sample per task, judged by its current report;
- :mod:`transforms.credit.lists`: the listings, as pure functions;
- :mod:`transforms.credit.update`: the reconciliation with ``merchant_credit``;
- :mod:`transforms.credit.tasks`: the function the ``evaluate_results`` DAG calls;
- :mod:`transforms.credit.cli`: ``ecqm credit``.
"""

from __future__ import annotations

from transforms.credit.rules import CreditRules, CreditRulesError, load_rules
from transforms.credit.update import CreditReport, update_credit

__all__ = ["CreditReport", "CreditRules", "CreditRulesError", "load_rules", "update_credit"]
