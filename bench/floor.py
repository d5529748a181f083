"""What a user runs today, for the benchmark (bench/run.ts): the same worker, driven by hand.

  python bench/floor.py floor      APP QUEUE   # the floor: publish one ping before the worker is
                                               # up, wait for its result with Celery's own client
  python bench/floor.py readiness  APP QUEUE   # the usual readiness check, as Celery's test
                                               # worker does it: celery.ping with .get(timeout=10)
                                               # (its ping_task_timeout), again until it answers

Both start the worker exactly as the action does (solo pool, the ping task module included, a
queue of their own), stop it warm (SIGTERM, wait) as any script that leaves no orphan must, and
print one JSON line of timings in seconds from the script's start.
"""
import json
import os
import signal
import subprocess
import sys
import time
import uuid

START = time.monotonic()
#: celery.contrib.testing.worker.start_worker's default ping_task_timeout.
PING_TASK_TIMEOUT = 10.0


def main() -> None:
    mode, app_path, queue = sys.argv[1:4]
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", app_path, "worker", "--pool=solo",
         "--hostname", f"bench-{uuid.uuid4().hex[:8]}@%h", "--queues", queue,
         "--loglevel", "INFO", "--include", "celery.contrib.testing.tasks"],
        stdout=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL, stderr=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL, start_new_session=True,
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
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    print(json.dumps({"mode": mode, "result": result, "attempts": attempts, "pongS": pong, "totalS": time.monotonic() - START}))


if __name__ == "__main__":
    main()
