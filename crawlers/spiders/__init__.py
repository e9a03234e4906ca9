"""The spiders: ``listings`` (shop platforms, with reviews), ``complaints``, ``recalls``.

Each crawls one site profile (``-s ECQM_PROFILE=name`` or ``-a profile=name``).
Spiders hold navigation only; reading fields is done by ``crawlers.extract`` and
``crawlers.parse``.
"""
