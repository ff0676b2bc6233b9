"""Saves trackers for the action tests (trackers/*.json) from real conversations.

    .venv/bin/python tests/dialogues/capture_trackers.py            # every conversation below
    .venv/bin/python tests/dialogues/capture_trackers.py fr_summary_open

Starts `rasa run actions` and `rasa run` with the trained model on a fresh SQLite database, with a
recording proxy between them, runs each conversation below through the webhook (with the language
the Slack app would send as metadata), and saves the tracker Rasa sent with the named action in
the last turn, trimmed to what rasa_sdk.Tracker.from_dict reads. Run it again (and the action
tests) when the domain changes what Rasa sends.
"""
from __future__ import annotations

import json
import sys
import tempfile
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from actions_kit import CAPTURED_ON, TRACKERS  # noqa: E402
from rasa_stack import RasaStack, free_port, train_model  # noqa: E402

KEPT = ("sender_id", "slots", "latest_message", "events", "active_loop", "followup_action", "paused",
        "latest_event_time", "latest_input_channel", "latest_action_name")
PENS_FR = ["j'ai besoin d'acheter une boîte de stylos chez Bureau en Gros pour 25 $", "100200", "3", "Ontario",
           "15 décembre", "pour les séances de planification de l'équipe", "non", "non"]

# name -> (what it shows, the messages as (text, language), the action whose call is saved)
CONVERSATIONS: Dict[str, Tuple[str, List[Tuple[str, str]], str]] = {
    "fr_form_opening_keyboard": (
        "First message in French (metadata fr), the issue's example: item, supplier and a French amount "
        "given at once; the category is still to be guessed.",
        [("j'ai besoin d'acheter un clavier chez Bureau en Gros pour 80 $", "fr")], "validate_purchase_form"),
    "fr_form_price_french_amount": (
        "A French requester answers the price question with 1 234,50 $.",
        [("j'ai besoin d'une chaise ergonomique", "fr"), ("Fournitures de bureau", "fr"), ("100300", "fr"),
         ("Bureau en Gros", "fr"), ("1", "fr"), ("1 234,50 $", "fr")], "validate_purchase_form"),
    "fr_form_price_refused": (
        "A French requester answers the price question with 1 234.50 $ (a decimal point where French "
        "writes a comma), which the amount reader refuses.",
        [("j'ai besoin d'une chaise ergonomique", "fr"), ("Fournitures de bureau", "fr"), ("100300", "fr"),
         ("Bureau en Gros", "fr"), ("1", "fr"), ("1 234.50 $", "fr")], "validate_purchase_form"),
    "fr_form_needed_by_unreadable": (
        "A French requester answers the date question with words that are no date.",
        [("j'ai besoin d'une boîte de stylos chez Bureau en Gros pour 25 $", "fr"), ("100200", "fr"), ("2", "fr"),
         ("Québec", "fr"), ("un de ces jours", "fr")], "validate_purchase_form"),
    "fr_summary_open": (
        "Pens from Bureau en Gros, in French: every question answered; the summary is about to be shown.",
        [(text, "fr") for text in PENS_FR], "action_ask_confirm_submit"),
    "fr_submit_office_supplies": (
        "Pens from Bureau en Gros, in French: Submit pressed at the summary.",
        [(text, "fr") for text in PENS_FR + ["/affirm"]], "action_submit_purchase"),
    "fr_can_i_buy_banned": (
        "Can I buy ... in French, for a banned category (a flight).",
        [("est-ce que je peux payer un billet d'avion avec ma carte?", "fr")], "action_can_i_buy"),
    "fr_explain_question": (
        "Why are you asking this? in French, at the supplier question.",
        [("j'ai besoin d'un tableau blanc", "fr"), ("100200", "fr"), ("pourquoi tu me demandes ça?", "fr")],
        "action_explain"),
    "fr_check_status": (
        "What's the status of my requests? in French, with no request open.",
        [("où en sont mes demandes?", "fr")], "action_check_status"),
    "switch_language_during_form": (
        "English requester (metadata en) asks for French at the supplier question: the language named in the "
        "message, with the metadata still en.",
        [("I need a whiteboard", "en"), ("100200", "en"), ("en français svp", "en")], "action_switch_language"),
    "switch_language_unnamed": (
        "A French requester asks to change the language without naming one.",
        [("bonjour", "fr"), ("changer de langue", "fr")], "action_switch_language"),
}


class Recorder:
    """A proxy in front of the action server that keeps every call Rasa makes."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.calls: List[Dict[str, Any]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _forward(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if method == "POST" and self.path.endswith("/webhook"):
                    recorder.calls.append(json.loads(body))
                # Rasa's Authorization header (MICROBUY_ACTIONS_SECRET) passes through unread.
                headers = {"content-type": "application/json", "authorization": self.headers.get("authorization", "")}
                answer = httpx.request(method, recorder.target + self.path, content=body or None,
                                       headers=headers, timeout=60)
                self.send_response(answer.status_code)
                self.send_header("content-type", answer.headers.get("content-type", "application/json"))
                self.end_headers()
                self.wfile.write(answer.content)

            def do_GET(self):
                self._forward("GET")

            def do_POST(self):
                self._forward("POST")

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def trimmed(call: Dict[str, Any], about: str) -> Dict[str, Any]:
    import rasa

    tracker = call["tracker"]
    return {"_about": f"{about} Captured {date.today().isoformat()} (MICROBUY_TODAY={CAPTURED_ON}) from rasa "
                      f"{rasa.__version__} calling the action server.",
            "_next_action": call["next_action"], **{key: tracker.get(key) for key in KEPT}}


def capture(names: Optional[List[str]] = None) -> None:
    from storage.migrate import upgrade

    wanted = {name: CONVERSATIONS[name] for name in (names or CONVERSATIONS)}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'capture.db'}"
        upgrade(url)
        stack = RasaStack(url, train_model(), Path(folder))
        stack.start_actions()
        recorder = Recorder(f"http://127.0.0.1:{stack.actions_port}")
        stack.env["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{recorder.port}/webhook"
        stack.start_rasa()
        try:
            for number, (name, (about, messages, action)) in enumerate(wanted.items()):
                sender = f"TFR{number}:U09NADIA"  # a requester the policy knows; one conversation each
                for text, language in messages:
                    recorder.calls.clear()
                    stack.say(sender, text, language=language)
                call = next((c for c in recorder.calls if c["next_action"] == action), None)
                if call is None:
                    raise SystemExit(f"{name}: no call of {action} in the last turn; "
                                     f"calls: {[c['next_action'] for c in recorder.calls]}")
                path = TRACKERS / f"{name}.json"
                path.write_text(json.dumps(trimmed(call, about), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
                print(f"wrote {path}")
        finally:
            stack.stop()
            recorder.server.shutdown()


if __name__ == "__main__":
    capture(sys.argv[1:] or None)
