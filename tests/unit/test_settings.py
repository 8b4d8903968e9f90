from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.acd.model import DEFAULT_DISPOSITIONS
from callcenter.cmdb.naming import DEFAULT_DEVICE_TYPES, DEFAULT_STANDARD, NamingError
from callcenter.redaction import redact
from callcenter.settings import ConfigError, Settings, env_names, load_settings

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "callcenter.yaml"


def load(env: dict[str, str] | None = None, path: Path = CONFIG) -> Settings:
    return load_settings(path, environ=env or {})


def test_shipped_file_is_valid_and_matches_documented_defaults() -> None:
    s = load()
    assert (s.sip.host, s.sip.port, s.http.port) == ("127.0.0.1", 5060, 8080)
    assert s.database.url == "sqlite+aiosqlite:///var/callcenter.db"
    [queue] = s.acd.queues
    assert (queue.name, queue.service_level_seconds, queue.service_level_target) == (
        "helpdesk",
        20,
        0.9,
    )
    assert queue.ring_timeout_seconds == 15
    assert s.ticketing.attach_window_hours == 8


def test_environment_overrides_the_file() -> None:
    s = load({"CALLCENTER_SIP_PORT": "5070", "CALLCENTER_DATABASE_URL": "postgresql+asyncpg://x/y"})
    assert s.sip.port == 5070
    assert s.database.url == "postgresql+asyncpg://x/y"


def test_every_scalar_setting_has_a_variable() -> None:
    names = env_names()
    assert names["CALLCENTER_SIP_PORT"] == ("sip", "port")
    assert names["CALLCENTER_HTTP_PORT"] == ("http", "port")
    assert names["CALLCENTER_REDIS_URL"] == ("redis", "url")
    assert "CALLCENTER_SIP_TRUNKS" not in names  # lists live in the file only


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CALLCENTER_SIP_PORT": "70000"}, "sip.port: Input should be less than or equal to 65535"),
        ({"CALLCENTER_SIP_PORT": "five"}, "sip.port: Input should be a valid integer"),
        ({"CALLCENTER_SIP_PROT": "5060"}, "CALLCENTER_SIP_PROT: unknown setting variable"),
        ({"CALLCENTER_DATABASE_URL": "sqlite:///x.db"}, "database.url: String should match"),
        ({"CALLCENTER_TICKETING_DEFAULT_REGION": "china"}, "ticketing.default_region"),
        ({"CALLCENTER_ACD_DEFAULT_QUEUE": "sales"}, "default_queue 'sales' is not a configured"),
        ({"CALLCENTER_HTTP_PUBLIC_URL": "node1:8081"}, "http.public_url: String should match"),
        ({"CALLCENTER_HTTP_PUBLIC_URL": "http://n1/x"}, "http.public_url: String should match"),
    ],
)
def test_bad_values_name_the_key(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(env)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_the_public_url_is_given_or_derived_from_where_http_listens() -> None:
    assert load().http.base_url() == "http://127.0.0.1:8080"
    given = {"CALLCENTER_HTTP_PUBLIC_URL": "https://node1.example.com"}
    assert load(given).http.base_url() == "https://node1.example.com"
    wildcard = load({"CALLCENTER_HTTP_HOST": "0.0.0.0", "CALLCENTER_HTTP_PORT": "8081"})
    assert wildcard.http.base_url() == f"http://{socket.gethostname()}:8081"
    assert load({"CALLCENTER_HTTP_HOST": "::1"}).http.base_url() == "http://[::1]:8080"


def test_unknown_key_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("sip:\n  prot: 5060\n")
    with pytest.raises(ConfigError, match=r"^sip\.prot: unknown key"):
        load(path=path)


def test_bad_trunk_network(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("sip:\n  trunks:\n    - name: pbx\n      networks: [10.0.0.300/8]\n")
    with pytest.raises(ConfigError, match=r"^sip\.trunks\.0\.networks\.0: "):
        load(path=path)


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("sip: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load(path=path)


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent\.yaml: no such settings file"):
        load_settings(None, environ={"CALLCENTER_CONFIG": str(tmp_path / "absent.yaml")})
    with pytest.raises(ConfigError, match=r"other\.yaml: no such settings file"):
        load_settings(tmp_path / "other.yaml", environ={})


def test_clock_rate_from_the_environment() -> None:
    assert load({"CALLCENTER_SIP_CLOCK_RATE": "16000"}).sip.clock_rate == 16000
    with pytest.raises(ConfigError, match=r"^sip: .*clock_rate must be 8000 or 16000"):
        load({"CALLCENTER_SIP_CLOCK_RATE": "44100"})


def test_rtp_range_must_fit_in_the_port_space() -> None:
    with pytest.raises(ConfigError, match="rtp_port \\+ rtp_port_range"):
        load({"CALLCENTER_SIP_RTP_PORT": "60000", "CALLCENTER_SIP_RTP_PORT_RANGE": "10000"})


def test_trunk_membership() -> None:
    s = load()
    assert s.sip.allows("127.0.0.1") and s.sip.allows("::1")
    assert not s.sip.allows("192.0.2.10")


def test_secret_never_printed() -> None:
    secret = "hunter2-correct-horse-battery-staple"
    s = load({"CALLCENTER_AUTH_TOKEN_SECRET": secret})
    assert secret not in repr(s) and secret not in s.model_dump_json()
    assert s.auth.token_secret.get_secret_value() == secret


def test_a_short_token_secret_is_refused_without_showing_it() -> None:
    with pytest.raises(
        ConfigError, match=r"^auth\.token_secret: must be empty .* not 7$"
    ) as caught:
        load({"CALLCENTER_AUTH_TOKEN_SECRET": "hunter2"})
    assert "hunter2" not in str(caught.value)


def test_cli_config_error_is_one_line_and_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "callcenter", "config"],
        env={"CALLCENTER_CONFIG": str(CONFIG), "CALLCENTER_HTTP_PORT": "0x"},
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "http.port" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [["db", "upgrade"], ["users", "list"], ["demo", "load"]])
def test_a_database_out_of_reach_is_one_line_naming_it(command: list[str]) -> None:
    url = f"postgresql+asyncpg://cc:hunter2@127.0.0.1:{closed_port()}/cc"
    done = subprocess.run(
        [sys.executable, "-m", "callcenter", *command],
        env={"CALLCENTER_CONFIG": str(CONFIG), "CALLCENTER_DATABASE_URL": url},
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("callcenter: database.url: cannot use postgresql+asyncpg://")
    assert done.stderr.count("\n") == 1 and "hunter2" not in done.stderr


def closed_port() -> int:
    """A loopback port nothing listens on (bound and released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("queue", "key"),
    [
        ("      max_waiting: 5\n      overflow_target: {kind: callback}\n", "overflow_target"),
        ('      callback_key: "*"\n', "callback_key"),
    ],
)
def test_callbacks_need_an_outbound_uri_template(tmp_path: Path, queue: str, key: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("acd:\n  queues:\n    - name: helpdesk\n" + queue)
    with pytest.raises(ConfigError, match=rf"acd\.queues\.0\.{key}: callbacks need sip\.outbound"):
        load(path=path)
    env = {"CALLCENTER_SIP_OUTBOUND_URI_TEMPLATE": "sip:{number}@127.0.0.1:5070"}
    s = load(env, path=path)
    assert s.sip.outbound_uri_template == "sip:{number}@127.0.0.1:5070"
    assert s.acd.queues[0].dials_callbacks
    assert s.acd.queues[0].to_domain().name == "helpdesk"  # the key is the call flow's


@pytest.mark.parametrize(
    "template", ["sip:pbx.example.com", "tel:{number}", "sip:{nummer}@pbx", "sip:{0}@pbx"]
)
def test_outbound_uri_template_must_be_a_sip_uri_with_the_number(template: str) -> None:
    with pytest.raises(ConfigError, match=r"^sip\.outbound_uri_template|^sip: "):
        load({"CALLCENTER_SIP_OUTBOUND_URI_TEMPLATE": template})


@pytest.mark.parametrize("template", ["sip:pbx.example.com", "tel:{number}", "sip:{0}@pbx"])
def test_transfer_uri_template_must_be_a_sip_uri_with_the_number(template: str) -> None:
    with pytest.raises(ConfigError, match=r"transfer_uri_template"):
        load({"CALLCENTER_SIP_TRANSFER_URI_TEMPLATE": template})


@pytest.mark.parametrize(
    ("name", "value"), [("TRANSFER_MODE", "attended"), ("TRANSFER_TIMEOUT_SECONDS", "0")]
)
def test_transfer_settings_are_checked(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=rf"^sip\.{name.lower()}"):
        load({f"CALLCENTER_SIP_{name}": value})


def test_transfers_to_numbers_use_the_outbound_template_unless_given_their_own() -> None:
    s = load()
    assert (s.sip.transfer_mode, s.sip.transfer_template) == ("refer", None)
    outbound = {"CALLCENTER_SIP_OUTBOUND_URI_TEMPLATE": "sip:{number}@pbx"}
    assert load(outbound).sip.transfer_template == "sip:{number}@pbx"
    own = {**outbound, "CALLCENTER_SIP_TRANSFER_URI_TEMPLATE": "sip:{number}@ops"}
    assert load(own).sip.transfer_template == "sip:{number}@ops"


def test_callback_key_is_one_phone_key(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text('acd:\n  queues:\n    - name: helpdesk\n      callback_key: "**"\n')
    with pytest.raises(ConfigError, match=r"^acd\.queues\.0\.callback_key"):
        load(path=path)


def test_queue_announcements_are_off_unless_an_interval_is_set(tmp_path: Path) -> None:
    [queue] = load().acd.queues
    assert not queue.announcements.enabled
    path = tmp_path / "c.yaml"
    path.write_text(
        "sip:\n  outbound_uri_template: 'sip:{number}@127.0.0.1:5070'\n"
        "acd:\n  queues:\n    - name: helpdesk\n      announce_interval_seconds: 45\n"
        "      announce_wait: false\n      callback_key: '1'\n"
    )
    [queue] = load(path=path).acd.queues
    announcements = queue.announcements
    assert announcements.enabled and announcements.interval_seconds == 45
    assert (announcements.position, announcements.wait, announcements.callback_key) == (
        True,
        False,
        "1",
    )
    assert queue.to_domain().name == "helpdesk"  # announcements are the call flow's


@pytest.mark.parametrize(
    ("queue", "message"),
    [
        ("      announce_interval_seconds: -5\n", r"announce_interval_seconds: .*(got -5)"),
        ("      announce_position: maybe\n", r"announce_position: .*(got 'maybe')"),
        (
            "      announce_interval_seconds: 30\n      announce_position: false\n"
            "      announce_wait: false\n",
            r"^acd\.queues\.0: .*announce_interval_seconds is set but",
        ),
    ],
)
def test_bad_announcement_settings_name_the_key(tmp_path: Path, queue: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("acd:\n  queues:\n    - name: helpdesk\n" + queue)
    with pytest.raises(ConfigError, match=message):
        load(path=path)


@pytest.mark.parametrize(
    ("dispositions", "message"),
    [
        ("[resolved, Fixed]", r"acd\.dispositions\.1: String should match"),
        ("[resolved, resolved]", r"acd: .*dispositions must be unique"),
        ("[]", r"acd\.dispositions: List should have at least 1 item"),
    ],
)
def test_dispositions_are_checked(tmp_path: Path, dispositions: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"acd:\n  dispositions: {dispositions}\n")
    with pytest.raises(ConfigError, match=message):
        load(path=path)


def test_the_shipped_file_lists_the_default_dispositions() -> None:
    assert load().acd.dispositions == list(DEFAULT_DISPOSITIONS)


@pytest.mark.parametrize("days", ["-1", "367"])
def test_auto_close_days_is_checked(days: str) -> None:
    with pytest.raises(ConfigError, match=r"^ticketing\.auto_close_days"):
        load({"CALLCENTER_TICKETING_AUTO_CLOSE_DAYS": days})


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ("[[1, 2], [2, 3]]", "2 rows, expected 3"),
        ("[[3, 2, 1], [2, 3, 4], [3, 4, 4]]", "row 1: lower urgency gives a higher priority"),
        ("[[1, 2, 3], [2, 3, 4], [3, 4, 7]]", "row 3, column 3: 7 is outside 1..5"),
    ],
)
def test_a_bad_priority_matrix_is_named(tmp_path: Path, matrix: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"ticketing:\n  priority_matrix: {matrix}\n")
    with pytest.raises(ConfigError, match=rf"^ticketing\.priority_matrix: {message}"):
        load(path=path)


def test_the_naming_standard_defaults_to_the_case_studys() -> None:
    naming = load().ticketing.naming
    assert naming.standard() == DEFAULT_STANDARD
    assert naming.device_types == dict(DEFAULT_DEVICE_TYPES)
    assert naming.enforce == "reject" and naming.departments is None
    assert Settings().ticketing.naming.standard() == DEFAULT_STANDARD


def test_the_naming_standard_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "ticketing:\n  naming:\n"
        "    device_pattern: '(?P<department>[A-Z]{3})_(?P<type>[A-Z]{2})_(?P<serial>\\d{3})'\n"
        "    device_types: {PC: desktop, NB: notebook}\n"
        "    departments: [KJC, CGS]\n"
    )
    s = load({"CALLCENTER_TICKETING_NAMING_ENFORCE": "warn"}, path=path)
    standard = s.ticketing.naming.standard()
    assert s.ticketing.naming.enforce == "warn"
    assert str(standard.parse_device_name("KJC_PC_001")) == "KJC-PC-001"
    with pytest.raises(NamingError, match="unknown department 'NET'"):
        standard.parse_device_name("NET_NB_001")
    with pytest.raises(NamingError, match="unknown device type 'CO'"):
        standard.parse_device_name("KJC_CO_001")


def test_naming_variables_exist_for_scalars_only() -> None:
    names = env_names()
    assert names["CALLCENTER_TICKETING_NAMING_ENFORCE"] == ("ticketing", "naming", "enforce")
    assert names["CALLCENTER_TICKETING_NAMING_USER_PATTERN"] == (
        "ticketing",
        "naming",
        "user_pattern",
    )
    assert "CALLCENTER_TICKETING_NAMING_DEVICE_TYPES" not in names  # a mapping: file only
    assert "CALLCENTER_TICKETING_NAMING_DEPARTMENTS" not in names  # an optional list too
    with pytest.raises(ConfigError, match="CALLCENTER_TICKETING_NAMING_DEPARTMENTS: unknown"):
        load({"CALLCENTER_TICKETING_NAMING_DEPARTMENTS": "KJC"})


@pytest.mark.parametrize(
    ("naming", "message"),
    [
        ("asset_pattern: '(x'", r"^ticketing\.naming\.asset_pattern: .*not a regex"),
        (
            "user_pattern: '(?P<name>[a-z]+)'",
            r"^ticketing\.naming\.user_pattern: .*lacks the group 'department'",
        ),
        (
            "device_pattern: '(?P<department>[A-Z]+)-(?P<serial>\\d+)'",
            r"^ticketing\.naming\.device_pattern: .*lacks the group 'type'",
        ),
        ("device_types: {}", r"^ticketing\.naming\.device_types: "),
        ("device_types: {com: desktop}", r"^ticketing\.naming\.device_types\.com: "),
        ("departments: [kjc]", r"^ticketing\.naming\.departments\.0: String should match"),
        ("enforce: ignore", r"^ticketing\.naming\.enforce: Input should be 'reject' or 'warn'"),
        ("asset: x", r"^ticketing\.naming\.asset: unknown key"),
    ],
)
def test_a_bad_naming_standard_names_the_key(tmp_path: Path, naming: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"ticketing:\n  naming:\n    {naming}\n")
    with pytest.raises(ConfigError, match=message) as info:
        load(path=path)
    assert "\n" not in str(info.value)


def test_cli_naming_config_error_is_one_line_and_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "callcenter", "naming", "check", "0000COM1234"],
        env={
            "CALLCENTER_CONFIG": str(CONFIG),
            "CALLCENTER_TICKETING_NAMING_ASSET_PATTERN": "(?P<contract>\\d+)",
        },
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "ticketing.naming.asset_pattern" in done.stderr and "Traceback" not in done.stderr


SECRET_URLS = {
    "CALLCENTER_DATABASE_URL": "postgresql+asyncpg://desk:s3cret-db@db.example/desk",
    "CALLCENTER_REDIS_URL": "redis://:s3cret-redis@cache.example:6379/0",
    "CALLCENTER_AUTH_TOKEN_SECRET": "s3cret-token-0123456789abcdef-0123456789",
}


def test_callcenter_config_prints_no_secret(capsys: pytest.CaptureFixture[str]) -> None:
    from callcenter.cli import main

    with pytest.MonkeyPatch.context() as patch:
        for name, value in SECRET_URLS.items():
            patch.setenv(name, value)
        patch.setenv("CALLCENTER_CONFIG", str(CONFIG))
        assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out
    assert "postgresql+asyncpg://desk:***@db.example/desk" in out
    assert "redis://:***@cache.example:6379/0" in out


def test_config_errors_print_no_secret() -> None:
    bad_url = "mysql://desk:s3cret-db@db.example/desk"
    with pytest.raises(ConfigError) as caught:
        load({"CALLCENTER_DATABASE_URL": bad_url})
    assert "s3cret" not in str(caught.value)
    assert "mysql://desk:***@db.example/desk" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load({"CALLCENTER_AUTH_TOKEN_SECRET": "s3cret"}, CONFIG)
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql+asyncpg://u:p@h/d", "postgresql+asyncpg://u:***@h/d"),
        ("redis://:p@h:6379/0", "redis://:***@h:6379/0"),
        ("sqlite+aiosqlite:///var/callcenter.db", "sqlite+aiosqlite:///var/callcenter.db"),
        ("redis://h:6379/0", "redis://h:6379/0"),  # no password: nothing to hide
        ("'postgresql://a:b@h/d'", "'postgresql://a:***@h/d'"),
    ],
)
def test_redact_hides_url_passwords(text: str, shown: str) -> None:
    assert redact(text) == shown
