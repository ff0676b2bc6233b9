"""The relay when Rasa is not there: the requester is told, nothing is pretended."""
from slack_sdk import WebClient

from bot.conversation import RASA_DOWN, Conversation
from bot.rasa import RasaClient
from dialogues.stack import free_port
from standin import StandIn, Workspace


def test_rasa_down_is_told_to_the_requester():
    workspace = Workspace.from_people({"U09NADIA": ("Nadia Roy", "fr")})
    submitted = []
    with StandIn(workspace) as standin:
        client = WebClient(token=workspace.bot_token, base_url=standin.url)
        conversation = Conversation(RasaClient(f"http://127.0.0.1:{free_port()}", "never-sent-to-anyone", timeout=2),
                                    lambda _client, request_id: submitted.append(request_id))
        dm = conversation.dm_channel(client, "U09NADIA")
        conversation.relay(client, "T1", "U09NADIA", dm, "I need pens")
        said = [m.text for m in workspace.messages(dm) if m.bot_id]
    assert said == [RASA_DOWN] and submitted == []
