"""bot/background.py: the one timer loop of the reminders and the policy watch."""
import threading
import time

import pytest

from bot.background import every


def _runs_until(count, *, first_now, fail_first=0, interval=0.02):
    runs = []
    done = threading.Event()

    def job():
        runs.append(time.monotonic())
        if len(runs) >= count:
            done.set()
        if len(runs) <= fail_first:
            raise RuntimeError("a bad run")

    started = time.monotonic()
    thread = every(interval, job, name="test-loop", first_now=first_now)
    assert done.wait(5), f"only {len(runs)} runs"
    thread.stop.set()
    thread.join(5)
    return started, runs, thread


def test_first_now_runs_at_once_and_the_other_waits_an_interval():
    started, runs, _ = _runs_until(1, first_now=True, interval=0.5)
    assert runs[0] - started < 0.4
    started, runs, _ = _runs_until(1, first_now=False, interval=0.3)
    assert runs[0] - started >= 0.29


def test_a_run_that_raises_is_logged_and_the_next_goes_ahead(caplog):
    _, runs, thread = _runs_until(3, first_now=True, fail_first=2)
    assert len(runs) >= 3
    assert not thread.is_alive()
    assert "test-loop failed" in caplog.text


def test_stop_ends_the_loop_before_its_first_run():
    stop = threading.Event()
    ran = []
    thread = every(0.2, lambda: ran.append(1), name="test-loop", stop=stop)
    stop.set()
    thread.join(5)
    assert not thread.is_alive() and ran == []


@pytest.mark.parametrize("interval", [0, -1, float("nan")])
def test_an_interval_that_is_not_positive_is_refused(interval):
    with pytest.raises(ValueError):
        every(interval, lambda: None, name="test-loop")
