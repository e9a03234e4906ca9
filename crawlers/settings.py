"""Scrapy settings of the ecqm crawlers (``SCRAPY_SETTINGS_MODULE=crawlers.settings``).

Precedence, lowest first: these defaults; the site profile's politeness and
User-Agent (set by the spider at ``spider`` priority); ``-s NAME=VALUE`` on the
command line, which is how :func:`crawlers.runner.run_crawl` passes a run's settings.

Run metadata (``ECQM_PROFILE``, ``ECQM_RUN_ID``, ``ECQM_PARTITION_DATE``,
``ECQM_SHARD``, ``ECQM_SHARDS``, ``ECQM_TARGET_URL``, ``ECQM_CATEGORIES``) also comes as
settings, or as spider arguments (``-a profile=youpin``) for a crawl run by hand.
"""

from __future__ import annotations

from ecqm import settings as ecqm_settings

_ecqm = ecqm_settings.load()

BOT_NAME = "ecqm"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# Identify ourselves, and obey robots.txt (Scrapy's library default is not to).
USER_AGENT = _ecqm.user_agent
ROBOTSTXT_OBEY = True

# Politeness; a profile's `politeness` overrides delay, per-site concurrency and target.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
RANDOMIZE_DOWNLOAD_DELAY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30

# Retries with exponential backoff (5xx, timeouts, truncated bodies, broken JSON);
# 429 and 503 wait for Retry-After. Only the failed request waits, not the crawl.
RETRY_ENABLED = True
RETRY_TIMES = 6
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
ECQM_RETRY_BACKOFF_BASE = 1.0  # seconds before the first retry; doubles each time
ECQM_RETRY_BACKOFF_MAX = 60.0
ECQM_RETRY_AFTER_MAX = 300.0  # a longer Retry-After is cut to this
DOWNLOAD_FAIL_ON_DATALOSS = True

# Redirects: bounded, and a loop (a URL seen before in the chain) is retried from the start.
REDIRECT_MAX_TIMES = 6

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
    "crawlers.middlewares.RedirectLoopMiddleware": 610,
    "crawlers.middlewares.EvidenceMiddleware": 950,
}
SPIDER_MIDDLEWARES = {"crawlers.middlewares.ShardMiddleware": 50}
ITEM_PIPELINES = {"crawlers.pipelines.LandingPipeline": 300}
EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "crawlers.extensions.ShardStatsWriter": 900,
}

# Where the crawl writes (local folders); see crawlers/landing.py for the layout.
ECQM_LANDING_DIR = _ecqm.landing_url
ECQM_EVIDENCE_DIR = str(_ecqm.evidence_dir)
ECQM_PROFILES_DIR = None  # None: crawlers/profiles

# Items are never logged: complaints carry personal data.
LOG_LEVEL = "INFO"
LOG_FORMATTER = "crawlers.logformatter.QuietLogFormatter"
FEED_EXPORT_ENCODING = "utf-8"
