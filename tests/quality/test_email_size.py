"""Size: Gmail clips an email whose HTML is over 102 KB, hiding the end of it - here the safety
notes of the last exercises and the unsubscribe link. Bar: under 102 KB with room to spare for
what the mailing-list provider adds (tracking redirects on every link, its own footer), which
we budget at 12 KB.
"""

from __future__ import annotations

GMAIL_CLIP_BYTES = 102 * 1024
PROVIDER_ROOM_BYTES = 12 * 1024
BUDGET_BYTES = GMAIL_CLIP_BYTES - PROVIDER_ROOM_BYTES


def test_the_email_html_stays_well_under_gmails_clipping_size(build):
    size = len(build.email_html.encode("utf-8"))

    print(
        f"{build.name}: email HTML {size / 1024:.1f} KB of Gmail's 102 KB "
        f"({size / GMAIL_CLIP_BYTES:.0%}); budget {BUDGET_BYTES / 1024:.0f} KB"
    )
    assert size <= BUDGET_BYTES, (
        f"{build.name}: the email HTML is {size / 1024:.1f} KB; keep it under {BUDGET_BYTES / 1024:.0f} KB so Gmail "
        f"(clips at 102 KB) never hides the end once the provider has added its links. Trim repeated inline styles "
        f'in templates/email/, or send this week with [email] content = "excerpt".'
    )
