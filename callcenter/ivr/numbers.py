"""Digits and numbers as prompt lists: `say_digits` and `say_number` of a flow file.

English uses the Asterisk core recordings by their names (`digits/7`, `digits/30`,
`digits/hundred`, ...); Mandarin uses synthesised prompts of the same naming scheme
(`digits/7` is 七, `digits/10` 十, `digits/hundred` 百, `digits/10000` 万). Both sets are
in config/prompts.yaml; `number_prompts(language)` lists every name these functions use.
"""

from __future__ import annotations

LANGUAGES = ("en", "zh")
#: Largest number `say_number` speaks as a number; longer ones are read digit by digit.
MAX_NUMBER = 999_999_999_999

_EN_TENS = (20, 30, 40, 50, 60, 70, 80, 90)
_EN_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1000, "thousand"))
_ZH_UNITS = ((1000, "thousand"), (100, "hundred"), (10, "10"))


def _digit(d: int | str) -> str:
    return f"digits/{d}"


def say_digits(value: str, language: str = "en") -> list[str]:
    """One prompt per digit; other characters (spaces, dashes) are skipped."""
    _check(language)
    return [_digit(ch) for ch in value if ch in "0123456789"]


def say_number(value: str | int, language: str = "en") -> list[str]:
    """A whole number as spoken (`4521`: four thousand five hundred twenty one).

    A value that is not a whole number of at most 12 digits is read digit by digit.
    """
    _check(language)
    text = str(value).strip()
    negative = text.startswith("-")
    body = text[1:] if negative else text
    if not body.isdigit() or int(body) > MAX_NUMBER:
        return say_digits(text, language)
    number = int(body)
    words = _en(number) if language == "en" else _zh(number)
    if negative and number:
        words.insert(0, _digit("minus"))
    return words


def number_prompts(language: str) -> list[str]:
    """Every prompt name `say_digits` and `say_number` may produce in `language`."""
    _check(language)
    names = [_digit(d) for d in range(10)]
    if language == "en":
        names += [_digit(n) for n in range(10, 20)] + [_digit(n) for n in _EN_TENS]
        names += [_digit(w) for w in ("hundred", "thousand", "million", "billion", "minus")]
    else:
        names += [_digit(w) for w in ("10", "hundred", "thousand", "10000", "100000000")]
        names += [_digit("minus")]
    return names


def is_number_prompt(name: str, language: str) -> bool:
    return name in number_prompts(language)


def _check(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"no digit prompts for language {language!r}")


def _en(number: int) -> list[str]:
    if number == 0:
        return [_digit(0)]
    words: list[str] = []
    for scale, name in _EN_SCALES:
        if number >= scale:
            words += [*_en_below_thousand(number // scale), _digit(name)]
            number %= scale
    if number:
        words += _en_below_thousand(number)
    return words


def _en_below_thousand(number: int) -> list[str]:
    words: list[str] = []
    if number >= 100:
        words += [_digit(number // 100), _digit("hundred")]
        number %= 100
    if number >= 20:
        words.append(_digit(number - number % 10))
        number %= 10
    if number:
        words.append(_digit(number))
    return words


def _zh(number: int) -> list[str]:
    """Mandarin: groups of four digits with 万 and 亿, one 零 for each run of zeros."""
    if number == 0:
        return [_digit(0)]
    groups = [(number // 100_000_000, "100000000"), ((number // 10_000) % 10_000, "10000")]
    groups.append((number % 10_000, ""))
    words: list[str] = []
    zero_pending = False
    for value, unit in groups:
        if value == 0:
            zero_pending = bool(words)
            continue
        if words and (zero_pending or value < 1000):
            words.append(_digit(0))
        words += _zh_group(value, leading=not words)
        if unit:
            words.append(_digit(unit))
        zero_pending = False
    return words


def _zh_group(value: int, *, leading: bool) -> list[str]:
    """0 < value < 10000, without leading 零; 十五 rather than 一十五 at the very start."""
    words: list[str] = []
    zero_pending = False
    for scale, unit in (*_ZH_UNITS, (1, "")):
        d = (value // scale) % 10
        if d == 0:
            zero_pending = bool(words)
            continue
        if zero_pending:
            words.append(_digit(0))
            zero_pending = False
        if not (scale == 10 and d == 1 and leading and not words):
            words.append(_digit(d))
        if unit:
            words.append(_digit(unit))
    return words
