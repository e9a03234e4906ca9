"""The monthly review (监测管理评价与改进): indicators, the report, and the model check."""
