"""Celery's own warm shutdown, without its idle waits.

Loaded by bootstrap.py (by path, under a name of its own) just before it hands the process over
to Celery's command line. A warm shutdown (SIGTERM) stays Celery's: the loop stops taking
messages, the pool finishes every task it was given, the connection is closed and kombu puts
back every message it holds unacknowledged (an ETA task, a prefetched one). What this module
removes is only time in which nothing happens:

* Celery 5.3+ sets a flag in its SIGTERM handler and the consumer's loop sees it between two
  ``drain_events(timeout=2.0)`` calls — and 5.7 drains once more after seeing it (loops.py
  ``synloop``: ``try: maybe_shutdown() finally: _loop_cycle()``). On kombu's virtual transports
  (sqla, PGMQ) each drain polls, then sleeps ``polling_interval`` (1 s) between polls; PGMQ's
  drain long-polls each consumed queue in turn, up to 2 s each. So an idle worker needed 2–4 s
  (sqla) or 8–11 s (PGMQ). Here the consumer's drain returns at once once the flag is set, without
  polling again (no message is taken after the signal), and its poll sleep ends within
  ``STEP`` seconds of it; on PGMQ no further queue's long poll is started. Only at those points —
  after a poll found nothing, or before one starts, so no message is between the table and
  Celery — is the drain cut short. A long poll already running (PGMQ, up to 2 s) is let finish.
* Celery 5.2 raised the shutdown from inside its signal handler when the process had one thread
  (the solo pool): fast, but anywhere — between kombu's sqla ``_get`` marking a row invisible and
  returning it (the message is then lost: the row stays invisible forever), or in the middle of a
  task already acknowledged. Here 5.2 takes the flag path it takes with several threads.
* Celery acknowledges a message through the consumer's "pending operations", which its loop
  performs between drains. Celery 5.2's consumer shutdown did not perform what was still pending,
  so a task that ran while the worker stopped (solo: the one running at SIGTERM; prefork: those the
  pool finished during the warm shutdown) was put back although it had run — it ran twice. 5.7
  performs them first (``Consumer.shutdown``); here 5.2 does too (a no-op on 5.7: nothing is left).
* billiard's pool threads sleep 0.8–1 s between checks, and the pool's close and terminate join
  them; Celery's timer thread (ETA tasks) sleeps up to 2 s, and its stop joins it. Here those
  sleeps end when the pool is closed or the timer stopped. The pool's children are not touched:
  each still reports its exit and waits up to 1 s for the parent to end it, as billiard wants.

Nothing here changes what a message becomes: a SIGKILL still loses what an sqla worker holds,
a PGMQ message still comes back after its visibility timeout. Every hook is wrapped: a Celery or
kombu without the expected names is left as it is.
"""
import os
import socket
import sys
import threading
import time

#: The longest the consumer's poll sleep runs on after the shutdown flag is set, in seconds.
STEP = 0.05
_state = {'consumer': None, 'draining': False}
_pool_closed = threading.Event()
_timer_stopped = threading.Event()


class _Stop(BaseException):
    """Raised at the consumer's poll sleep once the worker is stopping; never leaves this module."""


def install():
    for hook in (_hook_drain, _hook_transport_sleep, _hook_celery52, _hook_pending_acks, _hook_pool, _hook_timer):
        try:
            hook()
        except Exception:
            pass


def _stopping():
    from celery.worker import state
    # The flags hold an exit code once set, and EX_OK is 0: compare by identity, as Celery does.
    return any(v is not None and v is not False for v in (state.should_stop, state.should_terminate))


def _hook_drain():
    import kombu
    from celery import signals

    def remember(sender=None, **kwargs):
        _state['consumer'] = sender  # worker_ready's sender is the consumer (5.2 and 5.7)

    signals.worker_ready.connect(remember, weak=False)
    original = kombu.Connection.drain_events

    def drain_events(self, **kwargs):
        consumer = _state['consumer']
        mine = consumer is not None and self is getattr(consumer, 'connection', None)
        if mine and _stopping():
            raise socket.timeout()  # what an empty drain raises: the loop goes on to its shutdown
        outer = _state['draining']
        _state['draining'] = mine  # a task's own connection, drained inside ours, is not cut
        try:
            return original(self, **kwargs)
        except _Stop:
            raise socket.timeout()
        finally:
            _state['draining'] = outer

    kombu.Connection.drain_events = drain_events


def _sleep(seconds):
    """The poll sleep of kombu's virtual transports: ends early only in the consumer's drain."""
    if not _state['draining'] or threading.current_thread() is not threading.main_thread():
        return time.sleep(seconds)
    end = time.monotonic() + seconds
    while True:
        if _stopping():
            raise _Stop()
        left = end - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(left, STEP))


def _hook_transport_sleep():
    from kombu.transport.virtual import base
    base.sleep = _sleep
    # PGMQ's transport (kombu 5.7) has its own drain loop and its own `sleep`; patched when the
    # worker uses it, without importing it (and its driver) otherwise.
    pgmq = sys.modules.get('kombu.transport.pgmq')
    if pgmq is None:
        from celery import signals
        signals.worker_ready.connect(lambda **kw: _hook_pgmq_sleep(), weak=False)
    else:
        _hook_pgmq_sleep()


def _hook_pgmq_sleep():
    pgmq = sys.modules.get('kombu.transport.pgmq')
    if pgmq is None or getattr(pgmq, '_quickstop', False):
        return
    pgmq._quickstop = True
    if hasattr(pgmq, 'sleep'):
        pgmq.sleep = _sleep
    # One drain long-polls each consumed queue in turn (FairCycle; each poll up to 2 s): once the
    # worker is stopping, the next queue's poll is not started. Nothing is read, nothing taken.
    original = pgmq.Channel._get_bulk

    def _get_bulk(self, *args, **kwargs):
        if _state['draining'] and _stopping():
            raise _Stop()
        return original(self, *args, **kwargs)

    pgmq.Channel._get_bulk = _get_bulk


def _hook_celery52():
    from celery.apps import worker
    # 5.2's handler raises the shutdown in place when this count is 1 (see the module's text);
    # 5.3+ has no such function and always sets the flag.
    if hasattr(worker, 'active_thread_count'):
        worker.active_thread_count = lambda: 2


def _sleep_until(event, pid):
    """A helper thread's sleep that ends when `event` is set (then 50 ms steps, never a spin)."""
    def sleep(seconds):
        # Pool children (forked: another pid) and the main thread sleep as before.
        if seconds <= 0 or os.getpid() != pid or threading.current_thread() is threading.main_thread():
            return time.sleep(seconds)
        if event.wait(seconds):
            time.sleep(min(seconds, STEP))  # the thread's loop ends at its next check
        return None
    return sleep


def _hook_pending_acks():
    from celery.worker.consumer import consumer
    original = consumer.Consumer.shutdown

    def shutdown(self):
        perform = getattr(self, 'perform_pending_operations', None)
        if perform is not None:
            perform()  # the acks of tasks that ran, before the connection gives back the unacked
        return original(self)

    consumer.Consumer.shutdown = shutdown


class _PoolClock(object):
    """billiard.pool's `time`, with the pool threads' sleep cut short once the pool closes."""

    def __init__(self, pid):
        self.sleep = _sleep_until(_pool_closed, pid)

    def __getattr__(self, name):
        return getattr(time, name)


def _hook_pool():
    import billiard.pool as pool
    pool.time = _PoolClock(os.getpid())
    for name in ('close', 'terminate'):
        original = getattr(pool.Pool, name)

        def closing(self, _original=original):
            _pool_closed.set()
            return _original(self)

        setattr(pool.Pool, name, closing)


def _hook_timer():
    from celery.utils import timer2
    timer2.sleep = _sleep_until(_timer_stopped, os.getpid())
    original = timer2.Timer.stop

    def stop(self):
        _timer_stopped.set()
        return original(self)

    timer2.Timer.stop = stop
