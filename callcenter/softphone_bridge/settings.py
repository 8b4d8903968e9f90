"""The `sip` settings section: the bridge's own configuration, next to the code using it.

Validated with the rest at start-up (`callcenter.settings`); key by key in
docs/configuration.md#sip.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, model_validator

from callcenter.config_section import Section as _Section
from callcenter.softphone_bridge.digest import TrunkCredentials, ha1


class Trunk(_Section):
    name: str = Field(min_length=1)
    #: Source networks (CIDR) whose SIP requests are served; everything else gets 403.
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = Field(min_length=1)
    #: Digest authentication (RFC 3261 §22): INVITEs from this trunk must prove `username`
    #: and one secret: `password`, `ha1` (MD5 of "username:realm:password") or
    #: `password_env` (the name of an environment variable holding the password).
    username: str | None = Field(None, min_length=1)
    password: SecretStr | None = None
    ha1: SecretStr | None = None
    password_env: str | None = Field(None, min_length=1)
    #: The realm of the challenge; null: sip.auth_realm.
    realm: str | None = Field(None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _password_from_the_environment(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or data.get("password_env") is None:
            return data
        if data.get("password") is not None:
            raise ValueError("give password or password_env, not both")
        environ = (info.context or {}).get("environ", os.environ)
        name = str(data["password_env"])
        if name not in environ:
            raise ValueError(f"password_env: environment variable {name} is not set")
        return {**data, "password": environ[name]}

    @model_validator(mode="after")
    def _credentials_complete(self) -> Trunk:
        secrets_given = (self.password is not None) + (self.ha1 is not None)
        if self.username is None and (secrets_given or self.realm is not None):
            raise ValueError(f"trunk {self.name!r}: a password, ha1 or realm needs a username")
        if self.username is not None and secrets_given != 1:
            raise ValueError(
                f"trunk {self.name!r}: a username needs exactly one of password, ha1, password_env"
            )
        if self.ha1 is not None and not re.fullmatch(r"[0-9a-f]{32}", self.ha1.get_secret_value()):
            raise ValueError(f"trunk {self.name!r}: ha1 must be 32 lower-case hex digits")
        return self

    def credentials(self, default_realm: str) -> TrunkCredentials | None:
        """What the trunk's INVITEs must prove; None: the source address is enough."""
        if self.username is None:
            return None
        realm = self.realm or default_realm
        if self.ha1 is not None:
            return TrunkCredentials(self.username, realm, self.ha1.get_secret_value())
        assert self.password is not None
        secret = self.password.get_secret_value()
        return TrunkCredentials(self.username, realm, ha1(self.username, realm, secret))


#: Debian's bundle of the CAs browsers trust (package ca-certificates).
SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


class SipSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(5060, ge=1, le=65535)
    transports: list[Literal["udp", "tcp", "tls"]] = Field(default=["udp", "tcp"], min_length=1)
    #: SIP over TLS (transport "tls"): its port, our certificate chain and key (PEM); the
    #: CAs peers' certificates must be signed by (null: the system's bundle), whether the
    #: peers we connect to are verified (yes unless said otherwise), and whether peers
    #: connecting to us must present a certificate.
    tls_port: int = Field(5061, ge=1, le=65535)
    tls_certificate: Path | None = None
    tls_private_key: Path | None = None
    tls_ca_file: Path | None = None
    tls_verify_server: bool = True
    tls_verify_client: bool = False
    hotline_user: str = Field("hotline", min_length=1)
    max_calls: int = Field(100, ge=1, le=500)
    rtp_port: int = Field(40000, ge=1024, le=65535)
    rtp_port_range: int = Field(10000, ge=2)
    clock_rate: int = 8000
    user_agent: str = "callcenter"
    log_level: int = Field(1, ge=0, le=5)  # the build compiles levels up to 5
    trunks: list[Trunk] = Field(
        default_factory=lambda: [
            Trunk(name="loopback", networks=[ipaddress.ip_network("127.0.0.0/8")])
        ],
        min_length=1,
    )
    retry_after_seconds: int = Field(30, ge=1)
    #: Callers hear the IVR's greeting as early media (183 with SDP) and are answered
    #: (200) when the IVR first needs a key from them or queues the call.
    early_media: bool = False
    #: Realm of digest challenges to trunks with credentials that name none.
    auth_realm: str = Field("callcenter", min_length=1)
    #: How long a digest nonce is good for; an answer to an older one gets 401 stale=true.
    auth_nonce_seconds: int = Field(300, ge=10)
    #: INVITEs one source address may send: sustained per second, and in a burst.
    invite_rate_per_source: float = Field(50.0, gt=0)
    invite_burst_per_source: int = Field(100, ge=1)
    #: A call leg from which no RTP arrives this long is hung up (BYE); 0: never.
    #: Legs on hold are not timed out (session timers catch a peer that vanished then).
    rtp_timeout_seconds: int = Field(30, ge=0)
    #: RFC 4028 session timers: the interval we ask for and the shortest we accept
    #: (shorter requests get 422 with Min-SE).
    session_expires_seconds: int = Field(1800, ge=90)
    session_min_se_seconds: int = Field(90, ge=90)
    #: Where queued callbacks are dialled: a SIP URI with `{number}` (the number to call
    #: back), e.g. "sip:{number}@pbx.example.com:5060"; null: no callbacks.
    outbound_uri_template: str | None = None
    #: How long a callback's callee may ring before the try counts as not answered.
    outbound_ring_timeout_seconds: float = Field(30.0, gt=0)
    #: How a caller is transferred to an outside number: REFER on the caller's leg (the
    #: PBX or the caller's phone places the new call), or a new outbound leg bridged in.
    transfer_mode: Literal["refer", "bridge"] = "refer"
    #: Where transfers to an outside number go, with `{number}`; null: the outbound one.
    transfer_uri_template: str | None = None
    #: How long a transfer may take (the REFER's outcome, the bridged leg's ringing)
    #: before it counts as failed and the caller goes back to the agent.
    transfer_timeout_seconds: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> SipSettings:
        if self.clock_rate not in (8000, 16000):
            raise ValueError(f"clock_rate must be 8000 or 16000 (got {self.clock_rate})")
        if self.rtp_port + self.rtp_port_range > 65536:
            raise ValueError("rtp_port + rtp_port_range must not pass 65535")
        if self.session_expires_seconds < self.session_min_se_seconds:
            raise ValueError("session_expires_seconds must not be below session_min_se_seconds")
        self._check_tls()
        for key in ("outbound_uri_template", "transfer_uri_template"):
            _check_template(key, getattr(self, key))
        return self

    @property
    def transfer_template(self) -> str | None:
        """Where a transfer to an outside number goes (`{number}`), if anywhere."""
        return self.transfer_uri_template or self.outbound_uri_template

    def _check_tls(self) -> None:
        if "tls" not in self.transports:
            return
        if self.tls_certificate is None or self.tls_private_key is None:
            raise ValueError("transport tls needs tls_certificate and tls_private_key")
        for key in ("tls_certificate", "tls_private_key", "tls_ca_file"):
            path = getattr(self, key)
            if path is not None and not path.is_file():
                raise ValueError(f"{key}: no such file {str(path)!r}")
        if self.tls_verify_client and self.tls_ca_file is None:
            raise ValueError("tls_verify_client needs tls_ca_file")
        if self.tls_verify_server and self.tls_ca_file is None and not SYSTEM_CA_BUNDLE.is_file():
            raise ValueError(
                f"tls_ca_file: null and no system CA bundle at {SYSTEM_CA_BUNDLE}"
                " (Debian package ca-certificates); set it, or tls_verify_server: false"
            )

    @property
    def tls_trusted(self) -> Path:
        """The CAs that the certificates of TLS peers must be signed by."""
        return self.tls_ca_file or SYSTEM_CA_BUNDLE
        if "tcp" in self.transports and self.tls_port == self.port:
            raise ValueError("tls_port must differ from port (TCP listens there)")

    def allows(self, address: str) -> bool:
        return self.trunk_for(address) is not None

    def trunk_for(self, address: str) -> Trunk | None:
        """The first trunk whose networks hold the address; None: a stranger."""
        ip = ipaddress.ip_address(address)
        return next((t for t in self.trunks if any(ip in net for net in t.networks)), None)


def _check_template(key: str, template: str | None) -> None:
    if template is None:
        return
    try:
        uri = template.format(number="+10")
    except (KeyError, IndexError, ValueError):
        raise ValueError(f"{key} may only use the placeholder {{number}}") from None
    if "{number}" not in template or not uri.startswith(("sip:", "sips:")):
        raise ValueError(
            f"{key} must be a sip: URI with {{number}}, e.g. sip:{{number}}@pbx.example.com"
        )
