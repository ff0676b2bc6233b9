"""Every text the Slack app writes itself, in English and French, by message id.

    t("approvals.rejected", "fr", reference="MB-000042", who=mention("U01AMINA"), reason=typed)

`t` gives Slack mrkdwn: every value is escaped (`bot.mrkdwn.escape`) unless it is `Raw`, text
already safe for mrkdwn (a `<@U...>` mention from `mention`, or a piece `t` made). `plain` gives
the same text with values as they are, for plain_text fields (buttons, modal titles) and for
the audit log. Placeholders are named (`{reference}`); the same ones in every language
(tests/bot/test_bot_languages.py holds the catalogue to that).

The requester's own answers are passed in as values and so are never translated, only escaped.
Texts a policy admin writes (level names, findings) come from the policy in the reader's
language; the conversation's texts come from the dialogue (dialogues/project/domain.yml).

French follows Government of Canada usage: "demande d'achat", "approbateur", "centre de coûts",
"fournisseur", "attestation de réception (article 34)"; a space before ":", none before ";",
"?" or "!" (Canadian practice).
"""
from __future__ import annotations

import re
import string
from typing import Dict, Iterable, Optional

from .mrkdwn import escape

LANGUAGES = ("en", "fr")
FALLBACK = "en"
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


class Raw(str):
    """Text already safe for mrkdwn: printed by `t` as it is."""


def mention(user_id: Optional[str]) -> Raw:
    """A live mention for a Slack user id; anything else becomes inert text."""
    user_id = user_id or ""
    return Raw(f"<@{user_id}>" if USER_ID.match(user_id) else escape(user_id))


def mentions(user_ids: Iterable[str], language: str) -> Raw:
    """"<@A> or <@B>" in `language`, each person once."""
    people = list(dict.fromkeys(u for u in user_ids if u))
    return Raw(plain("word.or", language).join(mention(u) for u in people))


def language_of(language: Optional[str]) -> str:
    return language if language in LANGUAGES else FALLBACK


def t(key: str, language: Optional[str], **values: object) -> Raw:
    """The message `key` in `language` as mrkdwn, its values escaped (Raw values as they are)."""
    safe = {name: value if isinstance(value, Raw) else escape(value) for name, value in values.items()}
    return Raw(_template(key, language).format_map(safe))


def plain(key: str, language: Optional[str], **values: object) -> str:
    """The message `key` in `language` with its values as given (plain_text, the audit log)."""
    return _template(key, language).format_map({name: str(value) for name, value in values.items()})


def template(key: str, language: Optional[str]) -> str:
    """The message `key` in `language` unfilled, for a caller that fills it with safe values."""
    return _template(key, language)


def placeholders(template: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _template(key: str, language: Optional[str]) -> str:
    texts = TEXTS[key]
    return texts.get(language_of(language)) or texts[FALLBACK]


TEXTS: Dict[str, Dict[str, str]] = {
    # -- small words --------------------------------------------------------------------------------
    "word.or": {"en": " or ", "fr": " ou "},
    "language.en": {"en": "English", "fr": "English"},  # each language is named in itself
    "language.fr": {"en": "Français", "fr": "Français"},

    # -- the conversation (bot/conversation.py, listeners) -------------------------------------------
    "conversation.rasa_down": {
        "en": ("Sorry, I can't reach the purchase assistant right now, so nothing was done with your message. "
               "Please try again in a minute."),
        "fr": ("Désolé, je ne peux pas joindre l'assistant d'achat pour le moment; votre message n'a donc pas "
               "été traité. Veuillez réessayer dans une minute."),
    },
    "conversation.you_chose": {"en": "You chose: *{title}*", "fr": "Vous avez choisi : *{title}*"},
    # What /buy with text says to the dialogue for the person (plain, never shown).
    "command.buy": {"en": "I need to buy {text}", "fr": "J'ai besoin d'acheter {text}"},

    # -- the approval post (bot/approvals.py) ---------------------------------------------------------
    "approvals.button.approve": {"en": "Approve", "fr": "Approuver"},
    "approvals.button.reject": {"en": "Reject", "fr": "Refuser"},
    "approvals.button.request_changes": {"en": "Request changes", "fr": "Demander des changements"},
    "approvals.waiting": {
        "en": "*Waiting for:* {who} ({level}), step {number} of {count}",
        "fr": "*En attente de :* {who} ({level}), étape {number} de {count}",
    },
    "approvals.fallback": {"en": "{reference} is waiting for {who}: {summary}",
                           "fr": "{reference} attend la décision de {who} : {summary}"},
    "approvals.revised": {"en": "*Revised (revision {revision}); what changed:*",
                          "fr": "*Révisée (révision {revision}); ce qui a changé :*"},
    "approvals.superseded": {"en": "~{reference}~ was changed by the requester: revision {revision} is posted "
                                   "anew for approval, and this post's buttons no longer count.",
                             "fr": "~{reference}~ a été modifiée par le demandeur : la version {revision} est "
                                   "publiée de nouveau pour approbation, et les boutons de ce message ne comptent "
                                   "plus."},
    "approvals.lowered": {"en": "*Changed after approval (revision {revision}): a lower total, nothing else; "
                                "the approval stands.*",
                          "fr": "*Modifiée après l'approbation (version {revision}) : un total moins élevé, rien "
                                "d'autre; l'approbation est maintenue.*"},
    "approvals.lowered_tell_approver": {
        "en": "{who} lowered the total of {reference}, which you approved, to {total}; nothing else changed, "
              "so your approval stands.",
        "fr": "{who} a réduit à {total} le total de la demande {reference}, que vous avez approuvée; rien "
              "d'autre n'a changé, votre approbation est donc maintenue."},
    "approvals.change_line": {"en": "• {field}: {old} → {new}", "fr": "• {field} : {old} → {new}"},
    "approvals.still_approved": {
        "en": "{reference} changed and is still within what was approved; no new approval is needed.",
        "fr": ("{reference} a été modifiée et reste dans les limites de ce qui a été approuvé; aucune nouvelle "
               "approbation n'est nécessaire."),
    },
    "approvals.outcome.approved": {"en": "✅ Approved by {who} on {when}", "fr": "✅ Approuvée par {who} le {when}"},
    "approvals.outcome.rejected": {"en": "❌ Rejected by {who} on {when}", "fr": "❌ Refusée par {who} le {when}"},
    "approvals.outcome.changes_requested": {"en": "↩️ Changes requested by {who} on {when}",
                                            "fr": "↩️ Changements demandés par {who} le {when}"},
    "approvals.outcome.reason": {"en": "{line}: {reason}", "fr": "{line} : {reason}"},
    "approvals.on_behalf": {"en": "{who} (for {absent})", "fr": "{who} (au nom de {absent})"},
    "approvals.next_step": {
        "en": "{reference} was approved by {who}; it now goes to {next} ({level}).",
        "fr": "{reference} a été approuvée par {who}; elle passe maintenant à {next} ({level}).",
    },
    "approvals.approved": {
        "en": "✅ {reference} was approved by {who}. You may buy it now; tell me when it's bought.",
        "fr": "✅ {reference} a été approuvée par {who}. Vous pouvez maintenant l'acheter; "
              "dites-moi quand ce sera fait.",
    },
    "approvals.rejected": {"en": "❌ {reference} was rejected by {who}.",
                           "fr": "❌ {reference} a été refusée par {who}."},
    "approvals.rejected_because": {"en": "❌ {reference} was rejected by {who}: {reason}",
                                   "fr": "❌ {reference} a été refusée par {who} : {reason}"},
    "approvals.changes": {"en": "↩️ {who} asked for changes to {reference}.",
                          "fr": "↩️ {who} a demandé des changements à {reference}."},
    "approvals.changes_because": {"en": "↩️ {who} asked for changes to {reference}: {reason}",
                                  "fr": "↩️ {who} a demandé des changements à {reference} : {reason}"},
    "approvals.not_recorded_db": {
        "en": ("Your decision could NOT be recorded (the database is not answering). Nothing changed; please "
               "click again in a minute."),
        "fr": ("Votre décision n'a PAS pu être enregistrée (la base de données ne répond pas). Rien n'a changé; "
               "veuillez cliquer de nouveau dans une minute."),
    },
    "approvals.too_long": {
        "en": "… (too long for one Slack message; the full request is in microbuy)",
        "fr": "… (trop long pour un seul message Slack; la demande complète est dans microbuy)",
    },
    # The reason modal (Slack allows 24 characters in a modal's title and buttons).
    "reason.title.rejected": {"en": "Reject", "fr": "Refuser"},
    "reason.title.changes_requested": {"en": "Request changes", "fr": "Demander des changements"},
    "reason.cancel": {"en": "Cancel", "fr": "Annuler"},
    "reason.not_opened": {"en": "The form for your reason did not open in time, so nothing was recorded; "
                                "please click the button again.",
                          "fr": "Le formulaire pour votre motif ne s'est pas ouvert à temps; rien n'a été "
                                "enregistré. Cliquez de nouveau sur le bouton."},
    "reason.label.rejected": {"en": "Why is it rejected?", "fr": "Pourquoi la demande est-elle refusée?"},
    "reason.label.changes_requested": {"en": "What should the requester change?",
                                       "fr": "Que doit modifier le demandeur?"},
    "reason.fields": {"en": "Answers the requester should give again",
                      "fr": "Réponses que le demandeur doit fournir de nouveau"},
    "reason.missing": {"en": "Please give a reason; the requester will read it.",
                       "fr": "Veuillez donner une raison; le demandeur la lira."},
    # The answers an approver may send back (checkboxes) and the "what changed" lines.
    "field.description": {"en": "What is bought", "fr": "Ce qui est acheté"},
    "field.supplier": {"en": "Supplier", "fr": "Fournisseur"},
    "field.quantity": {"en": "Quantity", "fr": "Quantité"},
    "field.unit_price": {"en": "Unit price", "fr": "Prix unitaire"},
    "field.province": {"en": "Delivery province", "fr": "Province de livraison"},
    "field.needed_by": {"en": "Needed-by date", "fr": "Date de besoin"},
    "field.justification": {"en": "Operational need", "fr": "Besoin opérationnel"},
    "field.category": {"en": "Category", "fr": "Catégorie"},
    "field.cost_centre": {"en": "Cost centre", "fr": "Centre de coûts"},
    "field.payment_method": {"en": "Payment method", "fr": "Mode de paiement"},

    # -- refusals: a click that is not recorded, and why ---------------------------------------------
    "refused.click": {"en": "Your click was not recorded: {why}", "fr": "Votre clic n'a pas été enregistré : {why}"},
    "refused.not_done": {"en": "Not done: {why}", "fr": "Rien n'a été fait : {why}"},
    "refused.bad_button": {"en": "this button was not made by microbuy",
                           "fr": "ce bouton n'a pas été créé par microbuy"},
    "refused.bad_form": {"en": "this form was not made by microbuy",
                         "fr": "ce formulaire n'a pas été créé par microbuy"},
    "refused.not_found": {"en": "purchase request {request} does not exist",
                          "fr": "la demande d'achat {request} n'existe pas"},
    "refused.self_decision": {"en": "{who} requested {reference} and cannot decide on it",
                              "fr": "{who} a présenté la demande {reference} et ne peut pas en décider"},
    "refused.second_step": {"en": "{who} already decided another step of {reference}; step {number} needs "
                                  "someone else (one person never approves two steps)",
                            "fr": "{who} a déjà décidé d'une autre étape de la demande {reference}; l'étape {number} "
                                  "exige une autre personne (une même personne n'approuve jamais deux étapes)"},
    "refused.edited": {
        "en": "{reference} was edited since this was sent (revision {revision}, now {current}); "
              "decide on the current version",
        "fr": ("{reference} a été modifiée depuis l'envoi de ce message (révision {revision}, maintenant {current}); "
               "décidez sur la version actuelle"),
    },
    "refused.cancelled": {"en": "{reference} was cancelled by the requester",
                          "fr": "{reference} a été annulée par le demandeur"},
    "refused.already_decided": {
        "en": "{reference} was already decided: {outcome} by {who} at step {number} ({level})",
        "fr": "{reference} a déjà fait l'objet d'une décision : {outcome} par {who} à l'étape {number} ({level})",
    },
    "refused.not_awaiting": {"en": "{reference} is no longer awaiting approval (status: {status})",
                             "fr": "{reference} n'attend plus d'approbation (état : {status})"},
    "refused.step_done": {"en": "step {number} ({level}) of {reference} was already approved by {who}",
                          "fr": "l'étape {number} ({level}) de {reference} a déjà été approuvée par {who}"},
    "refused.other_step": {"en": "{reference} is waiting for approval step {current}, not step {number}",
                           "fr": "{reference} attend l'étape d'approbation {current}, et non l'étape {number}"},
    "refused.not_routed": {
        "en": "{who} is not an approver or delegate for step {number} ({level}) of {reference}",
        "fr": "{who} n'est ni approbateur ni délégué pour l'étape {number} ({level}) de {reference}",
    },
    "refused.changed_meanwhile": {"en": "{reference} changed while this decision was being recorded",
                                  "fr": "{reference} a changé pendant l'enregistrement de cette décision"},
    # Storage's own sentence, for a refusal the bot has no message of its own for (it is English).
    "refused.other": {"en": "{why}", "fr": "{why} (message du système, en anglais)"},
    "refused.only_requester_purchase": {"en": "only the person who asked for {reference} can report its purchase",
                                        "fr": "seule la personne qui a demandé {reference} peut en déclarer l'achat"},
    "refused.only_requester_receipt": {"en": "only the person who asked for {reference} can report its receipt",
                                       "fr": "seule la personne qui a demandé {reference} "
                                             "peut en déclarer la réception"},
    "refused.button_changed": {
        "en": "{reference} was changed since this button was sent (revision {revision}, now {current}); "
              "use the newest message about it",
        "fr": ("{reference} a été modifiée depuis l'envoi de ce bouton (révision {revision}, maintenant {current}); "
               "utilisez le message le plus récent à son sujet"),
    },
    "refused.form_changed": {
        "en": "{reference} was changed since this form was opened (revision {revision}, now {current}); "
              "nothing was recorded",
        "fr": ("{reference} a été modifiée depuis l'ouverture de ce formulaire (révision {revision}, maintenant "
               "{current}); rien n'a été enregistré"),
    },
    "refused.not_approved": {"en": "{reference} is not approved (status: {status}); "
                                   "only an approved request can be bought",
                             "fr": "{reference} n'est pas approuvée (état : {status}); "
                                   "seule une demande approuvée peut être achetée"},
    "refused.wrong_status": {"en": "this cannot be done now: {reference} has the status {status}",
                             "fr": "impossible pour le moment : {reference} est à l'état {status}"},
    "refused.self_certify": {"en": "{who} requested {reference} and cannot certify its receipt",
                             "fr": "{who} a présenté la demande {reference} et ne peut pas en attester la réception"},
    "refused.not_on_route": {"en": "{who} is not an approver or delegate on {reference}'s route",
                             "fr": "{who} n'est ni approbateur ni délégué "
                                   "dans le circuit d'approbation de {reference}"},
    "refused.db": {"en": "the database is not answering; nothing was recorded. Please try again in a minute.",
                   "fr": "la base de données ne répond pas; rien n'a été enregistré. "
                         "Veuillez réessayer dans une minute."},
    "outcome.approved": {"en": "approved", "fr": "approuvée"},
    "outcome.rejected": {"en": "rejected", "fr": "refusée"},
    "outcome.changes_requested": {"en": "changes requested", "fr": "changements demandés"},

    # -- after approval (bot/delivery.py) -------------------------------------------------------------
    "delivery.approved": {
        "en": "✅ {reference} was approved. You may buy it now; when it's bought, tell me what you paid.",
        "fr": "✅ {reference} a été approuvée. Vous pouvez maintenant l'acheter; "
              "une fois l'achat fait, indiquez-moi le montant payé.",
    },
    "delivery.approved_by": {
        "en": "✅ {reference} was approved by {who}. You may buy it now; when it's bought, tell me what you paid.",
        "fr": ("✅ {reference} a été approuvée par {who}. Vous pouvez maintenant l'acheter; une fois l'achat fait, "
               "indiquez-moi le montant payé."),
    },
    "delivery.button.bought": {"en": "I bought it", "fr": "J'ai fait l'achat"},
    "delivery.button.change": {"en": "Change the request", "fr": "Modifier la demande"},
    "delivery.button.received": {"en": "Received it", "fr": "J'ai reçu la commande"},
    "delivery.button.certify": {"en": "Certify receipt (section 34)", "fr": "Attester la réception (article 34)"},
    "delivery.what": {"en": "{title} from {supplier}", "fr": "{title} (fournisseur : {supplier})"},
    "delivery.no_amount": {"en": "no amount", "fr": "aucun montant"},
    "delivery.modal.title": {"en": "Report the purchase", "fr": "Déclarer l'achat"},
    "delivery.modal.submit": {"en": "Report", "fr": "Déclarer"},
    "delivery.modal.close": {"en": "Cancel", "fr": "Annuler"},
    "delivery.modal.intro": {
        "en": "*{reference}*: {what}\nApproved for at most *{approved}*, tax included. Keep the receipt.",
        "fr": "*{reference}* : {what}\nApprouvée pour au plus *{approved}*, taxes comprises. Conservez le reçu.",
    },
    "delivery.modal.amount": {"en": "Amount actually paid, tax included",
                              "fr": "Montant réellement payé, taxes comprises"},
    "delivery.modal.amount_hint": {"en": "As on the receipt; at most {approved}.",
                                   "fr": "Tel qu'indiqué sur le reçu; au plus {approved}."},
    "delivery.modal.amount_example": {"en": "e.g. 24.99", "fr": "p. ex. 24,99"},
    "delivery.modal.date": {"en": "Date of purchase", "fr": "Date de l'achat"},
    "delivery.modal.amount_invalid": {
        "en": "Not an amount I can read. Type the amount paid in figures, such as 24.99.",
        "fr": "Ce montant est illisible. Tapez le montant payé en chiffres, par exemple 24,99.",
    },
    # Why the amount paid was refused: one text per code of the policy's amount reader
    # (policies/money.py REASONS), with its values; {example} is an amount written the reader's way.
    "amount.missing": {"en": "Type the amount paid, such as 24.99.", "fr": "Tapez le montant payé, par exemple 24,99."},
    "amount.not_text": {"en": "Type the amount paid in figures, such as 24.99.",
                        "fr": "Tapez le montant payé en chiffres, par exemple 24,99."},
    "amount.not_digits": {"en": "It has characters that are not digits. Type the amount in figures, such as 24.99.",
                          "fr": "Il contient des caractères qui ne sont pas des chiffres. "
                                "Tapez le montant en chiffres, par exemple 24,99."},
    "amount.too_long": {"en": "That is too long to be an amount. Type just the number, such as 24.99.",
                        "fr": "C'est trop long pour un montant. Tapez seulement le nombre, par exemple 24,99."},
    "amount.not_a_number": {"en": "That is not a number. Type the amount paid, such as 24.99.",
                            "fr": "Ce n'est pas un nombre. Tapez le montant payé, par exemple 24,99."},
    "amount.negative": {"en": "The amount must be more than zero, not negative.",
                        "fr": "Le montant doit être supérieur à zéro, pas négatif."},
    "amount.scientific": {"en": "Write the amount in full (such as {example}), not in scientific notation.",
                          "fr": "Écrivez le montant au long (par exemple {example}), pas en notation scientifique."},
    "amount.not_an_amount": {"en": "That is not an amount. Type the amount paid in figures, such as 24.99.",
                             "fr": "Ce n'est pas un montant. Tapez le montant payé en chiffres, par exemple 24,99."},
    "amount.unreadable": {"en": "Not an amount I can read. Type it like {example}.",
                          "fr": "Ce montant est illisible. Tapez-le comme {example}."},
    "amount.not_real": {"en": "The amount must be a real number, such as 24.99.",
                        "fr": "Le montant doit être un nombre réel, par exemple 24,99."},
    "amount.too_large": {"en": "That amount is far too large for a micro-purchase; check the number.",
                         "fr": "Ce montant est beaucoup trop élevé pour un micro-achat; vérifiez le nombre."},
    "amount.zero": {"en": "The amount must be more than zero.", "fr": "Le montant doit être supérieur à zéro."},
    "amount.other_currency": {"en": "The amount is in {currency}; give it in {expected}.",
                              "fr": "Le montant est en {currency}; indiquez-le en {expected}."},
    "delivery.modal.date_future": {"en": "The purchase date cannot be after today.",
                                   "fr": "La date de l'achat ne peut pas être postérieure à aujourd'hui."},
    "delivery.modal.date_missing": {"en": "Pick the day you bought it.", "fr": "Choisissez la date de l'achat."},
    "delivery.modal.too_much": {
        "en": "More than the {approved} approved. An increase must be approved first; nothing was recorded.",
        "fr": "Dépasse le montant approuvé de {approved}. Toute augmentation doit d'abord être approuvée; "
              "rien n'a été enregistré.",
    },
    "delivery.form_not_opened": {"en": "The form did not open in time; please click *I bought it* again.",
                                 "fr": "Le formulaire ne s'est pas ouvert à temps; "
                                       "cliquez de nouveau sur *J'ai fait l'achat*."},
    "delivery.paid_line": {"en": "Paid {paid} on {day} (approved up to {approved}).",
                           "fr": "Montant payé : {paid}, le {day} (approuvé jusqu'à {approved})."},
    "delivery.recorded": {
        "en": "🛒 Recorded: *{reference}* ({what}). {line}\nKeep the receipt. "
              "When the goods or services have arrived as ordered, tell me:",
        "fr": ("🛒 Enregistré : *{reference}*, {what}. {line}\nConservez le reçu. Quand les biens ou services "
               "seront arrivés comme commandés, dites-le-moi :"),
    },
    "delivery.recorded_short": {"en": "Recorded: {reference} bought. Tell me when it has arrived.",
                                "fr": "Achat de {reference} enregistré. Dites-moi quand vous l'aurez reçu."},
    "delivery.purchase_reported": {"en": "🛒 Purchase reported. {line}", "fr": "🛒 Achat déclaré. {line}"},
    "delivery.not_recorded": {"en": "Not recorded: {paid} is more than the {approved} approved for {reference}.",
                              "fr": "Non enregistré : {paid} dépasse le montant approuvé "
                                    "de {approved} pour {reference}."},
    "delivery.too_much": {
        "en": ("⚠️ *Not recorded:* {paid} is more than the *{approved}* approved for *{reference}*. A section 32 "
               "approval is for a maximum amount, so an increase must be approved *before* it is paid."),
        "fr": ("⚠️ *Non enregistré :* {paid} dépasse le montant approuvé de *{approved}* pour *{reference}*. Une "
               "approbation en vertu de l'article 32 vaut pour un montant maximal; une augmentation doit donc être "
               "approuvée *avant* le paiement."),
    },
    "delivery.too_much_next": {
        "en": ("• *Typed it wrong?* Correct the amount in the form; it is still open.\n"
               "• *The price really is higher?* Do not pay more than {approved}. The request has to be changed to the "
               "new amount, which sends it back for approval; the approval you have no longer covers it. Use *Change "
               "the request* on the approval message, or tell {who}. {reference} stays approved for up to {approved} "
               "until then."),
        "fr": ("• *Erreur de frappe?* Corrigez le montant dans le formulaire; il est encore ouvert.\n"
               "• *Le prix est vraiment plus élevé?* Ne payez pas plus de {approved}. La demande doit être modifiée "
               "pour le nouveau montant, ce qui la renvoie à l'approbation; l'approbation obtenue ne le couvre plus. "
               "Utilisez *Modifier la demande* dans le message d'approbation, ou avisez {who}. D'ici là, {reference} "
               "reste approuvée jusqu'à {approved}."),
    },
    "delivery.approved_maximum": {"en": "the approved maximum", "fr": "le maximum approuvé"},
    "delivery.your_approver": {"en": "your approver", "fr": "votre approbateur"},
    "delivery.an_approver": {"en": "an approver", "fr": "un approbateur"},
    "delivery.receipt_reported": {
        "en": "📦 Receipt reported on {day}. {who} is asked to certify it (section 34).",
        "fr": "📦 Réception déclarée le {day}. {who} doit maintenant l'attester (article 34).",
    },
    "delivery.certify_please": {"en": "Please certify receipt of {reference} (section 34).",
                                "fr": "Veuillez attester la réception de {reference} (article 34)."},
    "delivery.certify_what": {
        "en": "*Section 34: certify receipt of {reference}*\n{requester} received {what} on {day}. {line}",
        "fr": "*Article 34 : attestation de la réception de {reference}*\n{requester} a reçu {what} le {day}. {line}",
    },
    "delivery.certify_only_if": {
        "en": "Certify only if the goods or services were received as ordered and the price matches the receipt.",
        "fr": ("N'attestez la réception que si les biens ou services ont été reçus comme commandés et que le prix "
               "correspond au reçu."),
    },
    "delivery.certified": {"en": "✅ Certified by {who} on {day}.", "fr": "✅ Réception attestée par {who} le {day}."},
    "delivery.closed": {
        "en": "🏁 {reference} is closed: {who} certified receipt (section 34) on {day}. "
              "Keep the receipt with your card records.",
        "fr": ("🏁 {reference} est fermée : {who} a attesté la réception (article 34) le {day}. Conservez le reçu "
               "avec les pièces justificatives de votre carte d'achat."),
    },

    # -- reminders and escalation (bot/reminders.py) --------------------------------------------------
    "reminders.what": {"en": "{reference} ({title}, {total})", "fr": "{reference} ({title}, {total})"},
    "reminders.no_title": {"en": "(no title)", "fr": "(sans titre)"},
    "reminders.the_channel": {"en": "the approval channel", "fr": "le canal d'approbation"},
    "reminders.the_approver": {"en": "the approver", "fr": "l'approbateur"},
    "reminders.reminder": {
        "en": "Reminder: {what} has waited {hours} hours for your decision in {channel} "
              "({level}, step {number} of {count}).",
        "fr": ("Rappel : {what} attend votre décision depuis {hours} heures dans {channel} ({level}, étape {number} "
               "de {count})."),
    },
    "reminders.escalation": {
        "en": ("Escalation: {what} has waited {hours} hours for {waiting_for} ({level}) in {channel}. As {to_level}, "
               "you can now decide it in their place with the buttons on its post there, or follow up with them."),
        "fr": ("Escalade : {what} attend depuis {hours} heures la décision de {waiting_for} ({level}) dans {channel}. "
               "À titre de {to_level}, vous pouvez maintenant en décider à sa place avec les boutons de sa publication "
               "dans ce canal, ou faire un suivi auprès de cette personne."),
    },
    "reminders.escalated": {
        "en": "{what} has waited {hours} hours for {waiting_for}. "
              "I escalated it to {people} ({level}), who can now decide it too.",
        "fr": ("{what} attend depuis {hours} heures la décision de {waiting_for}. Je l'ai transmise à {people} "
               "({level}), qui peut maintenant en décider aussi."),
    },
    "reminders.nobody_higher": {
        "en": "{what} has waited {hours} hours for {waiting_for}. "
              "I reminded them; there is no higher level to escalate it to.",
        "fr": ("{what} attend depuis {hours} heures la décision de {waiting_for}. Je lui ai envoyé un rappel; il n'y a "
               "aucun niveau supérieur auquel la transmettre."),
    },

    # -- policy edits (bot/policy_watch.py): the admin channel in the pack's default language ---------
    "policy.in_force": {
        "en": ":white_check_mark: Policy *{version}* is now in force (was {previous}), from `{file}`.",
        "fr": ":white_check_mark: La politique *{version}* est maintenant en vigueur (auparavant {previous}), "
              "tirée de `{file}`.",
    },
    "policy.not_checked": {"en": "I could not check the pending requests against it; see the bot's log.",
                           "fr": "Je n'ai pas pu vérifier les demandes en attente selon cette politique; "
                                 "consultez le journal du bot."},
    "policy.flagged": {
        "en": "{count} request(s) waiting for a decision are judged differently now; their approvers were told:",
        "fr": "{count} demande(s) en attente de décision sont maintenant évaluées différemment; "
              "leurs approbateurs en ont été avisés :",
    },
    "policy.flag_line": {"en": "• {reference} (waiting for a decision): {what}",
                         "fr": "• {reference} (en attente de décision) : {what}"},
    "policy.heads_up": {
        "en": ("Heads-up on {reference}, waiting for your decision: the policy changed (version {version}) and now "
               "judges it differently: {what}. It was submitted under the old rules; decide with that in mind "
               "(Request changes lets the requester revise it)."),
        "fr": ("À noter au sujet de {reference}, en attente de votre décision : la politique a changé (version "
               "{version}) et l'évalue maintenant différemment : {what}. La demande a été soumise selon les anciennes "
               "règles; tenez-en compte dans votre décision (« Demander des changements » permet au demandeur de la "
               "réviser)."),
    },
    "policy.refused": {
        "en": (":warning: The edit of `{file}` was refused; the rules in force stay (version {version}). Fix it and "
               "save again; `microbuy policy check` shows the same:\n```{report}```"),
        "fr": (":warning: La modification de `{file}` a été refusée; les règles en vigueur restent "
               "(version {version}). "
               "Corrigez le fichier et enregistrez-le de nouveau; `microbuy policy check` affiche le même rapport :"
               "\n```{report}```"),
    },
    "policy.total": {"en": "total {before} → {after}", "fr": "total {before} → {after}"},
    "policy.route": {"en": "approval route {routes}", "fr": "circuit d'approbation {routes}"},
    "policy.no_route": {"en": "none", "fr": "aucun"},
    "policy.outcome.approval_required": {"en": "goes to approval", "fr": "passe à l'approbation"},
    "policy.outcome.blocked": {"en": "blocked", "fr": "bloquée"},
    "policy.outcome.refused": {"en": "refused", "fr": "refusée"},

    # -- App Home (bot/home.py) -----------------------------------------------------------------------
    "home.header": {"en": "Your purchase requests", "fr": "Vos demandes d'achat"},
    "home.intro": {"en": "Your {count} most recent requests, newest first.",
                   "fr": "Vos {count} demandes les plus récentes, de la plus récente à la plus ancienne."},
    "home.none": {"en": "You have no purchase requests yet. Message me what you need to buy, or type /buy.",
                  "fr": "Vous n'avez encore aucune demande d'achat. "
                        "Écrivez-moi ce que vous devez acheter, ou tapez /buy."},
    "home.start": {"en": "To start a new one, message me what you need to buy, or type /buy.",
                   "fr": "Pour en commencer une, écrivez-moi ce que vous devez acheter, ou tapez /buy."},
    "home.total": {"en": "Total", "fr": "Total"},
    "home.status": {"en": "Status", "fr": "État"},
    "home.waiting": {"en": "Waiting for", "fr": "En attente de"},
    "home.step": {"en": "step {number} of {count}", "fr": "étape {number} de {count}"},
    "home.submitted_on": {"en": "submitted {day}", "fr": "soumise le {day}"},
    "home.you_buy": {"en": "you may buy it; report the purchase", "fr": "vous pouvez l'acheter; déclarez l'achat"},
    "home.your_changes": {"en": "your changes", "fr": "vos modifications"},
    "home.you_submit": {"en": "you to send it for approval", "fr": "votre envoi pour approbation"},
    "home.report_receipt": {"en": "report receipt", "fr": "déclarer la réception"},
    "home.certification": {"en": "section 34 certification by {who}", "fr": "attestation selon l'article 34 par {who}"},
    "home.certification_any": {"en": "section 34 certification", "fr": "attestation selon l'article 34"},
    "home.to_decide": {"en": "Waiting for your decision", "fr": "En attente de votre décision"},
    "home.to_decide_intro": {"en": "Decide with the buttons on each request's post in the approval channel.",
                             "fr": "Décidez avec les boutons de chaque demande dans le canal d'approbation."},
    "home.requested_by": {"en": "requested by {who}", "fr": "demandée par {who}"},
    "home.as_delegate": {"en": "as delegate for {who}", "fr": "à titre de délégué de {who}"},
    "home.more": {"en": "… and {count} more waiting for you.",
                  "fr": "… et {count} autres en attente de votre décision."},
    "home.unavailable_header": {"en": "microbuy", "fr": "microbuy"},
    "home.unavailable": {
        "en": ("Your requests can't be shown right now (microbuy's database is not answering). "
               "Please open this tab again in a few minutes."),
        "fr": ("Vos demandes ne peuvent pas être affichées pour le moment (la base de données de microbuy ne répond "
               "pas). Rouvrez cet onglet dans quelques minutes."),
    },
    "home.no_title": {"en": "(no title)", "fr": "(sans titre)"},
    "status.draft": {"en": "Draft (not sent)", "fr": "Brouillon (non envoyée)"},
    "status.submitted": {"en": "Waiting for approval", "fr": "En attente d'approbation"},
    "status.approved": {"en": "Approved", "fr": "Approuvée"},
    "status.changes_requested": {"en": "Changes requested", "fr": "Modifications demandées"},
    "status.rejected": {"en": "Rejected", "fr": "Refusée"},
    "status.cancelled": {"en": "Cancelled", "fr": "Annulée"},
    "status.purchased": {"en": "Bought", "fr": "Achetée"},
    "status.received": {"en": "Received", "fr": "Reçue"},
    "status.certified": {"en": "Certified (section 34), done", "fr": "Attestée (article 34), terminée"},

    # -- who may use microbuy (bot/membership.py) -----------------------------------------------------
    "membership.refused": {
        "en": ("Sorry, only members of this workspace can use microbuy: guests and people from other "
               "organizations cannot make purchase requests or decide on them here."),
        "fr": ("Désolé, seuls les membres de cet espace de travail peuvent utiliser microbuy : les invités et les "
               "personnes d'autres organisations ne peuvent pas présenter de demandes d'achat ni en décider ici."),
    },
    "membership.unchecked": {
        "en": ("Sorry, microbuy cannot check right now that you are a member of this workspace, so nothing was "
               "done. Please try again in a few minutes."),
        "fr": ("Désolé, microbuy ne peut pas vérifier pour le moment que vous êtes membre de cet espace de travail; "
               "rien n'a été fait. Veuillez réessayer dans quelques minutes."),
    },
    "membership.close": {"en": "Close", "fr": "Fermer"},
}


def status_word(status: Optional[str], language: Optional[str]) -> str:
    """A request's status in words; an unknown one as stored."""
    key = f"status.{status}"
    return plain(key, language) if key in TEXTS else str(status or "")
