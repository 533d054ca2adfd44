"""Moves this Python process's wall clock ahead, for `pytest --clock-shift-days N`.

tests/clock_shift/plugin.py puts this folder on PYTHONPATH and sets NEWSLETTER_TEST_CLOCK_SHIFT_DAYS,
so every Python program a test starts (`newsletter build`, the preview, an SMTP sink) lives N days
ahead of the machine, like the test process itself.
"""

import os
from datetime import UTC

_days = os.environ.get("NEWSLETTER_TEST_CLOCK_SHIFT_DAYS")
if _days:
    from datetime import datetime, timedelta

    import time_machine

    time_machine.travel(datetime.now(UTC) + timedelta(days=int(_days)), tick=True).start()
