"""What the customer reads on the hosted payment pages, in the LANGUAGE the order asked for.

Ogone's LANGUAGE is ``xx_XX`` (``fr_FR``, ``nl_BE``, ``it_IT``); the sandbox speaks English, French, German,
Dutch and Italian, and English for any other language. NCERROR texts stay in the platform's own (English)
wording, as in NCERRORPLUS. Templates take the texts as ``$t_<key>``.
"""
from __future__ import annotations

DEFAULT = "en"

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "note": "local test platform: no real payment happens here",
        "payment": "Payment",
        "merchant": "Merchant",
        "order_reference": "Order reference",
        "total_amount": "Total amount",
        "description": "Description",
        "card_holder": "Card holder name",
        "card_number": "Card number",
        "expiry": "Expiry date (MM/YY)",
        "cvc": "Card verification code",
        "pay": "Pay",
        "cancel": "Cancel",
        "test_cards": "Test cards",
        "acs_title": "3-D Secure authentication",
        "acs_server": "Sandbox access control server for the card",
        "amount": "Amount",
        "order": "Order",
        "approve": "Approve",
        "fail": "Fail authentication",
        "accepted": "Payment accepted",
        "cancelled": "Payment cancelled",
        "refused": "Payment refused",
        "result": "Payment result",
        "no_url": "The merchant gave no URL for this result, so the sandbox shows it here.",
        "parameter": "Parameter",
        "value": "Value",
        "error_title": "An error has occurred",
        "error_intro": "An error has occurred; please try again later. If you are the owner or the integrator of "
                       "this website, the details of the error are below (on the real platform they are in the "
                       "back office error logs).",
        "holder_required": "Card holder name is required",
        "try_another_card": "Your payment was refused ({reason}). Please try another card.",
    },
    "fr": {
        "note": "plateforme de test locale : aucun paiement réel n'a lieu ici",
        "payment": "Paiement",
        "merchant": "Commerçant",
        "order_reference": "Référence de la commande",
        "total_amount": "Montant total",
        "description": "Description",
        "card_holder": "Nom du titulaire de la carte",
        "card_number": "Numéro de carte",
        "expiry": "Date d'expiration (MM/AA)",
        "cvc": "Cryptogramme visuel",
        "pay": "Payer",
        "cancel": "Annuler",
        "test_cards": "Cartes de test",
        "acs_title": "Authentification 3-D Secure",
        "acs_server": "Serveur de contrôle d'accès du bac à sable pour la carte",
        "amount": "Montant",
        "order": "Commande",
        "approve": "Approuver",
        "fail": "Faire échouer l'authentification",
        "accepted": "Paiement accepté",
        "cancelled": "Paiement annulé",
        "refused": "Paiement refusé",
        "result": "Résultat du paiement",
        "no_url": "Le commerçant n'a donné aucune URL pour ce résultat : le bac à sable l'affiche donc ici.",
        "parameter": "Paramètre",
        "value": "Valeur",
        "error_title": "Une erreur s'est produite",
        "error_intro": "Une erreur s'est produite ; veuillez réessayer plus tard. Si vous êtes le propriétaire ou "
                       "l'intégrateur de ce site, le détail de l'erreur figure ci-dessous (sur la vraie plateforme, "
                       "dans les journaux d'erreurs du back-office).",
        "holder_required": "Le nom du titulaire de la carte est obligatoire",
        "try_another_card": "Votre paiement a été refusé ({reason}). Veuillez essayer une autre carte.",
    },
    "de": {
        "note": "lokale Testplattform: hier findet keine echte Zahlung statt",
        "payment": "Zahlung",
        "merchant": "Händler",
        "order_reference": "Bestellreferenz",
        "total_amount": "Gesamtbetrag",
        "description": "Beschreibung",
        "card_holder": "Name des Karteninhabers",
        "card_number": "Kartennummer",
        "expiry": "Ablaufdatum (MM/JJ)",
        "cvc": "Kartenprüfnummer",
        "pay": "Bezahlen",
        "cancel": "Abbrechen",
        "test_cards": "Testkarten",
        "acs_title": "3-D-Secure-Authentifizierung",
        "acs_server": "Zugriffskontrollserver der Sandbox für die Karte",
        "amount": "Betrag",
        "order": "Bestellung",
        "approve": "Bestätigen",
        "fail": "Authentifizierung scheitern lassen",
        "accepted": "Zahlung akzeptiert",
        "cancelled": "Zahlung abgebrochen",
        "refused": "Zahlung abgelehnt",
        "result": "Zahlungsergebnis",
        "no_url": "Der Händler hat für dieses Ergebnis keine URL angegeben, daher zeigt die Sandbox es hier an.",
        "parameter": "Parameter",
        "value": "Wert",
        "error_title": "Ein Fehler ist aufgetreten",
        "error_intro": "Ein Fehler ist aufgetreten; bitte versuchen Sie es später erneut. Wenn Sie Betreiber oder "
                       "Integrator dieser Website sind, finden Sie die Einzelheiten des Fehlers unten (auf der "
                       "echten Plattform in den Fehlerprotokollen des Back-Office).",
        "holder_required": "Der Name des Karteninhabers ist erforderlich",
        "try_another_card": "Ihre Zahlung wurde abgelehnt ({reason}). Bitte versuchen Sie es mit einer anderen "
                            "Karte.",
    },
    "nl": {
        "note": "lokaal testplatform: hier vindt geen echte betaling plaats",
        "payment": "Betaling",
        "merchant": "Handelaar",
        "order_reference": "Bestelreferentie",
        "total_amount": "Totaalbedrag",
        "description": "Omschrijving",
        "card_holder": "Naam van de kaarthouder",
        "card_number": "Kaartnummer",
        "expiry": "Vervaldatum (MM/JJ)",
        "cvc": "Kaartverificatiecode",
        "pay": "Betalen",
        "cancel": "Annuleren",
        "test_cards": "Testkaarten",
        "acs_title": "3-D Secure-authenticatie",
        "acs_server": "Toegangscontroleserver van de sandbox voor de kaart",
        "amount": "Bedrag",
        "order": "Bestelling",
        "approve": "Goedkeuren",
        "fail": "Authenticatie laten mislukken",
        "accepted": "Betaling aanvaard",
        "cancelled": "Betaling geannuleerd",
        "refused": "Betaling geweigerd",
        "result": "Resultaat van de betaling",
        "no_url": "De handelaar gaf geen URL op voor dit resultaat, dus toont de sandbox het hier.",
        "parameter": "Parameter",
        "value": "Waarde",
        "error_title": "Er is een fout opgetreden",
        "error_intro": "Er is een fout opgetreden; probeer het later opnieuw. Bent u de eigenaar of de integrator "
                       "van deze website, dan vindt u de details van de fout hieronder (op het echte platform in de "
                       "foutlogboeken van de back-office).",
        "holder_required": "De naam van de kaarthouder is verplicht",
        "try_another_card": "Uw betaling werd geweigerd ({reason}). Probeer een andere kaart.",
    },
    "it": {
        "note": "piattaforma di test locale: qui non avviene alcun pagamento reale",
        "payment": "Pagamento",
        "merchant": "Esercente",
        "order_reference": "Riferimento dell'ordine",
        "total_amount": "Importo totale",
        "description": "Descrizione",
        "card_holder": "Nome del titolare della carta",
        "card_number": "Numero della carta",
        "expiry": "Data di scadenza (MM/AA)",
        "cvc": "Codice di verifica della carta",
        "pay": "Paga",
        "cancel": "Annulla",
        "test_cards": "Carte di prova",
        "acs_title": "Autenticazione 3-D Secure",
        "acs_server": "Server di controllo degli accessi della sandbox per la carta",
        "amount": "Importo",
        "order": "Ordine",
        "approve": "Approva",
        "fail": "Fai fallire l'autenticazione",
        "accepted": "Pagamento accettato",
        "cancelled": "Pagamento annullato",
        "refused": "Pagamento rifiutato",
        "result": "Esito del pagamento",
        "no_url": "L'esercente non ha indicato alcun URL per questo esito, quindi la sandbox lo mostra qui.",
        "parameter": "Parametro",
        "value": "Valore",
        "error_title": "Si è verificato un errore",
        "error_intro": "Si è verificato un errore; riprova più tardi. Se sei il titolare o l'integratore di questo "
                       "sito, i dettagli dell'errore sono qui sotto (sulla piattaforma reale si trovano nei log "
                       "degli errori del back office).",
        "holder_required": "Il nome del titolare della carta è obbligatorio",
        "try_another_card": "Il pagamento è stato rifiutato ({reason}). Prova con un'altra carta.",
    },
}

# The form fields a card error names, by the label the customer sees.
FIELD_LABELS = {"CN": "card_holder", "CARDNO": "card_number", "ED": "expiry", "CVC": "cvc"}


def language(code: "str | None") -> str:
    """``fr_FR`` -> ``fr``; anything the sandbox does not speak -> ``en``."""
    prefix = (code or "").strip().replace("-", "_").split("_", 1)[0].lower()
    return prefix if prefix in TEXTS else DEFAULT


def texts(code: "str | None") -> dict[str, str]:
    """Every text of one language as template values: ``{"t_pay": "Payer", ..., "lang": "fr"}``."""
    chosen = language(code)
    values = {f"t_{key}": text for key, text in TEXTS[chosen].items()}
    values["lang"] = chosen
    return values


def text(code: "str | None", key: str, **values: str) -> str:
    return TEXTS[language(code)][key].format(**values)
