"""What a user runs today, for the benchmark (bench/run.ts): the same worker, driven by hand.

  python bench/floor.py floor      APP QUEUE [WORKER ARG...]
        # the floor: publish one ping before the worker is up, wait for its result with
        # Celery's own client
  python bench/floor.py readiness  APP QUEUE [WORKER ARG...]
        # the usual readiness check, as Celery's test worker does it: celery.ping with
        # .get(timeout=10) (its ping_task_timeout), again until it answers

Both start the worker with the worker arguments the action is given (e.g. --pool=solo; none: the
default prefork pool), the ping task module included and a queue of their own, stop it warm
(SIGTERM, wait) as any script that leaves no orphan must, and print one JSON line of timings in
seconds from the script's start; ``stopS`` is the warm stop alone (SIGTERM to the worker's exit).
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid

START = time.monotonic()
#: celery.contrib.testing.worker.start_worker's default ping_task_timeout.
PING_TASK_TIMEOUT = 10.0


def main() -> None:
    mode, app_path, queue = sys.argv[1:4]
    worker_args = sys.argv[4:]
    # The worker's output goes to a file, shown when no answer comes (a bench run that timed out once
    # in a while, cause not yet known: this is what would tell).
    log = tempfile.NamedTemporaryFile(prefix="bench-worker-", suffix=".log", delete=False)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", app_path, "worker", *worker_args,
         "--hostname", f"bench-{uuid.uuid4().hex[:8]}@%h", "--queues", queue,
         "--loglevel", "INFO", "--include", "celery.contrib.testing.tasks"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        # The app is imported here while the worker boots (in parallel, as the action's probe is).
        from celery.app.utils import find_app
        import celery.contrib.testing.tasks  # noqa: F401  registers celery.ping
        app = find_app(app_path)
        attempts = 0
        if mode == "floor":
            attempts = 1
            result = app.send_task("celery.ping", queue=queue).get(timeout=60)
        else:
            from celery.exceptions import TimeoutError as CeleryTimeout
            while True:
                attempts += 1
                try:
                    result = app.send_task("celery.ping", queue=queue).get(timeout=PING_TASK_TIMEOUT)
                    break
                except CeleryTimeout:
                    if time.monotonic() - START > 60:
                        raise
        pong = time.monotonic() - START
    except Exception:
        with open(log.name, encoding="utf-8", errors="replace") as f:
            tail = f.read().splitlines()[-25:]
        print(f"no answer; worker exit status {worker.poll()}; last lines of {log.name}:", *tail, sep="\n", file=sys.stderr)
        raise
    finally:
        stopping = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        stop = time.monotonic() - stopping
    os.unlink(log.name)
    print(json.dumps({"mode": mode, "result": result, "attempts": attempts, "pongS": pong, "stopS": stop,
                      "totalS": time.monotonic() - START}))


if __name__ == "__main__":
    main()
