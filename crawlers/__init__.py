"""The Scrapy project: spiders by source kind, items, pipelines that write the landing
zone, and site profiles."""
