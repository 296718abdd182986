"""Well-behaved python steps: outputs, ctx, kwargs, logging order."""
import logging
import sys
import time

log = logging.getLogger("nftest.steps")


def produce(ctx, count, label="items"):
    """Return an output the next step reads through ctx.outputs."""
    ctx.logger.info("producing %d %s for run %s", count, label, ctx.run_id)
    return {"rows": [{"n": i} for i in range(count)], "label": label,
            "total": count * (count - 1) // 2}


def consume(ctx):
    """Read the previous step's output; report rows affected."""
    prev = ctx.outputs["make"]
    print("consumed %s %s total=%d" % (len(prev["rows"]), prev["label"],
                                       prev["total"]))
    return len(prev["rows"])


def kwargs_order(a, b, c, n, ctx=None):
    """Which layer won for each name (job params < kwargs < run params)."""
    return {"a": a, "b": b, "c": c, "n": n, "job": ctx.job_id,
            "step": ctx.step, "pools": sorted(ctx.pools)}


def interleave(n=20):
    """print, sys.stderr.write and logging, interleaved: order must hold."""
    for i in range(n):
        print("seq %d out" % (3 * i))
        sys.stderr.write("seq %d err\n" % (3 * i + 1))
        log.warning("seq %d log", 3 * i + 2)
    return None


def returns_none():
    return None


def bad_type():
    return [1, 2, 3]


def not_json():
    return {"when": object()}


def raises(msg="boom"):
    def inner():
        raise ValueError(msg)
    inner()


def loop(ctx):
    """A busy loop that never checks ctx.is_cancelled()."""
    print("looping", flush=True)
    x = 0
    while True:
        x += 1


def polite_loop(ctx):
    """Stops as soon as the step is being stopped."""
    print("waiting", flush=True)
    while not ctx.is_cancelled():
        time.sleep(0.01)
    print("saw cancel")
    return None


def big(ctx, mb=2.5):
    """An output of about mb megabytes (under the runner's 3 MiB record)."""
    return {"blob": "x" * int(mb * 1000 * 1000)}


def leave_daemon(ctx, seconds):
    """Double fork + setsid a /bin/sleep of that many seconds, and return."""
    import os
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["/bin/sleep", seconds])
        os._exit(0)
    os.waitpid(pid, 0)
    print("left a daemon", flush=True)
    return {"left": seconds}
