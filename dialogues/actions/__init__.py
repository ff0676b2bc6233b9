"""Custom actions, run by `rasa run actions --actions dialogues.actions`.

purchase_form: checks each answer; questions: questions worded from the policy and the summary;
changes: changing an answer; detours: help, why, status, "can I buy", cancel; submit: storing;
language: "en français svp".
"""
from . import changes, detours, language, purchase_form, questions, revision, submit  # noqa: F401  (registers the actions)
