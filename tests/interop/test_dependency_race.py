"""The dependency race of RQ < 3.0 enqueuers (issue 18, point 3).

RQ 2.0 and 2.12's `Queue.setup_dependencies` defers a job unless every dependency is `finished`,
even with `Dependency(allow_failure=True)` when the dependency has `failed` already, and then
registers it in the parent's dependents set after the parent's end has read that set: without
help the job stays `deferred` for good. task-worker sweeps each ended job's dependents set again
shortly after its end, and every `rq:deferred:<q>` in maintenance, with one atomic script that
enqueues a job only while it is `deferred`. Runs against RQ 2.0.0, 2.12.0 and 3.0.0 enqueuers."""
import time

import rq
from rq import Queue
from rq.job import Dependency, JobStatus
from rq.registry import DeferredJobRegistry

from harness import wait_until

RQ3 = rq.__version__.startswith("3.")


def test_children_enqueued_while_a_fast_worker_fails_the_parent_all_end(r, start_worker):
    q = Queue("race", connection=r)
    parent = q.enqueue("fail", "parent fails fast")
    dep = Dependency(jobs=[parent], allow_failure=True)
    # 40 children register before the parent runs (released by its end); the worker starts and
    # fails it while the next ones are enqueued; the rest register after its end (RQ < 3.0
    # defers them although it failed, and adds them to a dependents set already read).
    children = [q.enqueue("echo", i, depends_on=dep) for i in range(40)]
    worker = start_worker("-q", "race", "-n", "RACER")
    while len(children) < 90 and r.hget(parent.key, "status") != b"failed":
        children.append(q.enqueue("echo", len(children), depends_on=dep))
        time.sleep(0.01)
    before_end = len(children)
    wait_until(lambda: parent.get_status(refresh=True) == JobStatus.FAILED, what="parent failed")
    while len(children) < 100:
        children.append(q.enqueue("echo", len(children), depends_on=dep))
    late = sum(1 for c in children if r.hget(c.key, "status") == b"deferred")

    def all_done():
        return all(c.get_status(refresh=True) == JobStatus.FINISHED for c in children)

    wait_until(all_done, timeout=45, interval=0.2, what="every child finished")
    for c in children:
        assert len(c.results()) == 1, f"{c.id} ran {len(c.results())} times"
        assert c.return_value() == children.index(c)
    assert not DeferredJobRegistry(queue=q).get_job_ids()
    rescued = worker.output().count("deferred job whose dependencies are met was enqueued")
    print(f"\nRACE rq {rq.__version__}: {before_end} children enqueued before the parent failed, "
          f"{late} deferred after it, {rescued} enqueued by the sweep")


def test_maintenance_enqueues_late_deferred_children_once(r, redis_server, run_burst, start_worker):
    q = Queue("race", connection=r)
    parent = q.enqueue("fail", "x")
    ok_parent = q.enqueue("echo", "ok")
    pending = Queue("race_later", connection=r).enqueue("echo", "not run yet")
    run_burst("-q", "race")
    assert parent.get_status(refresh=True) == JobStatus.FAILED
    # Enqueued long after the parents ended: RQ 2.x defers the first kind for good.
    allowed = [q.enqueue("echo", i, depends_on=Dependency(jobs=[parent, ok_parent], allow_failure=True))
               for i in range(20)]
    blocked = q.enqueue("echo", "never", depends_on=parent)
    waiting = q.enqueue("echo", "later", depends_on=Dependency(jobs=[parent, pending], allow_failure=True))
    if not RQ3:
        assert all(j.get_status(refresh=True) == JobStatus.DEFERRED for j in allowed)
    # Two workers at once: both sweep at start, each job still runs once.
    a = start_worker("-q", "race", "--burst")
    b = start_worker("-q", "race", "--burst")
    assert a.wait() == 0 and b.wait() == 0
    for j in allowed:
        assert j.get_status(refresh=True) == JobStatus.FINISHED
        assert len(j.results()) == 1
    assert blocked.get_status(refresh=True) == JobStatus.DEFERRED
    assert waiting.get_status(refresh=True) == JobStatus.DEFERRED
    # Its other dependency ends: released at that end, as RQ does.
    run_burst("-q", "race_later,race")
    assert waiting.get_status(refresh=True) == JobStatus.FINISHED and len(waiting.results()) == 1
    assert blocked.get_status(refresh=True) == JobStatus.DEFERRED
