"""A purchase in French from the first DM to the decision, clicked through in a browser: a
French-speaking requester (language fr in the policy, so the stand-in's Slack locale is fr-CA)
types and clicks in French, a price she writes the English way is refused in French, the
English-speaking manager approves the post in English, and the requester is told in French."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from browser_kit import APPROVALS, bot_messages, by_ts, click, say, switch_to

REQUESTER = "U09NADIA"  # Nadia Roy, language fr; she approves nothing in the ESDC pack
# Cost centre 100300, whose manager Kwame Mensah reads English. Not 100200: the other browser tests
# count Amina's approvals in the shared approval channel.
MANAGER, CENTRE = "U04KWAME", "100300 Modernisation du versement des prestations"
SUPPLIER = "Renaud-Bray"  # no other browser test names it: no splitting check, no post another test looks for


def test_a_french_purchase_approved_by_an_english_manager(stack, open_page, shots):
    policy = stack.policy.rules
    assert policy.people[REQUESTER].language == "fr" and policy.people[MANAGER].language == "en"
    page = open_page(stack.standin, REQUESTER)
    expect(page.get_by_test_id("composer")).to_be_visible()

    asked = say(page, f"j'ai besoin d'acheter une boîte de stylos chez {SUPPLIER}",
                "Quel centre de coûts paie l'achat?")
    expect(bot_messages(page, "J'ai classé cet achat dans la catégorie").last).to_contain_text("Fournitures de bureau")
    shots.take(page, "asked-the-cost-centre-in-french")
    asked = click(page, asked, CENTRE, "Combien vous en faut-il?")
    asked = say(page, "2", "Combien coûte un article, avant taxes?")
    # A decimal point where French writes a comma: refused, and told why in French with a French example.
    refused = say(page, "1 234.50 $", "Je ne peux pas lire")
    expect(refused).to_contain_text("« 1 234.50 $ »")
    expect(refused).to_contain_text(re.compile(r"ses chiffres ne sont pas groupés de la façon habituelle "
                                               r"\(par exemple 1\s234,50\)"))
    expect(refused).not_to_contain_text("digits")
    shots.take(page, "price-refused-in-french")
    asked = say(page, "25 $", "Où sera-t-il livré?")
    asked = click(page, asked, "Ontario", "Pour quelle date en avez-vous besoin?")
    asked = say(page, "15 décembre", "Pourquoi en avez-vous besoin?")
    asked = say(page, "pour les ateliers de planification de l'équipe", "ancien fonctionnaire")
    asked = click(page, asked, "Non", "Répertoire des entreprises autochtones")
    summary = click(page, asked, "Je ne sais pas", "Voici votre demande")
    expect(summary).to_contain_text(re.compile(r"56,50\s\$"))  # 2 × 25,00 $ + 13 % TVH
    expect(summary).to_contain_text("TVH")
    expect(summary).to_contain_text(SUPPLIER)
    expect(summary.get_by_role("button", name="Soumettre")).to_have_class("btn primary")
    shots.take(page, "summary-in-french")
    submitted = click(page, summary, "Soumettre", "Soumise MB-")
    expect(submitted).to_contain_text("Elle attend l'approbation de Kwame Mensah")
    reference = re.search(r"MB-\d+", submitted.inner_text()).group(0)
    shots.take(page, "submitted-in-french")

    # Kwame reads English: the post, judged again in her language, findings and their sources included.
    switch_to(page, MANAGER)
    page.get_by_test_id(f"nav-channel-{APPROVALS}").click()
    post = by_ts(page, bot_messages(page, reference).last)
    expect(post).to_contain_text("Purchase justification")
    expect(post).to_contain_text("pour les ateliers de planification de l'équipe")  # her answer, as she typed it
    expect(post).to_contain_text(policy.indigenous_business.source["en"])
    expect(post).not_to_contain_text(policy.indigenous_business.source["fr"])
    expect(post).not_to_contain_text("Justification d'achat")
    shots.take(page, "english-manager-sees-the-post")
    post.get_by_role("button", name="Approve").click()
    expect(post).to_contain_text("Approved by @Kwame Mensah")
    expect(post.get_by_role("button", name="Approve")).to_have_count(0)
    shots.take(page, "english-manager-approved")

    switch_to(page, REQUESTER)
    page.get_by_test_id("nav-dm").click()
    told = bot_messages(page, f"{reference} a été approuvée par").last
    expect(told).to_contain_text("Vous pouvez maintenant l'acheter")
    expect(told.get_by_role("button", name="J'ai fait l'achat")).to_be_visible()
    expect(told).not_to_contain_text("was approved")
    shots.take(page, "requester-told-approved-in-french")
    page.get_by_test_id("nav-home").click()
    expect(page.locator("#home")).to_contain_text("Vos demandes d'achat")
    expect(page.locator("#home")).to_contain_text(reference)
    shots.take(page, "requester-home-tab-in-french")
