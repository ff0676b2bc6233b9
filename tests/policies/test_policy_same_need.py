"""The same-need measure (policies/same_need.py) with the ESDC pack's word lists: what is bought
decides, not how it is spelt, and the bands of the pack sort the pairs."""
import pytest

from policies.rules.splitting import need_words_of, score


@pytest.fixture(scope="module")
def measure(kit):
    words, drop = need_words_of(kit.rules)
    band = kit.rules.splitting.same_need
    return (lambda a, b: score(a, b, words, drop)), band


@pytest.mark.parametrize("a, b", [
    ("Ergonomic chairs for the Digital Service team", "Ergonomic office chairs (Digital Service)"),
    ("Ergonomic keyboards", "ergonimic keybaords x2"),  # misspelt
    ("Chaises ergonomiques", "chaise ergonomique, 1"),  # singular and plural
    ("Ergonomic chairs", "Chaises ergonomiques pour l'équipe"),  # translated
    ("Webcams", "webcams x4 for the BDM team, needed by Dec 15"),  # counts, teams, dates left out
    ("Laptop bags", "carrying cases for notebooks"),  # issue 19's: other words for one thing
    ("Survey tool subscription", "SurveyMonkey subscription"),  # a product beside what it is
    ("Laptops for new hires", "ThinkPad laptops, second batch"),
])
def test_the_same_need_in_other_words_is_at_the_block_band(measure, a, b):
    same, band = measure
    assert same(a, b) >= band.block
    assert same(b, a) == same(a, b)


@pytest.mark.parametrize("a, b", [
    ("Chair repair", "New chairs"),  # a repair is not a chair
    ("Printer paper", "Printer"),
    ("Laptop bags", "Laptops for new hires"),
    ("Coffee for the meeting", "Coffee machine"),
    ("12 notebooks for the Digital Service team", "12 pens for the Digital Service team"),
    ("Réparation de chaises", "chaises neuves"),
    ("Papier pour imprimante", "imprimante laser"),
    ("SurveyMonkey subscription, HR survey", "Qualtrics subscription, HR survey"),  # two products
    ("Abonnement au Devoir", "Abonnement à La Presse"),  # two titles
])
def test_different_needs_that_share_words_are_below_the_warning_band(measure, a, b):
    same, band = measure
    assert same(a, b) < band.warn


@pytest.mark.parametrize("a, b", [
    ("Laptop bags", "bags for the team"),  # one a kind of the other
    ("Mesh chairs", "Leather chairs"),  # the same thing, another kind of it
    ("Excel course", "Power BI course"),
    ("French translation of the report", "French translation of the website"),
])
def test_doubtful_pairs_are_left_to_the_approver(measure, a, b):
    same, band = measure
    assert band.warn <= same(a, b) < band.block


def test_a_description_with_nothing_telling_matches_nothing(measure):
    same, band = measure
    assert same("", "Ergonomic chairs") == 0
    assert same("x3 for the team", "12 for the team") < band.warn


def test_the_shared_vocabulary_reads_the_same_with_either_loader():
    # Read with the fast C loader; the round-trip loader, which packs use, must read it alike.
    from ruamel.yaml import YAML

    from policies.same_need import SHARED_VOCABULARY, shared_vocabulary

    groups = shared_vocabulary()
    text = SHARED_VOCABULARY.read_text(encoding="utf-8")
    assert [list(g) for g in YAML(typ="rt").load(text)["synonyms"]] == [list(g) for g in groups]
    assert len(groups) > 400 and all(group[0] == group[0].strip() for group in groups)


def test_a_pack_may_leave_the_shared_vocabulary_out(kit):
    words, drop = need_words_of(kit.rules)
    alone = kit.variant(("    synonyms: []\n", "    synonyms: []\n    shared_vocabulary: false\n"))
    bare, _ = need_words_of(alone.rules)
    # "carrying cases" names a laptop bag only through the shared vocabulary
    assert score("Laptop bags", "carrying cases for notebooks", words, drop) >= kit.rules.splitting.same_need.block
    assert score("Laptop bags", "carrying cases for notebooks", bare, drop) < kit.rules.splitting.same_need.warn
