"""bot.render: Rasa's REST replies as Slack messages, escaped and within Slack's limits."""
import logging
import re

from bot.render import button_payload, render_replies

INJECTIONS = ["<!channel>", "<!here>", "<@U123>", "<https://evil.example|canada.ca>"]


def reply(text=None, buttons=None, **extra):
    item = {"recipient_id": "T1:U09NADIA", **extra}
    if text is not None:
        item["text"] = text
    if buttons is not None:
        item["buttons"] = buttons
    return item


def texts(message):
    return [block["text"]["text"] for block in message["blocks"] if block["type"] == "section"]


def elements(message):
    return [element for block in message["blocks"] if block["type"] == "actions" for element in block["elements"]]


def test_a_question_with_buttons_becomes_one_message():
    rendered = render_replies([reply("Here is your request:\n*Total:* $101.69", [
        {"title": "Submit", "payload": "/affirm"},
        {"title": "Change an answer", "payload": "/change_answer"},
        {"title": "Cancel", "payload": "/cancel"},
    ])])
    assert rendered.customs == []
    [message] = rendered.messages
    assert [block["type"] for block in message["blocks"]] == ["section", "actions"]
    assert texts(message) == ["Here is your request:\n*Total:* $101.69"]
    assert message["text"] == "Here is your request:\n*Total:* $101.69"
    submit, change, cancel = elements(message)
    assert submit == {"type": "button", "text": {"type": "plain_text", "text": "Submit", "emoji": True},
                      "value": "/affirm", "action_id": "rasa_button_0", "style": "primary"}
    assert cancel["style"] == "danger" and cancel["value"] == "/cancel" and cancel["action_id"] == "rasa_button_2"
    assert "style" not in change and change["action_id"] == "rasa_button_1"


def test_requester_text_in_rasa_replies_is_inert():
    summary = ("*Supplier:* Evil \u202eCo\u202c " + " ".join(INJECTIONS)
               + "\n*Description:* &lt;b&gt; R&D\u2066x\u2069")
    rendered = render_replies([reply(summary, [{"title": "Pick <!channel> & go", "payload": "yes"}])])
    [message] = rendered.messages
    shown = "\n".join(texts(message)) + message["text"] + elements(message)[0]["text"]["text"]
    for injection in INJECTIONS:
        assert injection not in shown
    assert "<" not in shown and ">" not in shown
    assert "&lt;!channel&gt;" in texts(message)[0]
    assert "&lt;https://evil.example|canada.ca&gt;" in texts(message)[0]
    assert "&amp;lt;b&amp;gt; R&amp;Dx" in texts(message)[0]
    assert "\u202e" not in shown and "\u2066" not in shown
    assert texts(message)[0].startswith("*Supplier:* Evil Co ")  # bold survives escaping
    assert elements(message)[0]["text"]["text"] == "Pick &lt;!channel&gt; &amp; go"


def test_a_long_text_is_split_into_sections_under_3000_at_line_breaks():
    lines = [f"{i:04d} " + "z" * 95 for i in range(70)]  # 7,069 characters
    [message] = render_replies([reply("\n".join(lines))]).messages
    sections = texts(message)
    assert len(sections) == 3
    assert all(len(text) <= 3000 for text in sections)
    assert "\n".join(sections).split("\n") == lines


def test_escaping_counts_toward_the_3000_limit():
    [message] = render_replies([reply("<" * 2000)]).messages  # 8,000 characters once escaped
    sections = texts(message)
    assert all(len(text) <= 3000 for text in sections)
    assert "".join(sections) == "&lt;" * 2000


def test_thirty_buttons_are_split_into_two_actions_blocks():
    buttons = [{"title": f"Option {i}", "payload": f"option_{i}"} for i in range(30)]
    [message] = render_replies([reply("Pick one", buttons)]).messages
    actions = [block for block in message["blocks"] if block["type"] == "actions"]
    assert [len(block["elements"]) for block in actions] == [25, 5]
    ids = [element["action_id"] for element in elements(message)]
    assert ids == [f"rasa_button_{i}" for i in range(30)]
    assert [element["value"] for element in elements(message)] == [f"option_{i}" for i in range(30)]


def test_sixty_sections_are_split_into_two_messages():
    replies = [reply(f"Message {i}") for i in range(60)]
    messages = render_replies(replies).messages
    assert [len(message["blocks"]) for message in messages] == [50, 10]
    assert texts(messages[0])[0] == "Message 0" and texts(messages[1])[-1] == "Message 59"
    assert messages[1]["text"].startswith("Message 50\n")


def test_button_text_is_cut_to_75_characters():
    [message] = render_replies([reply("Which?", [{"title": "A" * 100, "payload": "a"}])]).messages
    text = elements(message)[0]["text"]["text"]
    assert len(text) == 75 and text.endswith("…") and text.startswith("A" * 74)


def test_a_payload_over_2000_characters_is_dropped_with_a_warning(caplog):
    buttons = [{"title": "Too long", "payload": "x" * 2001}, {"title": "Just fits", "payload": "y" * 2000}]
    with caplog.at_level(logging.WARNING, logger="bot.render"):
        [message] = render_replies([reply("Choose", buttons)]).messages
    assert [element["text"]["text"] for element in elements(message)] == ["Just fits"]
    assert elements(message)[0]["action_id"] == "rasa_button_0"
    assert any("Too long" in record.getMessage() and "2001" in record.getMessage() for record in caplog.records)


def test_custom_payloads_are_returned_not_rendered():
    submitted = {"type": "submitted", "request_id": 42, "reference": "MB-000042",
                 "evaluation": {"outcome": "approval_required"}}
    rendered = render_replies([reply("Submitted MB-000042."), reply(custom=submitted),
                               reply(custom={"type": "error", "message": "x"})])
    assert rendered.customs == [submitted, {"type": "error", "message": "x"}]
    [message] = rendered.messages
    assert texts(message) == ["Submitted MB-000042."]
    assert "request_id" not in str(message)


def test_consecutive_texts_share_a_message_and_buttons_end_it():
    messages = render_replies([
        reply("That price is over the limit."),
        reply("What is the price of one unit?", [{"title": "Cancel", "payload": "/cancel"}]),
        reply("Anything else?"),
    ]).messages
    assert [[block["type"] for block in message["blocks"]] for message in messages] == [
        ["section", "section", "actions"], ["section"]]
    assert messages[0]["text"] == "That price is over the limit.\nWhat is the price of one unit?"


def test_action_ids_restart_in_each_message_and_are_unique_within_it():
    messages = render_replies([
        reply("First", [{"title": "Yes", "payload": "yes"}, {"title": "No", "payload": "no"}]),
        reply("Second", [{"title": "Yes", "payload": "yes"}]),
    ]).messages
    assert [[element["action_id"] for element in elements(message)] for message in messages] == [
        ["rasa_button_0", "rasa_button_1"], ["rasa_button_0"]]


def test_nothing_to_show_gives_no_message():
    assert render_replies([]).messages == []
    assert render_replies(None).messages == []
    assert render_replies([reply(""), "not an object"]).messages == []


def test_every_block_respects_slack_limits():
    replies = [reply("x\n" * 2000, [{"title": "T" * 90, "payload": f"p{i}"} for i in range(40)]) for _ in range(3)]
    for message in render_replies(replies).messages:
        assert 1 <= len(message["blocks"]) <= 50
        assert 0 < len(message["text"]) <= 3000
        ids = [element["action_id"] for element in elements(message)]
        assert len(ids) == len(set(ids))
        for block in message["blocks"]:
            if block["type"] == "section":
                assert 0 < len(block["text"]["text"]) <= 3000
            else:
                assert 1 <= len(block["elements"]) <= 25
                assert all(len(e["text"]["text"]) <= 75 and re.fullmatch(r"p\d+", e["value"])
                           for e in block["elements"])


def test_button_payload_reads_the_value_back():
    action = {"type": "button", "action_id": "rasa_button_0", "block_id": "b", "value": "/affirm",
              "text": {"type": "plain_text", "text": "Submit"}, "action_ts": "1.2"}
    assert button_payload(action) == "/affirm"
    [message] = render_replies([reply("Q", [{"title": "Ontario", "payload": '/inform{"province": "ON"}'}])]).messages
    assert button_payload(elements(message)[0]) == '/inform{"province": "ON"}'
    assert button_payload({"action_id": "rasa_button_0"}) == ""
