"""RQ's worker settings for tests/ha: `rq worker -c haconfig` finds the master through the
same three sentinels as task-worker (redis-py's Sentinel, RQ's SENTINEL setting)."""
SENTINEL = {
    "INSTANCES": [("ha-s1", 26379), ("ha-s2", 26379), ("ha-s3", 26379)],
    "MASTER_NAME": "mymaster",
    "DB": 0,
    # As in RQ's documentation's example (the worker raises the socket timeout above its
    # dequeue timeout anyway). With SOCKET_TIMEOUT 5 RQ's worker quit ("Redis connection
    # timeout, quitting...") at the first timeout after the master was killed.
    "SOCKET_TIMEOUT": None,
    "SENTINEL_KWARGS": {"socket_timeout": 2},
}
