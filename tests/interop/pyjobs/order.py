"""A job for tests/interop/test_rq_cli.py: appends its name to a Redis list, so a test reads
the order jobs ran in, whichever worker ran them."""
import redis


def record(url, name):
    redis.Redis.from_url(url).rpush("test:order", name)
    return name
