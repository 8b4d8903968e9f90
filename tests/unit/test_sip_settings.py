"""The SIP keys of a careful peer: RTP timeout and RFC 4028 session timers."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.settings import ConfigError, SipSettings, load_settings

CONFIG = Path(__file__).resolve().parents[2] / "config" / "callcenter.yaml"


def test_defaults_match_the_shipped_file() -> None:
    shipped = load_settings(CONFIG, environ={}).sip
    default = SipSettings()
    for key in ("rtp_timeout_seconds", "session_expires_seconds", "session_min_se_seconds"):
        assert getattr(shipped, key) == getattr(default, key)
    assert (default.rtp_timeout_seconds, default.session_expires_seconds) == (30, 1800)
    assert default.session_min_se_seconds == 90


def test_variables_set_them() -> None:
    sip = load_settings(
        CONFIG,
        environ={
            "CALLCENTER_SIP_RTP_TIMEOUT_SECONDS": "0",
            "CALLCENTER_SIP_SESSION_EXPIRES_SECONDS": "600",
            "CALLCENTER_SIP_SESSION_MIN_SE_SECONDS": "120",
        },
    ).sip
    assert (sip.rtp_timeout_seconds, sip.session_expires_seconds) == (0, 600)
    assert sip.session_min_se_seconds == 120


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CALLCENTER_SIP_RTP_TIMEOUT_SECONDS": "-1"}, "sip.rtp_timeout_seconds"),
        ({"CALLCENTER_SIP_SESSION_EXPIRES_SECONDS": "60"}, "sip.session_expires_seconds"),
        ({"CALLCENTER_SIP_SESSION_MIN_SE_SECONDS": "30"}, "sip.session_min_se_seconds"),
        (
            {
                "CALLCENTER_SIP_SESSION_EXPIRES_SECONDS": "300",
                "CALLCENTER_SIP_SESSION_MIN_SE_SECONDS": "600",
            },
            "must not be below session_min_se_seconds",
        ),
    ],
)
def test_bad_values_are_one_line_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(CONFIG, environ=env)
