"""Noisy, not broken: the worker prints megabytes of logs per second.

A debug setting left on (SQL echo, a chatty library, a log line per poll) makes the worker
write several MB of output per second. It still works; whoever reads its output must cope
without running out of memory or time: the action keeps a bounded tail and a bounded log file.

Fix, if it is not wanted: lower the level of the chatty logger.
"""
import sys
import threading

from celery.signals import worker_init

from app.factory import make_app

celery_app = make_app()

_LINE = "chatty " + "x" * 1000 + "\n"


def _flood() -> None:
    while True:  # about 5 MB/s until the process ends
        for _ in range(500):
            sys.stderr.write(_LINE)
        sys.stderr.flush()
        threading.Event().wait(0.1)


@worker_init.connect
def _start_flood(**_kwargs) -> None:
    threading.Thread(target=_flood, name="chatty", daemon=True).start()
