"""What a caller waiting in a queue hears between the music: place in line, estimated
hold time and the callback offer, as prompt names. Pure: no I/O, the time is passed in.

English uses the Asterisk core recordings by name (`queue-thereare` "you are currently
caller number", `queue-callswaiting` "waiting to speak to a representative",
`queue-youarenext`, `queue-holdtime`, `queue-less-than`, `queue-minute(s)`); Mandarin
has synthesised prompts of the same names. Both are in config/prompts.yaml, and
`announcement_prompts(language)` lists every name `what_to_say` may use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from callcenter.ivr.numbers import number_prompts, say_number

YOU_ARE_NEXT = "queue-youarenext"
CALLER_NUMBER = "queue-thereare"
WAITING = "queue-callswaiting"
HOLD_TIME = "queue-holdtime"
LESS_THAN = "queue-less-than"
MINUTE = "queue-minute"
MINUTES = "queue-minutes"
#: "To keep your place in line and be called back, press", followed by the key.
CALLBACK_OFFER = "queue-callback-offer"
#: Keys other than digits, as prompts of the digit set.
_KEY_PROMPTS = {"*": "digits/star", "#": "digits/pound"}
#: Up to this many minutes an estimate is read to the minute, above it to five minutes.
FINE_MINUTES = 10


@dataclass(frozen=True)
class QueueAnnouncements:
    """One queue's announcements (config: acd.queues[].announce_*)."""

    #: Seconds of music between announcements; None or 0: the queue announces nothing.
    interval_seconds: float | None = None
    position: bool = True
    wait: bool = True
    #: The queue's callback key, offered in every announcement; None: no offer.
    callback_key: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.interval_seconds) and (
            self.position or self.wait or self.callback_key is not None
        )


def next_announcement_in(settings: QueueAnnouncements, last: float, now: float) -> float | None:
    """Seconds from `now` until the next announcement, the last one (or the arrival in
    the queue) having been at `last`; None when the queue announces nothing."""
    if not settings.enabled or settings.interval_seconds is None:
        return None
    return max(0.0, last + settings.interval_seconds - now)


def wait_minutes(seconds: float) -> int:
    """An estimate as the caller hears it: 0 for "less than a minute", whole minutes up
    to FINE_MINUTES (rounded half up), then multiples of five."""
    if seconds < 60:
        return 0
    minutes = math.floor(seconds / 60 + 0.5)
    if minutes <= FINE_MINUTES:
        return minutes
    return 5 * math.floor(minutes / 5 + 0.5)


def what_to_say(
    settings: QueueAnnouncements, position: int | None, estimate: float | None, language: str
) -> list[str]:
    """The prompts of one announcement. `position`: 1 is next in line (None: unknown);
    `estimate`: the ACD's estimated wait in seconds (None: no staffed agent, not said)."""
    prompts: list[str] = []
    if settings.position and position is not None and position >= 1:
        if position == 1:
            prompts.append(YOU_ARE_NEXT)
        else:
            prompts += [CALLER_NUMBER, *say_number(position, language), WAITING]
    if settings.wait and estimate is not None:
        minutes = wait_minutes(estimate)
        if minutes == 0:
            prompts += [HOLD_TIME, LESS_THAN, *say_number(1, language), MINUTE]
        else:
            unit = MINUTE if minutes == 1 else MINUTES
            prompts += [HOLD_TIME, *say_number(minutes, language), unit]
    if settings.callback_key is not None:
        prompts += [CALLBACK_OFFER, key_prompt(settings.callback_key)]
    return prompts


def key_prompt(key: str) -> str:
    """The prompt naming a telephone key: `digits/7`, `digits/star`, `digits/pound`."""
    if key in _KEY_PROMPTS:
        return _KEY_PROMPTS[key]
    if len(key) != 1 or not key.isdigit():
        raise ValueError(f"{key!r} is not a telephone key")
    return f"digits/{key}"


def announcement_prompts(language: str) -> list[str]:
    """Every prompt name `what_to_say` may produce in `language` (checked at start-up)."""
    names = [YOU_ARE_NEXT, CALLER_NUMBER, WAITING, HOLD_TIME, LESS_THAN, MINUTE, MINUTES]
    names += [CALLBACK_OFFER, *_KEY_PROMPTS.values()]
    return names + number_prompts(language)
