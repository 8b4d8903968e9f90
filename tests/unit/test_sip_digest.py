from __future__ import annotations

import itertools

import pytest

from callcenter.clock import ManualClock
from callcenter.softphone_bridge import digest
from callcenter.softphone_bridge.digest import DigestGuard, TrunkCredentials, Verdict


def test_rfc2617_example_with_qop_auth() -> None:
    # RFC 2617 §3.5 (the same sums as RFC 7616 §3.9.1's MD5 example).
    h1 = digest.ha1("Mufasa", "testrealm@host.com", "Circle Of Life")
    answer = digest.response(
        h1, "dcd98b7102dd2f0e8b11d0f600bfb0c093", "GET", "/dir/index.html",
        "auth", "00000001", "0a4f113b",
    )  # fmt: skip
    assert answer == "6629fae49393a05397450978507c4ef1"


def test_rfc7616_md5_example() -> None:
    h1 = digest.ha1("Mufasa", "http-auth@example.org", "Circle of Life")
    answer = digest.response(
        h1, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "GET", "/dir/index.html",
        "auth", "00000001", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    )  # fmt: skip
    assert answer == "8ca523f5e9506fed4657c9700eebdbec"


def test_parse_authorization_header() -> None:
    value = (
        'Digest username="pbx", realm="hotline", nonce="abc", uri="sip:hotline@10.0.0.1",'
        ' response="0123", algorithm=MD5, cnonce="x\\"y", qop=auth, nc=00000001'
    )
    params = digest.parse_authorization(value)
    assert params == {
        "username": "pbx",
        "realm": "hotline",
        "nonce": "abc",
        "uri": "sip:hotline@10.0.0.1",
        "response": "0123",
        "algorithm": "MD5",
        "cnonce": 'x"y',
        "qop": "auth",
        "nc": "00000001",
    }


@pytest.mark.parametrize(
    "value", ["Basic dXNlcjpwYXNz", "Digest", 'Digest username="unterminated', "Digest ,,,"]
)
def test_malformed_authorization_is_none(value: str) -> None:
    assert digest.parse_authorization(value) is None


TRUNK = TrunkCredentials("pbx", "hotline", digest.ha1("pbx", "hotline", "s3cret"))
URI = "sip:hotline@127.0.0.1:5060"


def guard(lifetime: float = 60.0) -> tuple[DigestGuard, ManualClock]:
    clock = ManualClock()
    counter = itertools.count(1)
    return DigestGuard(lifetime, clock.now, lambda: f"nonce{next(counter)}"), clock


def nonce_of(challenge: str) -> str:
    params = digest.parse_authorization(challenge)
    assert params is not None
    return params["nonce"]


def authorization(
    nonce: str, password: str = "s3cret", nc: int = 1, username: str = "pbx", qop: bool = True
) -> str:
    h1 = digest.ha1(username, "hotline", password)
    nc_text = f"{nc:08x}"
    if not qop:
        answer = digest.response(h1, nonce, "INVITE", URI)
        return (
            f'Digest username="{username}", realm="hotline", nonce="{nonce}", uri="{URI}",'
            f' response="{answer}"'
        )
    answer = digest.response(h1, nonce, "INVITE", URI, "auth", nc_text, "c1")
    return (
        f'Digest username="{username}", realm="hotline", nonce="{nonce}", uri="{URI}",'
        f' response="{answer}", algorithm=MD5, qop=auth, nc={nc_text}, cnonce="c1"'
    )


def test_challenge_offers_md5_with_qop_auth_and_a_fresh_nonce() -> None:
    g, _ = guard()
    first, second = g.challenge("hotline"), g.challenge("hotline", stale=True)
    assert first == 'Digest realm="hotline", nonce="nonce1", algorithm=MD5, qop="auth"'
    assert second.endswith(", stale=true") and nonce_of(second) == "nonce2"


def test_no_authorization_is_missing() -> None:
    g, _ = guard()
    assert g.judge([], "INVITE", TRUNK) is Verdict.MISSING
    assert g.judge(["Basic abc"], "INVITE", TRUNK) is Verdict.MISSING


def test_right_answer_is_accepted_and_wrong_one_refused() -> None:
    g, _ = guard()
    nonce = nonce_of(g.challenge("hotline"))
    assert g.judge([authorization(nonce, "guess")], "INVITE", TRUNK) is Verdict.WRONG
    assert g.judge([authorization(nonce, username="eve")], "INVITE", TRUNK) is Verdict.WRONG
    assert g.judge([authorization(nonce)], "INVITE", TRUNK) is Verdict.ACCEPTED


def test_the_answer_must_be_for_the_method() -> None:
    g, _ = guard()
    nonce = nonce_of(g.challenge("hotline"))
    assert g.judge([authorization(nonce)], "BYE", TRUNK) is Verdict.WRONG


def test_a_nonce_we_did_not_issue_is_challenged_again() -> None:
    g, _ = guard()
    assert g.judge([authorization("forged")], "INVITE", TRUNK) is Verdict.MISSING


def test_an_expired_nonce_is_stale_then_forgotten() -> None:
    g, clock = guard(lifetime=60)
    nonce = nonce_of(g.challenge("hotline"))
    clock.advance(61)
    assert g.judge([authorization(nonce)], "INVITE", TRUNK) is Verdict.STALE
    assert g.judge([authorization(nonce, "guess")], "INVITE", TRUNK) is Verdict.WRONG
    clock.advance(digest.STALE_LIFETIMES * 60)
    assert g.judge([authorization(nonce)], "INVITE", TRUNK) is Verdict.MISSING


def test_a_replayed_nonce_count_is_stale() -> None:
    g, _ = guard()
    nonce = nonce_of(g.challenge("hotline"))
    assert g.judge([authorization(nonce, nc=1)], "INVITE", TRUNK) is Verdict.ACCEPTED
    assert g.judge([authorization(nonce, nc=1)], "INVITE", TRUNK) is Verdict.STALE
    assert g.judge([authorization(nonce, nc=2)], "INVITE", TRUNK) is Verdict.ACCEPTED


def test_without_qop_a_nonce_serves_once() -> None:
    g, _ = guard()
    nonce = nonce_of(g.challenge("hotline"))
    assert g.judge([authorization(nonce, qop=False)], "INVITE", TRUNK) is Verdict.ACCEPTED
    assert g.judge([authorization(nonce, qop=False)], "INVITE", TRUNK) is Verdict.STALE


def test_another_realms_credentials_are_ignored() -> None:
    g, _ = guard()
    nonce = nonce_of(g.challenge("hotline"))
    other = authorization(nonce).replace('realm="hotline"', 'realm="elsewhere"')
    assert g.judge([other], "INVITE", TRUNK) is Verdict.MISSING
    assert g.judge([other, authorization(nonce)], "INVITE", TRUNK) is Verdict.ACCEPTED


def test_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digest, "MAX_NONCES", 3)
    g, clock = guard(lifetime=60)
    for _ in range(10):
        g.challenge("hotline")
    assert len(g) == 3
    clock.advance(digest.STALE_LIFETIMES * 60 + 1)
    g.challenge("hotline")
    assert len(g) == 1  # the expired ones went with the next issue
