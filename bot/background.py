"""Work the Slack app does on a timer, in a daemon thread of its own: the reminder runs
(bot/reminders.py) and the look at the policy file (bot/policy_watch.py).

    thread = every(300, job, name="microbuy-reminders", first_now=True)
    thread.stop.set()                                   # ends it at its next wait

One loop for both, so that both keep going the same way: a job that raises is logged and the
next run goes ahead (a database or Slack outage must not end reminders for good).
"""
from __future__ import annotations

import logging
import threading
from typing import Callable, Optional

log = logging.getLogger(__name__)


def every(interval_s: float, job: Callable[[], None], *, name: str, first_now: bool = False,
          stop: Optional[threading.Event] = None) -> threading.Thread:
    """Run `job` every `interval_s` seconds (the first time at once with `first_now`) in a daemon
    thread until `stop` (also the thread's `.stop`) is set."""
    if not interval_s > 0:
        raise ValueError("interval_s must be more than 0")
    stop = stop or threading.Event()

    def loop() -> None:
        if not first_now and stop.wait(interval_s):
            return
        while not stop.is_set():
            try:
                job()
            except Exception:  # never let one bad run end the loop
                log.exception("%s failed; trying again in %s s", name, interval_s)
            stop.wait(interval_s)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
