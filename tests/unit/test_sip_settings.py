"""The SIP keys of a careful peer: RTP timeout and RFC 4028 session timers."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.settings import ConfigError, SipSettings, load_settings
from callcenter.softphone_bridge.digest import TrunkCredentials, ha1

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


def trunk_file(tmp_path: Path, trunk: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(f"sip:\n  trunks:\n    - {{name: pbx, networks: [10.0.0.0/8], {trunk}}}\n")
    return path


def test_trunk_credentials_from_a_password_an_ha1_or_the_environment(tmp_path: Path) -> None:
    by_password = load_settings(
        trunk_file(tmp_path, "username: pbx, password: s3cret"), environ={}
    ).sip
    [trunk] = by_password.trunks
    credentials = trunk.credentials(by_password.auth_realm)
    assert credentials == TrunkCredentials("pbx", "callcenter", ha1("pbx", "callcenter", "s3cret"))
    assert "s3cret" not in repr(by_password)
    given = f"username: pbx, realm: pbx.example.com, ha1: {ha1('pbx', 'pbx.example.com', 'x')}"
    [trunk] = load_settings(trunk_file(tmp_path, given), environ={}).sip.trunks
    assert trunk.credentials("callcenter") == TrunkCredentials(
        "pbx", "pbx.example.com", ha1("pbx", "pbx.example.com", "x")
    )
    from_env = load_settings(
        trunk_file(tmp_path, "username: pbx, password_env: CALLCENTER_SECRET_PBX"),
        environ={"CALLCENTER_SECRET_PBX": "s3cret"},
    ).sip
    assert from_env.trunks[0].credentials("callcenter") == credentials


def test_a_trunk_without_credentials_is_trusted_by_address(tmp_path: Path) -> None:
    sip = load_settings(CONFIG, environ={}).sip
    trunk = sip.trunk_for("127.0.0.1")
    assert trunk is not None and trunk.credentials(sip.auth_realm) is None
    assert sip.trunk_for("192.0.2.1") is None


@pytest.mark.parametrize(
    ("trunk", "message"),
    [
        ("password: s3cret", "a password, ha1 or realm needs a username"),
        ("username: pbx", "needs exactly one of password, ha1, password_env"),
        ("username: pbx, password: a, ha1: " + "a" * 32, "needs exactly one of"),
        ("username: pbx, ha1: nothex", "ha1 must be 32 lower-case hex digits"),
        ("username: pbx, password_env: NOWHERE", "environment variable NOWHERE is not set"),
        ("username: pbx, password: a, password_env: X", "password or password_env, not both"),
    ],
)
def test_bad_trunk_credentials_are_one_line_errors(
    tmp_path: Path, trunk: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=r"^sip\.trunks\.0: ") as info:
        load_settings(trunk_file(tmp_path, trunk), environ={})
    assert message in str(info.value) and "\n" not in str(info.value)
