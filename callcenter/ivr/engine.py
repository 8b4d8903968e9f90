"""The IVR engine: one call through a data-defined flow, events in, actions out, no I/O.

    session = IvrSession(flow, caller, clock)
    session.start()                      -> [Play(...)]
    session.prompt_finished("main_menu") -> [StartTimer("main_menu/timeout/3", 5.0)]
    session.digit("2")                   -> [CancelTimer(...), Enqueue("helpdesk", ...)]
    session.timer_fired(timer_id)        -> ...

The host plays each prompt of a `Play` in order and reports each with `prompt_finished`,
sends DTMF with `digit`, runs timers and calls `timer_fired`, and stops the current
playback on `StopPlayback` (a key pressed during a prompt: barge-in) without reporting
the stopped prompts. After `Enqueue`, `Transfer` or `Hangup` the session is finished and
ignores further events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from callcenter.clock import Clock
from callcenter.ivr.flow import (
    CallerProfile,
    CancelTimer,
    Enqueue,
    Hangup,
    IvrAction,
    Play,
    StartTimer,
    StopPlayback,
    Transfer,
)
from callcenter.ivr.flowfile import (
    AttributeCondition,
    BranchNode,
    CollectNode,
    Flow,
    HangupNode,
    MenuNode,
    MessageNode,
    Node,
    PlayNode,
    PromptItem,
    QueueNode,
    SayDigits,
    SayNumber,
    SetNode,
    TransferNode,
)
from callcenter.ivr.numbers import say_digits, say_number

#: Nodes passed through without waiting for the caller before the engine gives up: a
#: loop of branch and set nodes would otherwise never end.
MAX_HOPS = 100

_TEMPLATE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class _Wait:
    """What the current node waits for."""

    playlist: list[str] = field(default_factory=list)
    position: int = 0
    timer: str | None = None
    digits: str = ""
    tries: int = 0

    @property
    def playing(self) -> bool:
        return self.position < len(self.playlist)


class IvrSession:
    """One caller in one flow. Not thread-safe; feed it from one task."""

    def __init__(self, flow: Flow, caller: CallerProfile, clock: Clock) -> None:
        self.flow = flow
        self.caller = caller
        self.clock = clock
        #: Queue, skills and priority for the ACD, as set by `set` nodes.
        self.queue: str | None = flow.queue
        self.skills: dict[str, int] = {}
        self.priority: int = flow.priority
        #: Attributes set by `collect` and `set` nodes; sent with `Enqueue`.
        self.attributes: dict[str, str] = {}
        #: (node, what happened) for logs and `callcenter ivr walk`.
        self.trace: list[tuple[str, str]] = []
        self.node: Node | None = None
        self.result: Enqueue | Transfer | Hangup | None = None
        self._wait = _Wait()
        self._typeahead = ""
        self._timer_seq = 0
        self._started = False

    @property
    def finished(self) -> bool:
        return self.result is not None

    # ----- events ----------------------------------------------------------------------

    def start(self) -> list[IvrAction]:
        if self._started:
            raise RuntimeError("the session has already started")
        self._started = True
        return self._goto(self.flow.start)

    def prompt_finished(self, prompt: str) -> list[IvrAction]:
        """A prompt of the last `Play` ended; a stale or unexpected name is ignored."""
        wait = self._wait
        if self.finished or not wait.playing or wait.playlist[wait.position] != prompt:
            return []
        wait.position += 1
        if wait.playing:
            return []
        return self._played()

    def digit(self, digit: str) -> list[IvrAction]:
        """A DTMF key: 0-9, * or #."""
        if self.finished or self.node is None or len(digit) != 1 or digit not in "0123456789*#":
            return []
        node, wait = self.node, self._wait
        actions: list[IvrAction] = []
        if isinstance(node, PlayNode):
            if not (node.barge_in and wait.playing):
                return []
            self._note(f"key {digit} during the prompts: stopped, kept for the next menu")
            self._typeahead += digit
            wait.playlist.clear()
            return [StopPlayback(), *self._goto(node.next)]
        if not isinstance(node, MenuNode | CollectNode):
            return []  # messages and transfers play to the end
        if wait.playing:
            wait.playlist.clear()
            wait.position = 0
            actions.append(StopPlayback())
            self._note(f"key {digit} barges in")
        if wait.timer is not None:
            actions.append(self._cancel_timer())
        if isinstance(node, MenuNode):
            return actions + self._menu_key(node, digit)
        return actions + self._collect_key(node, digit)

    def timer_fired(self, timer_id: str) -> list[IvrAction]:
        wait = self._wait
        if self.finished or wait.timer != timer_id:
            return []
        wait.timer = None
        node = self.node
        if isinstance(node, MenuNode):
            self._note(f"no key within {node.timeout:g} s")
            return self._menu_retry(node, node.no_input or node.retry)
        if isinstance(node, CollectNode):
            if wait.digits and len(wait.digits) >= node.min_digits:
                return self._collected(node, "inter-digit timeout")
            what = "no more digits" if wait.digits else "no digits"
            self._note(f"{what} within the timeout ({wait.digits or 'nothing'} entered)")
            return self._collect_retry(node)
        return []

    # ----- walking the nodes -------------------------------------------------------------

    def _goto(self, name: str) -> list[IvrAction]:
        actions: list[IvrAction] = []
        for _ in range(MAX_HOPS):
            node = self.flow.nodes[name]
            self.node = node
            self._wait = _Wait()
            step = self._enter(node)
            if isinstance(step, str):
                name = step
                continue
            actions += step
            return actions
        return self._finish(Hangup("ivr loop"), f"more than {MAX_HOPS} nodes without input")

    def _enter(self, node: Node) -> str | list[IvrAction]:
        """The next node's name to pass on at once, or the actions of a node that waits."""
        if isinstance(node, BranchNode):
            holds, why = self._test(node)
            target = node.then if holds else node.otherwise
            self._note(f"{why} -> {target}")
            return target
        if isinstance(node, SetNode):
            return self._set(node)
        if isinstance(node, QueueNode):
            enqueue = Enqueue(
                node.queue or self.queue or "",
                self.priority if node.priority is None else node.priority,
                dict(self.skills),
                dict(self.attributes),
            )
            return self._finish(enqueue, "")
        if isinstance(node, HangupNode):
            return self._finish(Hangup(node.reason), "")
        self._typeahead = "" if isinstance(node, MessageNode | TransferNode) else self._typeahead
        if isinstance(node, MenuNode | CollectNode) and self._typeahead:
            return self._replay_typeahead(node)
        prompts = self._expand(node_prompts(node))
        if not prompts:
            return self._played()
        self._wait.playlist = prompts
        self._note("plays " + " ".join(prompts))
        return [Play(prompts=tuple(prompts), language=self.flow.language)]

    def _replay_typeahead(self, node: MenuNode | CollectNode) -> list[IvrAction]:
        """Keys pressed during the announcement before: handled as if pressed now."""
        keys, self._typeahead = self._typeahead, ""
        self._note(f"keys {keys} pressed ahead: prompts skipped")
        actions: list[IvrAction] = []
        for key in keys:
            if self.node is not node or self.finished:
                break  # the keys after the one that left this node are dropped
            actions += self.digit(key)
        wait = self._wait
        if self.node is node and wait.timer is None and not wait.playing:
            actions += self._played()
        return actions

    def _played(self) -> list[IvrAction]:
        """The node's prompts are over: continue or start waiting for keys."""
        node = self.node
        if isinstance(node, PlayNode):
            return self._goto(node.next)
        if isinstance(node, MenuNode):
            return [self._start_timer("timeout", node.timeout)]
        if isinstance(node, CollectNode):
            if self._wait.digits:
                return [self._start_timer("inter_digit", node.inter_digit_timeout)]
            return [self._start_timer("first_digit", node.first_digit_timeout)]
        if isinstance(node, MessageNode):
            return self._finish(Hangup("message"), "")
        if isinstance(node, TransferNode):
            return self._finish(Transfer(node.target), "")
        return []

    def _test(self, node: BranchNode) -> tuple[bool, str]:
        condition = node.condition
        if isinstance(condition, AttributeCondition):
            value = self._value(condition.attribute)
            holds = condition.holds(value)
            return holds, f"{condition.attribute}={value!r}: {'yes' if holds else 'no'}"
        if condition in ("open", "closed"):
            is_open, why = self.flow.hours.why(self.clock.now())
            holds = is_open == (condition == "open")
            return holds, f"{'open' if is_open else 'closed'} ({why})"
        caller = self.caller
        if condition == "known":
            holds = caller.known
        elif condition == "vip":
            holds = caller.vip
        else:
            holds = caller.known and bool(caller.open_incident)
        return holds, f"caller {condition}: {'yes' if holds else 'no'}"

    def _set(self, node: SetNode) -> str:
        done: list[str] = []
        if node.queue is not None:
            self.queue = node.queue
            done.append(f"queue {node.queue}")
        if node.skills is not None:
            self.skills = dict(node.skills)
            done.append("skills " + (_pairs(self.skills) or "none"))
        if node.priority is not None:
            self.priority = node.priority
            done.append(f"priority {node.priority}")
        for key, template in node.attributes.items():
            self.attributes[key] = self._fill(template)
            done.append(f"{key}={self.attributes[key]}")
        self._note("sets " + ", ".join(done))
        return node.next

    # ----- menus ---------------------------------------------------------------------------

    def _menu_key(self, node: MenuNode, key: str) -> list[IvrAction]:
        target = node.choices.get(key)
        if target is not None:
            self._note(f"key {key} -> {target}")
            return self._goto(target)
        self._note(f"key {key} is not a choice")
        return self._menu_retry(node, node.retry)

    def _menu_retry(self, node: MenuNode, retry: tuple[PromptItem, ...]) -> list[IvrAction]:
        self._wait.tries += 1
        if self._wait.tries >= node.tries:
            self._note(f"{node.tries} tries used -> {node.default}")
            return self._goto(node.default)
        return self._replay(retry + node.prompts)

    def _replay(self, items: tuple[PromptItem, ...]) -> list[IvrAction]:
        prompts = self._expand(items)
        self._wait.playlist, self._wait.position = prompts, 0
        self._note(f"try {self._wait.tries + 1}: plays " + " ".join(prompts))
        return [Play(prompts=tuple(prompts), language=self.flow.language)]

    # ----- digit collection ----------------------------------------------------------------

    def _collect_key(self, node: CollectNode, key: str) -> list[IvrAction]:
        wait = self._wait
        if node.terminator is not None and key == node.terminator:
            if len(wait.digits) >= node.min_digits:
                return self._collected(node, f"terminated by {key}")
            self._note(f"{key} after {len(wait.digits)} digits, fewer than {node.min_digits}")
            return self._collect_retry(node)
        if not key.isdigit():
            self._note(f"key {key} is not a digit")
            return self._collect_retry(node)
        wait.digits += key
        if len(wait.digits) >= node.max_digits:
            return self._collected(node, f"{node.max_digits} digits")
        return [self._start_timer("inter_digit", node.inter_digit_timeout)]

    def _collected(self, node: CollectNode, how: str) -> list[IvrAction]:
        self.attributes[node.into] = self._wait.digits
        self._note(f"collected {node.into}={self._wait.digits} ({how}) -> {node.next}")
        return self._goto(node.next)

    def _collect_retry(self, node: CollectNode) -> list[IvrAction]:
        self._wait.digits = ""
        self._wait.tries += 1
        if self._wait.tries >= node.tries:
            self._note(f"{node.tries} tries used -> {node.default}")
            return self._goto(node.default)
        return self._replay(node.retry + node.prompts)

    # ----- helpers ----------------------------------------------------------------------------

    def _start_timer(self, kind: str, seconds: float) -> StartTimer:
        self._timer_seq += 1
        timer_id = f"{self.node.name if self.node else ''}/{kind}/{self._timer_seq}"
        self._wait.timer = timer_id
        self._note(f"waits {seconds:g} s for a key ({kind.replace('_', '-')} timer)")
        return StartTimer(timer_id, seconds)

    def _cancel_timer(self) -> CancelTimer:
        timer_id = self._wait.timer or ""
        self._wait.timer = None
        return CancelTimer(timer_id)

    def _finish(self, action: Enqueue | Transfer | Hangup, why: str) -> list[IvrAction]:
        self.result = action
        self._note(why or describe(action))
        return [action]

    def _note(self, text: str) -> None:
        self.trace.append((self.node.name if self.node else "", text))

    def _value(self, name: str) -> str | None:
        if name in self.attributes:
            return self.attributes[name]
        if name == "open_incident":
            return self.caller.open_incident
        return None

    def _fill(self, template: str) -> str:
        return _TEMPLATE.sub(lambda m: self._value(m.group(1)) or "", template)

    def _expand(self, items: tuple[PromptItem, ...]) -> list[str]:
        prompts: list[str] = []
        for item in items:
            if isinstance(item, SayDigits):
                prompts += say_digits(self._fill(item.template), self.flow.language)
            elif isinstance(item, SayNumber):
                value = self._fill(item.template)
                prompts += say_number(value, self.flow.language) if value else []
            else:
                prompts.append(item)
        return prompts


def node_prompts(node: Node) -> tuple[PromptItem, ...]:
    if isinstance(node, PlayNode | MenuNode | CollectNode | MessageNode | TransferNode):
        return node.prompts
    return ()


def _pairs(values: dict[str, int] | dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def describe(action: IvrAction) -> str:
    """One line for an action, as `ivr walk` prints it."""
    if isinstance(action, Enqueue):
        parts = [f"queue {action.queue}", f"priority {action.priority}"]
        if action.skills:
            parts.append("skills " + _pairs(dict(action.skills)))
        if action.attributes:
            parts.append("attributes " + _pairs(dict(action.attributes)))
        return "enqueue: " + ", ".join(parts)
    if isinstance(action, Transfer):
        return f"transfer to {action.target}"
    if isinstance(action, Hangup):
        return f"hang up ({action.reason})"
    if isinstance(action, Play):
        return "play " + " ".join(action.prompts)
    if isinstance(action, StartTimer):
        return f"start timer {action.timer_id} ({action.seconds:g} s)"
    if isinstance(action, CancelTimer):
        return f"cancel timer {action.timer_id}"
    return "stop playback"
