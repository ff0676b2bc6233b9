"""People's own choices: the language they are served in, on SQLite and PostgreSQL."""
import pytest

from storage import get_language, set_language


def test_nothing_recorded_is_none(session_factory):
    with session_factory() as s:
        assert get_language(s, "U1") is None


def test_a_persons_choice_beats_slacks_locale(session_factory):
    with session_factory.begin() as s:
        assert set_language(s, "U1", "en", "slack_locale") is True
    with session_factory.begin() as s:
        assert set_language(s, "U1", "fr", "conversation") is True
    with session_factory.begin() as s:
        assert set_language(s, "U1", "en", "slack_locale") is False  # the person chose French
    with session_factory() as s:
        assert get_language(s, "U1") == "fr"
    with session_factory.begin() as s:
        assert set_language(s, "U1", "en", "app_home") is True
        assert set_language(s, "U1", "en", "app_home") is False  # unchanged
    with session_factory() as s:
        assert get_language(s, "U1") == "en"


def test_slacks_locale_follows_slack_until_the_person_chooses(session_factory):
    with session_factory.begin() as s:
        set_language(s, "U2", "en", "slack_locale")
        assert set_language(s, "U2", "fr", "slack_locale") is True
    with session_factory() as s:
        assert get_language(s, "U2") == "fr"


@pytest.mark.parametrize("user, language, source", [
    ("", "fr", "conversation"), ("U1", "", "conversation"), ("U1", "french-canadian", "conversation"),
    ("U1", "fr", "guess"), ("U1", None, "conversation"),
])
def test_bad_values_are_refused(session_factory, user, language, source):
    with session_factory.begin() as s:
        with pytest.raises(ValueError):
            set_language(s, user, language, source)


def test_two_first_choices_at_once_leave_one_row(session_factory):
    import threading

    barrier, results, errors = threading.Barrier(8), [], []

    def choose(language):
        try:
            with session_factory.begin() as s:
                barrier.wait(5)
                results.append(set_language(s, "U3", language, "slack_locale"))
        except Exception as exc:  # a duplicate-key error here is the bug
            errors.append(exc)

    threads = [threading.Thread(target=choose, args=("fr" if i % 2 else "en",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and len(results) == 8
    with session_factory() as s:
        assert get_language(s, "U3") in ("en", "fr")
