"""Telephone numbers as the desk stores and matches them: E.164.

Employees' numbers are typed by people (`020-8888 1001`, `(020) 8888/1001`,
`0086 20 8888 1001`) and callers arrive in whatever form the trunk sends; both sides are
brought to E.164 so that a plain string comparison identifies the caller.
"""

from __future__ import annotations

import re

import phonenumbers

#: Seven digits with at most separators between them: text without this holds no number,
#: and the matcher (slow) is not asked.
_DIGIT_RUN = re.compile(r"\d(?:[\s\-./()]{0,3}\d){6}")
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


def numbers_in_text(text: str, default_region: str) -> list[tuple[str, str]]:
    """The valid telephone numbers written in free text, as (E.164, as written), each
    number once (its first spelling), in order of appearance.

    Ticket subjects and notes carry numbers in every house style (`020 8888-1001`,
    `(020) 88881001`, `+86 20 8888 1001`); the matcher finds them where a regular expression
    would also catch dates and asset tags. Valid numbers only, as `normalise`.
    """
    found: dict[str, str] = {}
    if not text or _DIGIT_RUN.search(text) is None:
        return []
    for match in phonenumbers.PhoneNumberMatcher(
        text, default_region, leniency=phonenumbers.Leniency.VALID
    ):
        e164: str = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        found.setdefault(e164, match.raw_string)
    return list(found.items())
