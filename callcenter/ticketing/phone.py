"""Telephone numbers as the desk stores and matches them: E.164.

Employees' numbers are typed by people (`020-8888 1001`, `(020) 8888/1001`,
`0086 20 8888 1001`) and callers arrive in whatever form the trunk sends; both sides are
brought to E.164 so that a plain string comparison identifies the caller.
"""

from __future__ import annotations

import phonenumbers

#: phonenumbers refuses longer input anyway; stopping early keeps garbage cheap.
MAX_INPUT_LENGTH = 64


def normalise(raw: str, default_region: str) -> str | None:
    """E.164 for `raw`, read as a national number of `default_region` unless it says otherwise.

    Only numbers valid by the numbering plan are accepted: a merely plausible digit string
    (a short extension, a number missing its area code) would otherwise be turned into a
    wrong E.164 number and could match the wrong employee. Extensions are dropped, since
    a caller's line is identified by the number alone.
    """
    text = raw.strip()
    if not text or len(text) > MAX_INPUT_LENGTH:
        return None
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    e164: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164
