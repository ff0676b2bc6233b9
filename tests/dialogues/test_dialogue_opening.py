"""dialogues/opening.py: what a first message says, read the way staff write it (issue 16's
examples; the benchmark's corpus, bench/first_messages.yml, is held out of these)."""
from __future__ import annotations

import pytest

from dialogues.opening import read_opening, said_as_one, weak_item, weak_supplier
from dialogues.places import province_of_place
from policies import load_policy
from policies.loader import policy_path


@pytest.fixture(scope="module")
def policy():
    return load_policy(policy_path())


@pytest.mark.parametrize("text, language, expected", [
    ("I need to order 3 Logitech C920 webcams from Best Buy at $89.99 each for the Digital Service team "
     "(cost centre 100200), delivered to our Ottawa office", "en",
     {"cost_centre": "100200", "province": "ON", "unit_price": "89.99", "supplier": "Best Buy",
      "item": "Logitech C920 webcams"}),
    ("i need 3 boxes of printer paper from walmart at 49.97 each", "en",
     {"unit_price": "49.97", "supplier": "walmart", "item": "boxes of printer paper"}),
    ("Can you set up an order for 6 ergonomic chairs from Staples Business Depot, unit price $420, charge 100300?",
     "en", {"cost_centre": "100300", "unit_price": "420.00", "supplier": "Staples Business Depot"}),
    ("Achat : 12 cahiers, Bureau en Gros, 6,49 $ chacun, centre de coûts 100200", "fr",
     {"cost_centre": "100200", "unit_price": "6.49", "item": "cahiers", "supplier": "Bureau en Gros"}),
    ("Il me faut un tableau de liège pour le bureau, 85 $ chez Staples, centre de coûts 100300", "fr",
     {"cost_centre": "100300", "unit_price": "85.00", "supplier": "Staples", "item": "tableau de liège",
      "quantity": 1}),
    ("Good morning. I need to renew our team's Miro subscription, it's 1,200 a year", "en",
     {"unit_price": "1200.00", "item": "Miro subscription"}),
    ("a plain-language editor to review our FAQ page, 10 hours at $95/hour", "en",
     {"quantity": 10, "unit_price": "95.00", "item": "plain-language editor"}),
    ("trois chaises de bureau chez Bureau en Gros pour l'équipe BDM, 240 $ chacune, livrées à Gatineau", "fr",
     {"cost_centre": "100300", "province": "QC", "unit_price": "240.00", "quantity": 3,
      "supplier": "Bureau en Gros"}),
])
def test_the_facts_of_an_opening_message(policy, text, language, expected):
    assert read_opening(text, policy, language).values == expected


@pytest.mark.parametrize("text, supplier", [
    ("need envelopes asap, 500 count box, $32, Uline", "Uline"),  # ending the message
    ("coffee and muffins for the session, Tim Hortons, probably $120 total", "Tim Hortons"),  # beside an amount
    ("30 lanyards from 4imprint, $2.10 ea", "4imprint"),  # a name may start with a digit
    ("un consultant pour 5 jours à 1 100 $ par jour, fournisseur : Solutions Nordiq", "Solutions Nordiq"),
    ("correction d'un bogue, prix fixe 2 000 $, payé à Ana Costa", "Ana Costa"),
    ("12 cahiers, 6,49 $ chacun, Bureau en Gros", "Bureau en Gros"),
    ("3 chairs for the team, $40 each, Thanks", None),  # a courtesy is no supplier
    ("3 chairs, Digital Service, $40 each", None),  # nor a team
    ("3 chairs, Moncton, $40 each", None),  # nor a place
    ("12 cahiers, 6,49 $ chacun", None),  # nor the decimals of a French amount
])
def test_a_supplier_named_without_from(policy, text, supplier):
    assert read_opening(text, policy, "fr" if "$ " in text or "à" in text else "en").values.get("supplier") == supplier


@pytest.mark.parametrize("text, item", [
    ("I'd like to get a docking station. $289.99 at Dell", "docking station"),
    ("hi, 3 chairs for the Digital Service team, $40 each", "chairs"),
    ("12 cahiers, Bureau en Gros, 6,49 $ chacun", "cahiers"),
])
def test_the_item_without_a_verb_of_wanting_first(policy, text, item):
    assert read_opening(text, policy, "en").values.get("item") == item


def test_a_total_with_no_count_is_one_unit_at_that_price(policy):
    opening = read_opening("need a box of sticky notes and some sharpies from grand & toy, maybe $40 total", policy)
    assert opening.values["unit_price"] == "40.00" and opening.values["quantity"] == 1
    assert opening.values["supplier"] == "grand & toy"


def test_a_flat_fee_is_one_unit(policy):
    opening = read_opening("I'd like to hire a freelance accessibility auditor for a 2-day review of our app, "
                           "$1,800 flat fee", policy)
    assert opening.values["unit_price"] == "1800.00" and opening.values["quantity"] == 1


def test_a_total_for_several_that_divides_evenly_gives_the_unit_price(policy):
    assert read_opening("4 monitor arms, $500 total", policy).values["unit_price"] == "125.00"


@pytest.mark.parametrize("text, why", [
    ("5 ergonomic keyboards, $650", "each or in all"),
    ("3 headsets, $100 in total", "a total that does not divide evenly"),
    ("2 chairs at $300 each, about $650 with everything", None),  # the one said per unit wins
])
def test_a_reading_that_could_go_two_ways_is_left_to_the_question(policy, text, why):
    opening = read_opening(text, policy)
    if why is None:
        assert opening.values["unit_price"] == "300.00"
    else:
        assert "unit_price" not in opening.values and opening.unsure["unit_price"] == why


@pytest.mark.parametrize("text, count", [
    ("a dozen whiteboard markers", 12), ("two dozen pens", 24), ("une douzaine de crayons", 12),
    ("a couple of USB hubs", 2), ("headset x 2", 2), ("cinq agrafeuses", 5),
])
def test_counts_in_words(policy, text, count):
    assert read_opening(text, policy).values["quantity"] == count


def test_a_team_name_or_its_initials_names_the_cost_centre(policy):
    assert read_opening("for the Digital Service team", policy).values["cost_centre"] == "100200"
    assert read_opening("pour Modernisation du versement des prestations", policy, "fr").values["cost_centre"] \
        == "100300"
    assert read_opening("charge it to BDM", policy).values["cost_centre"] == "100300"
    # A number that is not one of the pack's cost centres is not taken for one.
    assert "cost_centre" not in read_opening("order 999999 please", policy).values


@pytest.mark.parametrize("text, code", [
    ("delivered to our Ottawa office", "ON"), ("livré à Moncton", "NB"), ("in Quebec City", "QC"),
    ("St. John's", "NL"), ("from Best Buy", None),
])
def test_places(text, code):
    assert province_of_place(text) == code


@pytest.mark.parametrize("text, supplier", [
    ("whiteboard markers + erasers, $31.47 all in, staples, for room 4B", "staples"),  # no cue, lower case
    ("billet de train VIA Rail pour vendredi, 74 $", "VIA Rail"),
    ("Kit for the new hire, Staples Business Depot, $40", "Staples Business Depot"),  # the longest name
    ("Dell P2723D monitor for my desk", None),  # a brand before its model is not who sells it
    ("Figma Professional for the designers", None),
    ("ergonomic keyboards for the team", None),
])
def test_a_usual_supplier_named_without_a_cue(policy, text, supplier):
    opening = read_opening(text, policy)
    said = opening.values.get("supplier") or opening.fallback.get("supplier")
    assert said == supplier


def test_the_openings_own_item_is_no_place_and_keeps_no_count(policy):
    opening = read_opening("Logitech MX Keys keyboards x3 ($139.99 ea) - Best Buy - Ottawa office", policy)
    assert (opening.values.get("item") or opening.fallback.get("item")) == "Logitech MX Keys keyboards"
    assert opening.values["quantity"] == 3 and opening.values["province"] == "ON"


@pytest.mark.parametrize("text, item", [
    ("Hill Times subscription renewal - $459/yr - by Dec 31", "Hill Times subscription renewal"),
    ("Otter.ai Pro for interview transcription — $16.99/month", "Otter.ai Pro"),  # no label before a dash
    ("Re: flipchart paper - 3 pads, $42.99 each", "flipchart paper"),  # a label word, then the thing
    ("Plain language editing of the benefits letter templates - Clear Words Editing, $85/hr",
     "Plain language editing of the benefits letter templates"),
])
def test_an_item_that_opens_the_message_before_a_dash(policy, text, item):
    opening = read_opening(text, policy)
    assert (opening.values.get("item") or opening.fallback.get("item")) == item


@pytest.mark.parametrize("value, weak", [
    ("Saturday", True), ("décembre", True), ("registration", True), ("Service", True),  # of "Digital Service"
    ("Loblaws", False), ("Agile Pathways", False), ("Service Canada Print Shop", False), (None, False),
])
def test_a_supplier_the_nlu_found_that_sells_nothing(policy, value, weak):
    assert weak_supplier(value, policy) is weak


def test_a_usual_suppliers_whole_name_after_a_cue(policy):
    opening = read_opening("2 train tickets via Rail, $156 each", policy)
    assert opening.values["supplier"] == "via Rail"  # "via" is a cue, and the start of VIA Rail
    opening = read_opening("Demande d'achat : 2 billets de train, Via Rail, 156 $ chacun", policy, "fr")
    assert (opening.values.get("supplier") or opening.fallback.get("supplier")) == "Via Rail"


def test_nothing_said_reads_nothing(policy):
    for text in ("", "hi", "I need to buy something", "bonjour", "/start_purchase", '/inform{"item": "pens"}'):
        opening = read_opening(text, policy)
        assert opening.values == {} and opening.fallback == {}, text


@pytest.mark.parametrize("text", ["buy stuff", "I want to order some things", "je veux acheter des trucs",
                                  "Order stuff for the office", "besoin de trucs"])
def test_a_word_for_something_is_no_item(policy, text):
    opening = read_opening(text, policy)
    assert "item" not in opening.values and "item" not in opening.fallback


@pytest.mark.parametrize("text, quantity", [
    ("I need to order a webcam from Best Buy, $89.99", 1), ("il me faut un casque d'écoute, 59 $", 1),
    ("I need to order a box of pens", None), ("I need to order 2 webcams", None),
])
def test_a_thing_said_as_one_is_one(policy, text, quantity):
    assert read_opening(text, policy).values.get("quantity") == quantity


def test_a_day_rate_and_a_number_of_days(policy):
    opening = read_opening("Need a consultant for 3 days to review our service blueprint, $1,200/day", policy)
    assert opening.values["quantity"] == 3 and opening.values["unit_price"] == "1200.00"


@pytest.mark.parametrize("text, why", [
    ("need pens asap because we ran out of them", "we ran out of them"),
    ("Achat de 10 clés USB à 14,99 $ parce que les sessions en région n'ont pas accès au réseau",
     "les sessions en région n'ont pas accès au réseau"),
    ("a book from Indigo because the team is moving to pandas. CC 100300", "the team is moving to pandas"),
    ("I need it as soon as possible", None), ("a webcam as usual", None), ("3 chairs since Monday", None),
    ("need a new mouse asap because mine broke", "mine broke"),
    ("Un micro-casque, 89 $, pour remplacer le mien qui grésille", "remplacer le mien qui grésille"),
    ("Il faut un disque externe pour que l'équipe puisse garder ses vidéos", "l'équipe puisse garder ses vidéos"),
    ("order two tripods so we can film the training videos", "we can film the training videos"),
    ("Need a laptop stand, $40 (mine is cracked)", "mine is cracked"),
])
def test_the_reason_after_because_is_the_justification(policy, text, why):
    assert read_opening(text, policy).values.get("justification") == why


@pytest.mark.parametrize("text, slot, value", [
    ("Commande de 40 tasses réutilisables chez Ikea, 3 $ chacune", "quantity", 40),  # a count in digits
    ("Team breakfast for the retro on Thursday, Bridgehead, $8 per person", "item", "Team breakfast"),
    ("carte SIM prépayée pour le téléphone de terrain, 25 $", "item", "carte SIM prépayée"),
    ("Laminating pouches, 200 count box, Grand & Toy, $29", "quantity", None),  # a pack size, no count
    ("Catering for Tuesday's open house from Hinterland Catering, $300 total", "needed_by", "Tuesday"),
    ("Un gâteau pour demain, Pâtisserie Dumas, 45 $", "needed_by", "demain"),
    ("hey, happy Friday! I need a USB hub, $30", "needed_by", None),
])
def test_fallback_readings_when_the_nlu_found_nothing(policy, text, slot, value):
    """A count in digits, an item that opens the message, a day: kept only where no entity gave one."""
    opening = read_opening(text, policy, "fr" if "é" in text or "Un " in text else "en")
    assert opening.fallback.get(slot) == value
    assert slot not in opening.values


@pytest.mark.parametrize("text, supplier, plain", [
    ("need a parking pass through Impark, $120/month", "Impark", True),
    ("2 webcams, $80 each, from Memory Express", "Memory Express", True),
    ("a banner for the job fair printed by Print Three, $140", "Print Three", False),
    ("Booking the venue w/ Ottawa Art Gallery for Dec 3, $600", "Ottawa Art Gallery", False),
    ("Photos pour le lancement : Studio Nordik a soumis 900 $", "Studio Nordik", False),
    ("On a besoin de 5 rallonges électriques, 22 $ chacune", None, False),  # "On": no supplier
    ("deux écouteurs chez Centre Hi-Fi, 39 $ chacun", "Centre Hi-Fi", True),  # "centre" is no stop here
    ("de l'espace disque sur Google Cloud, environ 20 $ par mois", "Google Cloud", False),
    ("can we order sandwiches for the briefing? Lunch Box Deli, ~$140", "Lunch Box Deli", False),
    ("Révision du rapport, Plume Claire inc., 65 $/h", "Plume Claire inc", False),  # the full stop is dropped
    ("a webinar on accessibility, $50", None, False),
    ("un gâteau pour le départ de Louise, 48 $", None, False),  # a first name after "de" is no firm
    ("Dinner for the visiting team at Moncton, $200", None, False),  # a place is no supplier
])
def test_a_supplier_and_how_plainly_it_is_named(policy, text, supplier, plain):
    opening = read_opening(text, policy)
    assert opening.values.get("supplier") == supplier
    assert ("supplier" in opening.sure) == plain


@pytest.mark.parametrize("text, quantity, price", [
    ("Need 3 Zoom Webinar add-ons at $79/month each", None, "79.00"),
    ("location d'une voiture électrique, 10 mois à 420 $/mois", 10, "420.00"),
    ("Licence Tableau pour 3 analystes, 75 $ par utilisateur par mois", None, "75.00"),
    ("5 rallonges à 12,49 $ ch. chez Canac", 5, "12.49"),  # a count that opens the message decides
    ("Toner HP 58A, 3 x $129, Staples", 3, "129.00"),  # "N x $P": N at P each
    ("Mural for the team, $9.99 per member monthly, 10 members", None, "9.99"),
    ("the 2026 Canadian Tax Guide from Carswell, $210", None, "210.00"),  # a year is no count
    ("an accessibility audit, Fable quoted $3,900, due before the Feb 20 launch", 1, "3900.00"),
])
def test_monthly_prices_units_and_numbers_that_are_no_count(policy, text, quantity, price):
    opening = read_opening(text, policy, "fr" if "$ " in text or "ch." in text else "en")
    assert opening.values.get("unit_price") == price
    assert opening.values.get("quantity") == quantity


@pytest.mark.parametrize("text, item, one", [
    ("I'd like to get a $25 gift card for the volunteer", "gift card", True),
    ("Achat d'une licence Visio pour la planification, 310 $", "licence Visio", True),
    ("I want to take the CISSP exam, $749", "CISSP exam", True),
    ("need markers, $12", "markers", False),
    ("3 staplers, $9 each", "staplers", False),  # a count is given
    ("I need to buy a box of pens from Staples for about $25", "box of pens", False),  # one box, but how many pens?
])
def test_an_item_said_as_one(text, item, one):
    assert said_as_one(text, item) is one


@pytest.mark.parametrize("value, weak", [
    ("hours", True), ("Jours", True), ("couple of", True), ("rames à", True), ("Registering", True),
    ("Training request", True), ("users", True), ("standing desk", False), ("licence Visio", False),
    ("box of pens", False), (None, False), ("It", True), ("ça", True),
    ("ok", True), ("paquets", True), ("- Ottawa office", True), ("Enterprise", True),  # a usual supplier
])
def test_an_item_the_nlu_found_that_names_nothing_bought(value, weak):
    assert weak_item(value) is weak


@pytest.mark.parametrize("value, message, weak", [
    ("Marc", "Il faut des fleurs pour le départ de Marc, 60 $", True),  # a first name after "de"
    ("Logitech", "a Logitech keyboard, $80", False),  # a brand said as the thing
])
def test_a_first_name_is_no_item(value, message, weak):
    assert weak_item(value, message) is weak


@pytest.mark.parametrize("value, supplier, weak", [
    ("Fleurs de Lys", "Fleurs de Lys florist", True),  # who sells it, not what is bought
    ("Clear Words Editing", "Clear Words Editing", True),
    ("pizza", "Gabriel's Pizza", False),  # a word of the supplier's name can still be the thing
    ("flowers", "Fleurs de Lys florist", False),
])
def test_the_supplier_is_no_item(value, supplier, weak):
    assert weak_item(value, "", supplier) is weak


@pytest.mark.parametrize("text, item", [
    ("Registration for the Agile Coaching workshop, 2 seats, $250 each", "Agile Coaching workshop"),
    ("Abonnement annuel à Canva Pro pour les communications, 165 $/an", "Canva Pro"),
    ("Subscription to The Economist, $189/yr", "Economist"),  # the article goes, as in any item
])
def test_a_phrase_saying_how_it_is_bought_is_read_past(policy, text, item):
    opening = read_opening(text, policy)
    assert (opening.values.get("item") or opening.fallback.get("item")) == item


@pytest.mark.parametrize("text, language, slot, value", [
    ("hey all, 4 HDMI adapters please, $15 each", "en", "item", "HDMI adapters"),
    ("The comms team needs 6 tripod stands, $35 each", "en", "item", "tripod stands"),
    ("On voudrait embaucher un illustrateur pour le rapport, 900 $", "fr", "item", "illustrateur"),
    ("Je voudrais passer l'examen ITIL 4, 450 $", "fr", "item", "examen ITIL 4"),
    ("inscription au cours « Excel avancé » de la Cité collégiale, 300 $", "fr", "item", "cours « Excel avancé »"),
    ("2 return tickets w/ VIA Rail, $95 each", "en", "supplier", "VIA Rail"),
    ("I need the CSM exam voucher from Scrum.org, $150", "en", "supplier", "Scrum.org"),
    ("a copy of the standard from the Canadian Standards Association, $120", "en", "supplier",
     "Canadian Standards Association"),
    ("Re: onboarding kit - 5 lanyards, $3 each", "en", "item", None),  # the label is no item...
    ("Could we expense a Notion team plan? $8/user/month", "en", "item", "Notion team plan"),
])
def test_openings_that_name_things_less_plainly(policy, text, language, slot, value):
    assert read_opening(text, policy, language).values.get(slot) == value


@pytest.mark.parametrize("text, item", [
    ("Re: 5 lanyards for the onboarding kit, $3 each", "lanyards"),  # ...what follows it is
    ("Objet : casques d'écoute, 2 à 79 $", "casques d'écoute"),
    ("Chez Costco : 6 caisses d'eau, 5,99 $ chacune", "caisses d'eau"),
    ("Kindle edition of Sprint, $18, for our book club", "Kindle edition of Sprint"),  # "book club" is no verb
])
def test_the_item_after_a_label(policy, text, item):
    opening = read_opening(text, policy, "fr" if "$ " in text or " : " in text else "en")
    assert opening.fallback.get("item") == item


def test_a_count_with_a_thousands_comma(policy):
    opening = read_opening("Proofreading of the annual report, 12,000 words at $0.04/word", policy)
    assert opening.values["unit_price"] == "0.04" and opening.fallback["quantity"] == 12000
