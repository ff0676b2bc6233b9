"""What the person's language costs a Slack request (bot/listeners/middleware.py, `Language`).

    .venv/bin/python bench/language.py [--runs N]

On a fresh SQLite database with the default pack (PolicyInForce, as `python -m bot` holds it), for
a known person whose Slack locale the membership check already handed over (`heard_from_slack`):
the lookup itself (`Languages.of`: one primary-key read, Slack not asked), what the middleware
does before Slack is acknowledged (`Language.process`: the lazy value only), and the lookup on
first use in the listener's thread. Milliseconds, median and 95th percentile of N runs.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

import storage
from bot.language import Languages
from bot.listeners.middleware import Language
from policies import DEFAULT_POLICY, PolicyInForce

KNOWN, CHOSE = "U04KWAME", "U09NADIA"


class NoSlack:
    """The app's client: the lookup must not ask Slack again (the membership check did)."""

    def users_info(self, **arguments):
        raise AssertionError("users.info asked a second time")


def timed(label: str, call, runs: int) -> None:
    for _ in range(min(runs, 200)):
        call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    samples.sort()
    print(f"{label:58s} {statistics.median(samples) * 1000:7.3f} ms  p95 {samples[int(runs * 0.95)] * 1000:7.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    runs = parser.parse_args().runs
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'microbuy.db'}"
    storage.upgrade(url)
    engine = storage.make_engine(url)
    policy = PolicyInForce(DEFAULT_POLICY)
    policy()
    languages = Languages(storage.make_session_factory(engine), policy)
    languages.heard_from_slack(KNOWN, "en-US")  # as MembersOnly hands it over
    languages.of(KNOWN, NoSlack())  # recorded (slack_locale) by the first request
    languages.choose(CHOSE, "fr", "conversation")
    languages.heard_from_slack(CHOSE, "en-US")

    timed("Languages.of, Slack locale recorded today", lambda: languages.of(KNOWN, NoSlack()), runs)
    timed("Languages.of, the person's own choice", lambda: languages.of(CHOSE, NoSlack()), runs)

    middleware, done = Language(SimpleNamespace(languages=languages, policy=policy)), BoltResponse(status=200)
    body = {"type": "block_actions", "user": {"id": KNOWN, "team_id": "T0"}, "team": {"id": "T0"},
            "actions": [{"action_id": "rasa_button_0", "value": "/affirm"}]}
    requests = [BoltRequest(body=body, mode="socket_mode") for _ in range(runs + min(runs, 200))]
    for request in requests:
        request.context["client"] = NoSlack()
    before, after = iter(requests), iter(requests)
    timed("Language.process (before the acknowledgement)",
          lambda: middleware.process(req=next(before), resp=done, next=lambda: done), runs)
    timed("language() on first use (in the listener's thread)", lambda: next(after).context["language"](), runs)
    engine.dispose()


if __name__ == "__main__":
    main()
