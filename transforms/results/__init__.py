"""结果评价与处理: the verdict on each lab report, retests, the notices it owes (queued in
the ``notifications`` outbox in the same transaction), and what it does to the
product's risk assessment. See ``docs/notifications.md``, "Evaluation and queueing"."""
