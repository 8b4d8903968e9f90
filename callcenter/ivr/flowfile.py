"""IVR flows as data: the node model, the loader of config/ivr.yaml and its validator.

`load_flows(path)` reads a flow file (and the file it names as `base`, the prompt
catalogue and the holiday calendars), checks everything a caller could stumble over —
a `next` naming no node, a prompt missing from the catalogue, an unreachable node, a
menu without a default, a bad timer — and raises `IvrConfigError` with one line naming
the file and the node. The format is described in docs/ivr.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from callcenter.ivr.hours import BusinessHours, parse_days, parse_interval
from callcenter.ivr.numbers import LANGUAGES, is_number_prompt, number_prompts

#: Timers (seconds) a flow may set: more than zero, at most this.
MAX_TIMER_SECONDS = 120.0
MAX_DIGITS = 32
MAX_TRIES = 10
#: Call attributes every flow may read in templates, filled from the caller lookup.
BUILTIN_ATTRIBUTES = frozenset({"open_incident"})
MENU_KEYS = frozenset("0123456789*#")
CALLER_CONDITIONS = ("known", "vip", "open_incident")
HOURS_CONDITIONS = ("open", "closed")

_TEMPLATE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_TRANSFER = re.compile(r"^(sips?:\S+@\S+|sips?:\+?[0-9]+|\+?[0-9]{2,20})$")


class IvrConfigError(Exception):
    """A flow file that must not reach a caller; the message is one line."""


# ----- the model ------------------------------------------------------------------------


@dataclass(frozen=True)
class SayDigits:
    template: str  # e.g. "{open_incident}"


@dataclass(frozen=True)
class SayNumber:
    template: str


PromptItem = str | SayDigits | SayNumber


@dataclass(frozen=True)
class AttributeCondition:
    """True when the attribute is set and non-empty, equals `equals`, or matches `matches`."""

    attribute: str
    equals: str | None = None
    matches: str | None = None

    def holds(self, value: str | None) -> bool:
        if not value:
            return False
        if self.equals is not None:
            return value == self.equals
        if self.matches is not None:
            return re.fullmatch(self.matches, value) is not None
        return True


#: "open"/"closed" (business hours), "known"/"vip"/"open_incident" (the caller), or a test
#: on a call attribute (a collected value).
Condition = str | AttributeCondition


@dataclass(frozen=True, kw_only=True)
class Node:
    name: str

    def targets(self) -> list[tuple[str, str]]:
        """(key, node name) of every node this one may continue with."""
        return []


@dataclass(frozen=True, kw_only=True)
class PlayNode(Node):
    prompts: tuple[PromptItem, ...]
    next: str
    barge_in: bool = True

    def targets(self) -> list[tuple[str, str]]:
        return [("next", self.next)]


@dataclass(frozen=True, kw_only=True)
class MenuNode(Node):
    prompts: tuple[PromptItem, ...]
    choices: Mapping[str, str]
    default: str
    tries: int = 3
    timeout: float = 5.0
    retry: tuple[PromptItem, ...] = ()
    no_input: tuple[PromptItem, ...] = ()

    def targets(self) -> list[tuple[str, str]]:
        return [(f"choices.{k}", v) for k, v in self.choices.items()] + [("default", self.default)]


@dataclass(frozen=True, kw_only=True)
class CollectNode(Node):
    prompts: tuple[PromptItem, ...]
    into: str
    max_digits: int
    next: str
    default: str
    min_digits: int = 1
    terminator: str | None = "#"
    first_digit_timeout: float = 8.0
    inter_digit_timeout: float = 4.0
    tries: int = 3
    retry: tuple[PromptItem, ...] = ()

    def targets(self) -> list[tuple[str, str]]:
        return [("next", self.next), ("default", self.default)]


@dataclass(frozen=True, kw_only=True)
class BranchNode(Node):
    condition: Condition
    then: str
    otherwise: str

    def targets(self) -> list[tuple[str, str]]:
        return [("then", self.then), ("else", self.otherwise)]


@dataclass(frozen=True, kw_only=True)
class SetNode(Node):
    next: str
    queue: str | None = None
    skills: Mapping[str, int] | None = None
    priority: int | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)

    def targets(self) -> list[tuple[str, str]]:
        return [("next", self.next)]


@dataclass(frozen=True, kw_only=True)
class QueueNode(Node):
    queue: str | None = None
    priority: int | None = None


@dataclass(frozen=True, kw_only=True)
class TransferNode(Node):
    target: str
    prompts: tuple[PromptItem, ...] = ()


@dataclass(frozen=True, kw_only=True)
class MessageNode(Node):
    prompts: tuple[PromptItem, ...]


@dataclass(frozen=True, kw_only=True)
class HangupNode(Node):
    reason: str = "ivr"


@dataclass(frozen=True)
class Flow:
    name: str
    language: str
    start: str
    nodes: Mapping[str, Node]
    hours: BusinessHours = field(default_factory=lambda: BusinessHours(always=True))
    queue: str | None = None
    priority: int = 0
    source: Path | None = None

    def prompt_names(self) -> list[str]:
        """Every prompt the flow may play (all number prompts if it speaks numbers), for
        `PromptLibrary.require` at start-up."""
        names: dict[str, None] = {}
        for node in self.nodes.values():
            for key in ("prompts", "retry", "no_input"):
                for item in getattr(node, key, ()):
                    if isinstance(item, str):
                        names[item] = None
                    else:
                        names.update(dict.fromkeys(number_prompts(self.language)))
        return list(names)


@dataclass(frozen=True)
class FlowSet:
    """The flows of one file; `default` serves callers whose language has no flow."""

    flows: Mapping[str, Flow]
    default: str
    languages: Mapping[str, str] = field(default_factory=dict)
    source: Path | None = None

    def get(self, name: str | None = None) -> Flow:
        key = name or self.default
        if key not in self.flows:
            raise KeyError(f"no flow {key!r}; flows: {', '.join(sorted(self.flows))}")
        return self.flows[key]

    def for_language(self, language: str) -> Flow:
        return self.flows[self.languages.get(language, self.default)]


# ----- loading --------------------------------------------------------------------------


def load_flows(path: Path, catalogue: Path | None = None) -> FlowSet:
    """Read and validate a flow file; `catalogue` overrides the file's `prompts` key."""
    raw = _read_layers(Path(path), set())
    prompts_file = catalogue or raw.get("prompts") or Path(path).parent / "prompts.yaml"
    known_prompts = _read_catalogue(Path(prompts_file), Path(path))
    return _build(raw, Path(path), known_prompts)


def _fail(where: Path, flow: str | None, node: str | None, problem: str) -> IvrConfigError:
    parts = [str(where)]
    if flow is not None:
        parts.append(f"flow {flow!r}")
    if node is not None:
        parts.append(f"node {node!r}")
    message = ": ".join([", ".join(parts), problem])
    return IvrConfigError(" ".join(message.split()))


def _load_yaml(path: Path, ctx: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _fail(ctx, None, None, f"cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise _fail(path, None, None, f"not valid YAML{at}") from None


def _read_layers(path: Path, seen: set[Path]) -> dict[str, Any]:
    """The file's top level, over the top level of its `base` (flows merged by name).

    Relative paths are made absolute against the file that names them, and every flow
    remembers its file for error messages.
    """
    resolved = path.resolve()
    if resolved in seen:
        raise _fail(path, None, None, "the chain of 'base' files loops")
    seen.add(resolved)
    data = _load_yaml(path, path)
    if not isinstance(data, dict):
        raise _fail(path, None, None, "expected a mapping with 'flows'")
    allowed = {"base", "prompts", "default", "languages", "hours", "flows"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise _fail(path, None, None, f"unknown key {unknown[0]!r}")
    here = path.parent
    layer: dict[str, Any] = dict(data)
    if isinstance(layer.get("prompts"), str):
        layer["prompts"] = here / layer["prompts"]
    layer["hours"] = _anchor_hours(layer.get("hours"), here, path)
    flows = layer.get("flows") or {}
    if not isinstance(flows, dict):
        raise _fail(path, None, None, "'flows' must map flow names to flows")
    anchored: dict[str, Any] = {}
    for name, spec in flows.items():
        if not isinstance(spec, dict):
            raise _fail(path, str(name), None, "a flow must be a mapping")
        spec = dict(spec)
        spec["hours"] = _anchor_hours(spec.get("hours"), here, path)
        spec["__source__"] = path
        anchored[str(name)] = spec
    layer["flows"] = anchored
    base = layer.pop("base", None)
    if base is None:
        return layer
    merged = _read_layers(here / str(base), seen)
    for key, value in layer.items():
        if key == "flows":
            merged["flows"] = {**merged.get("flows", {}), **value}
        elif key == "hours":
            if value is not None:
                merged["hours"] = value
        else:
            merged[key] = value
    return merged


def _anchor_hours(hours: Any, here: Path, path: Path) -> Any:
    if isinstance(hours, dict):
        hours = dict(hours)
        if isinstance(hours.get("holidays"), str):
            hours["holidays"] = here / hours["holidays"]
        hours["__source__"] = path
    return hours


def _read_catalogue(path: Path, ctx: Path) -> dict[str, frozenset[str]]:
    data = _load_yaml(path, ctx)
    try:
        return {
            str(lang): frozenset(map(str, section["prompts"])) for lang, section in data.items()
        }
    except (AttributeError, KeyError, TypeError):
        raise _fail(path, None, None, "each language needs a 'prompts' mapping") from None


def _build(raw: dict[str, Any], path: Path, catalogue: dict[str, frozenset[str]]) -> FlowSet:
    flows_raw: dict[str, Any] = raw.get("flows") or {}
    if not flows_raw:
        raise _fail(path, None, None, "no flows")
    default_hours = raw.get("hours")
    flows = {name: _flow(name, spec, default_hours, catalogue) for name, spec in flows_raw.items()}
    default = str(raw.get("default") or next(iter(flows)))
    if default not in flows:
        raise _fail(path, None, None, f"'default' names no flow: {default!r}")
    languages = raw.get("languages") or {}
    if not isinstance(languages, dict):
        raise _fail(path, None, None, "'languages' must map a language to a flow")
    for lang, flow_name in languages.items():
        if str(flow_name) not in flows:
            raise _fail(path, None, None, f"languages.{lang} names no flow: {flow_name!r}")
    return FlowSet(flows, default, {str(k): str(v) for k, v in languages.items()}, path)


class _FlowReader:
    """Reads one flow's nodes; every error names the file, the flow and the node."""

    def __init__(self, name: str, source: Path, language: str, prompts: frozenset[str]) -> None:
        self.flow = name
        self.source = source
        self.language = language
        self.prompts = prompts
        self.node: str | None = None
        self.templates: list[tuple[str, str]] = []  # (node, variable)

    def fail(self, problem: str) -> IvrConfigError:
        return _fail(self.source, self.flow, self.node, problem)

    # -- scalar helpers ------------------------------------------------------------------

    def keys(self, spec: dict[str, Any], required: set[str], optional: set[str]) -> None:
        for key in sorted(required - set(spec)):
            raise self.fail(f"missing {key!r}")
        for key in sorted(set(spec) - required - optional - {"kind"}):
            raise self.fail(f"unknown key {key!r}")

    def name_ref(self, spec: dict[str, Any], key: str) -> str:
        value = spec[key]
        if not isinstance(value, str) or not value:
            raise self.fail(f"{key!r} must name a node")
        return value

    def timer(self, spec: dict[str, Any], key: str, default: float) -> float:
        value = spec.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"bad timer {key}: {value!r} is not a number of seconds")
        if not 0 < value <= MAX_TIMER_SECONDS:
            raise self.fail(f"bad timer {key}: {value} s is not above 0 and at most 120")
        return float(value)

    def integer(self, spec: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
        value = spec.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(f"{key} must be a whole number from {low} to {high}, not {value!r}")
        return value

    def attribute_name(self, value: Any, what: str) -> str:
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise self.fail(f"{what} {value!r} is not an attribute name")
        return value

    def template(self, value: Any, what: str) -> str:
        text = str(value) if isinstance(value, str | int) else None
        if text is None:
            raise self.fail(f"{what} must be text")
        self.templates += [(self.node or "", v) for v in _TEMPLATE.findall(text)]
        return text

    def prompt_list(
        self, spec: dict[str, Any], key: str, *, required: bool
    ) -> tuple[PromptItem, ...]:
        value = spec.get(key)
        if value is None:
            if required:
                raise self.fail(f"missing {key!r}")
            return ()
        items = [value] if isinstance(value, str | dict) else value
        if not isinstance(items, list) or (required and not items):
            raise self.fail(f"{key!r} must be a prompt or a list of prompts")
        return tuple(self.prompt_item(item) for item in items)

    def prompt_item(self, item: Any) -> PromptItem:
        if isinstance(item, str):
            if item not in self.prompts and not is_number_prompt(item, self.language):
                raise self.fail(
                    f"unknown prompt {item!r}: not in the {self.language!r} prompt catalogue"
                )
            return item
        if isinstance(item, dict) and len(item) == 1:
            ((kind, value),) = item.items()
            if kind == "say_digits":
                return SayDigits(self.template(value, "say_digits"))
            if kind == "say_number":
                return SayNumber(self.template(value, "say_number"))
        raise self.fail(f"bad prompt {item!r}: a name, {{say_digits: ...}} or {{say_number: ...}}")

    # -- nodes -------------------------------------------------------------------------------

    def node_of(self, name: str, spec: Any) -> Node:
        self.node = name
        if not _NAME.match(name):
            raise self.fail("a node name is letters, digits, '_', '-' and '.'")
        if not isinstance(spec, dict):
            raise self.fail("a node must be a mapping with a 'kind'")
        kind = spec.get("kind")
        reader = getattr(self, f"_{kind}", None) if isinstance(kind, str) else None
        if reader is None:
            raise self.fail(
                f"unknown kind {kind!r}: play, menu, collect, branch, set, queue, transfer, "
                "message or hangup"
            )
        node: Node = reader(name, spec)
        return node

    def _play(self, name: str, spec: dict[str, Any]) -> Node:
        self.keys(spec, {"prompts", "next"}, {"barge_in"})
        return PlayNode(
            name=name,
            prompts=self.prompt_list(spec, "prompts", required=True),
            next=self.name_ref(spec, "next"),
            barge_in=bool(spec.get("barge_in", True)),
        )

    def _menu(self, name: str, spec: dict[str, Any]) -> Node:
        if "default" not in spec:
            raise self.fail("a menu needs a 'default' branch (taken after the last try)")
        self.keys(
            spec, {"prompts", "choices", "default"}, {"tries", "timeout", "retry", "no_input"}
        )
        choices = spec["choices"]
        if not isinstance(choices, dict) or not choices:
            raise self.fail("'choices' must map keys to nodes")
        checked: dict[str, str] = {}
        for key, target in choices.items():
            digit = str(key)
            if digit not in MENU_KEYS:
                raise self.fail(f"choice {key!r} is not a single key 0-9, * or #")
            if not isinstance(target, str) or not target:
                raise self.fail(f"choices.{digit} must name a node")
            checked[digit] = target
        return MenuNode(
            name=name,
            prompts=self.prompt_list(spec, "prompts", required=True),
            choices=checked,
            default=self.name_ref(spec, "default"),
            tries=self.integer(spec, "tries", 3, 1, MAX_TRIES),
            timeout=self.timer(spec, "timeout", 5.0),
            retry=self.prompt_list(spec, "retry", required=False),
            no_input=self.prompt_list(spec, "no_input", required=False),
        )

    def _collect(self, name: str, spec: dict[str, Any]) -> Node:
        self.keys(
            spec,
            {"prompts", "into", "max_digits", "next", "default"},
            {
                "min_digits",
                "terminator",
                "first_digit_timeout",
                "inter_digit_timeout",
                "tries",
                "retry",
            },
        )
        high = self.integer(spec, "max_digits", 1, 1, MAX_DIGITS)
        low = self.integer(spec, "min_digits", 1, 1, high)
        terminator = spec.get("terminator", "#")
        if terminator not in (None, "", "#", "*"):
            raise self.fail(f"terminator {terminator!r} is not '#', '*' or none")
        return CollectNode(
            name=name,
            prompts=self.prompt_list(spec, "prompts", required=True),
            into=self.attribute_name(spec["into"], "into"),
            min_digits=low,
            max_digits=high,
            terminator=terminator or None,
            first_digit_timeout=self.timer(spec, "first_digit_timeout", 8.0),
            inter_digit_timeout=self.timer(spec, "inter_digit_timeout", 4.0),
            tries=self.integer(spec, "tries", 3, 1, MAX_TRIES),
            retry=self.prompt_list(spec, "retry", required=False),
            next=self.name_ref(spec, "next"),
            default=self.name_ref(spec, "default"),
        )

    def _branch(self, name: str, spec: dict[str, Any]) -> Node:
        self.keys(spec, {"if", "then", "else"}, set())
        return BranchNode(
            name=name,
            condition=self.condition(spec["if"]),
            then=self.name_ref(spec, "then"),
            otherwise=self.name_ref(spec, "else"),
        )

    def condition(self, value: Any) -> Condition:
        if isinstance(value, str) and value in HOURS_CONDITIONS + CALLER_CONDITIONS:
            return value
        if isinstance(value, dict) and "attribute" in value:
            extra = set(value) - {"attribute", "equals", "matches"}
            if extra or ("equals" in value and "matches" in value):
                raise self.fail("an attribute test has 'attribute' and 'equals' or 'matches'")
            attribute = self.attribute_name(value["attribute"], "attribute")
            self.templates.append((self.node or "", attribute))
            matches = value.get("matches")
            if matches is not None:
                try:
                    re.compile(str(matches))
                except re.error as exc:
                    raise self.fail(f"'matches' is not a regular expression: {exc}") from None
            equals = value.get("equals")
            return AttributeCondition(
                attribute,
                None if equals is None else str(equals),
                None if matches is None else str(matches),
            )
        raise self.fail(
            f"bad condition {value!r}: open, closed, known, vip, open_incident or "
            "{attribute: NAME, equals: VALUE | matches: REGEX}"
        )

    def _set(self, name: str, spec: dict[str, Any]) -> Node:
        self.keys(spec, {"next"}, {"queue", "skills", "priority", "attributes"})
        if not set(spec) & {"queue", "skills", "priority", "attributes"}:
            raise self.fail("a set node sets queue, skills, priority or attributes")
        attributes = spec.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise self.fail("'attributes' must map names to values")
        return SetNode(
            name=name,
            next=self.name_ref(spec, "next"),
            queue=self.queue_name(spec),
            skills=self.skills(spec["skills"]) if "skills" in spec else None,
            priority=self.priority(spec),
            attributes={
                self.attribute_name(k, "attribute"): self.template(v, f"attributes.{k}")
                for k, v in attributes.items()
            },
        )

    def queue_name(self, spec: dict[str, Any]) -> str | None:
        value = spec.get("queue")
        if value is not None and (not isinstance(value, str) or not value):
            raise self.fail("'queue' must name a queue")
        return value

    def priority(self, spec: dict[str, Any]) -> int | None:
        if "priority" not in spec:
            return None
        return self.integer(spec, "priority", 0, 0, 1000)

    def skills(self, value: Any) -> dict[str, int]:
        if not isinstance(value, dict):
            raise self.fail("'skills' must map skill names to levels 1-10")
        checked: dict[str, int] = {}
        for skill, level in value.items():
            if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10:
                raise self.fail(f"skill {skill!r}: level {level!r} is not from 1 to 10")
            checked[str(skill)] = level
        return checked

    def _queue(self, name: str, spec: dict[str, Any]) -> Node:
        self.keys(spec, set(), {"queue", "priority"})
        return QueueNode(name=name, queue=self.queue_name(spec), priority=self.priority(spec))

    def _transfer(self, name: str, spec: dict[str, Any]) -> Node:
        self.keys(spec, {"target"}, {"prompts"})
        target = str(spec["target"])
        if not _TRANSFER.match(target):
            raise self.fail(f"transfer target {target!r} is not a sip: URI or a number")
        return TransferNode(
            name=name, target=target, prompts=self.prompt_list(spec, "prompts", required=False)
        )

    def _message(self, name: str, spec: dict[str, Any]) -> Node:
        self.keys(spec, {"prompts"}, set())
        return MessageNode(name=name, prompts=self.prompt_list(spec, "prompts", required=True))

    def _hangup(self, name: str, spec: dict[str, Any]) -> Node:
        self.keys(spec, set(), {"reason"})
        return HangupNode(name=name, reason=str(spec.get("reason", "ivr")))


def _flow(
    name: str, spec: dict[str, Any], default_hours: Any, catalogue: dict[str, frozenset[str]]
) -> Flow:
    source: Path = spec.pop("__source__")
    allowed = {"language", "start", "nodes", "hours", "queue", "priority"}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise _fail(source, name, None, f"unknown key {unknown[0]!r}")
    language = spec.get("language", "en")
    if language not in LANGUAGES:
        raise _fail(source, name, None, f"language {language!r} is not one of en, zh")
    if language not in catalogue:
        raise _fail(source, name, None, f"the prompt catalogue has no language {language!r}")
    reader = _FlowReader(name, source, language, catalogue[language])
    nodes_raw = spec.get("nodes")
    if not isinstance(nodes_raw, dict) or not nodes_raw:
        raise _fail(source, name, None, "'nodes' must map node names to nodes")
    nodes = {str(n): reader.node_of(str(n), s) for n, s in nodes_raw.items()}
    reader.node = None
    start = str(spec.get("start") or next(iter(nodes)))
    if start not in nodes:
        raise _fail(source, name, None, f"'start' names no node: {start!r}")
    queue = spec.get("queue")
    priority = reader.integer(spec, "priority", 0, 0, 1000)
    _check_graph(source, name, start, nodes, queue)
    _check_templates(source, name, nodes, reader.templates)
    hours_spec = spec.get("hours") if spec.get("hours") is not None else default_hours
    hours = _hours(hours_spec, source, name)
    return Flow(name, language, start, nodes, hours, queue, priority, source)


def _check_graph(source: Path, flow: str, start: str, nodes: dict[str, Node], queue: Any) -> None:
    for node in nodes.values():
        for key, target in node.targets():
            if target not in nodes:
                raise _fail(source, flow, node.name, f"{key} names no node: {target!r}")
        if isinstance(node, QueueNode) and node.queue is None and not queue:
            raise _fail(source, flow, node.name, "no queue: give the node or the flow a 'queue'")
    reached = {start}
    todo = [start]
    while todo:
        for _, target in nodes[todo.pop()].targets():
            if target not in reached:
                reached.add(target)
                todo.append(target)
    for name in nodes:
        if name not in reached:
            raise _fail(source, flow, name, f"unreachable from the start node {start!r}")


def _check_templates(
    source: Path, flow: str, nodes: dict[str, Node], used: list[tuple[str, str]]
) -> None:
    assigned = set(BUILTIN_ATTRIBUTES)
    for node in nodes.values():
        if isinstance(node, CollectNode):
            assigned.add(node.into)
        elif isinstance(node, SetNode):
            assigned.update(node.attributes)
    for node_name, variable in used:
        if variable not in assigned:
            raise _fail(
                source,
                flow,
                node_name,
                f"attribute {variable!r} is never set (collect 'into', set 'attributes', "
                "or open_incident)",
            )


def _hours(spec: Any, source: Path, flow: str) -> BusinessHours:
    if spec is None or spec == "always":
        return BusinessHours(always=True)
    if not isinstance(spec, dict):
        raise _fail(source, flow, None, "hours: 'always' or a mapping with timezone and weekly")
    where: Path = spec.get("__source__", source)

    def fail(problem: str) -> IvrConfigError:
        return _fail(where, flow, None, f"hours: {problem}")

    unknown = sorted(set(spec) - {"timezone", "weekly", "holidays", "__source__"})
    if unknown:
        raise fail(f"unknown key {unknown[0]!r}")
    zone = str(spec.get("timezone", ""))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(f"unknown time zone {zone!r}") from None
    weekly_raw = spec.get("weekly")
    if not isinstance(weekly_raw, dict) or not weekly_raw:
        raise fail("'weekly' must map days (mon, mon-fri) to HH:MM-HH:MM or closed")
    weekly: dict[int, tuple[tuple[int, int], ...]] = {}
    for days, value in weekly_raw.items():
        values = value if isinstance(value, list) else [value]
        try:
            intervals = tuple(sorted(parse_interval(str(v)) for v in values if str(v) != "closed"))
            day_list = parse_days(str(days))
        except ValueError as exc:
            raise fail(f"weekly.{days}: {exc}") from None
        for day in day_list:
            weekly[day] = intervals
    holidays: dict[dt.date, str] = {}
    if spec.get("holidays") is not None:
        holidays = _holidays(Path(spec["holidays"]), where)
    return BusinessHours(timezone=zone, weekly=weekly, holidays=holidays)


def _holidays(path: Path, ctx: Path) -> dict[dt.date, str]:
    data = _load_yaml(path, ctx)
    entries = data.get("holidays") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise _fail(path, None, None, "expected 'holidays': a list of {date, name}")
    days: dict[dt.date, str] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("date"), dt.date):
            raise _fail(path, None, None, f"bad holiday {entry!r}: needs date: YYYY-MM-DD")
        until = entry.get("until", entry["date"])
        if not isinstance(until, dt.date) or until < entry["date"]:
            raise _fail(path, None, None, f"bad holiday {entry!r}: 'until' before 'date'")
        day: dt.date = entry["date"]
        while day <= until:
            days[day] = str(entry.get("name", "holiday"))
            day += dt.timedelta(days=1)
    return days
