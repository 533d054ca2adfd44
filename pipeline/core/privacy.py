"""What the signup form says about a reader's data: the consent for her dates (health data, GDPR
art. 9: explicit, for one stated purpose, never pre-ticked) and the short privacy note the form
links to. One wording, shared by the blog's form and the reader service's pages."""

from __future__ import annotations


def consent_text(site_title: str) -> str:
    return (
        f"I agree that {site_title} keeps the due date or birth date I give here, only to send me the "
        "version of each email that suits my stage. I can change or delete it at any time."
    )


def privacy_paragraphs(site_title: str, contact: str) -> list[str]:
    return [
        f"{site_title} keeps your email address, and your first name if you give it, to send you "
        "the weekly email and nothing else. We never sell or share them.",
        "Where you are (pregnant, had your baby, or neither) picks the version of each email that "
        "suits you. A due date or birth date is health data: we keep it only if you tick the box "
        "that asks for your consent, only to move your emails on with your stage, and never write "
        "it into any log.",
        "We ask you to confirm your address before we send anything else, and we record when you "
        "subscribed, confirmed, changed your stage or gave or withdrew consent, so we can show "
        "that you asked.",
        "Every email has a link to change your details, remove your date or leave the list. To have "
        f"every trace of your address erased, including that record, write to {contact}.",
    ]
