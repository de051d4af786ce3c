"""Detect requested actions in order from per-frame signals.

Each action is an excursion of one signal from the recording's own resting value (median),
so a face that rests with its mouth a little open or its head a little turned is judged
against itself. There is no time limit per action: a slow user who blinks two seconds after
the prompt passes; only the order and the presence within the recording count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pensioncert.liveness.landmarks import F64, Signals
from pensioncert.liveness.timing import action_window
from pensioncert.settings import LivenessSettings


@dataclass(frozen=True)
class ActionEvent:
    """One detected excursion: ``action`` peaking at ``peak`` seconds with ``strength`` (× threshold)."""

    action: str
    start: float
    end: float
    peak: float
    strength: float


@dataclass(frozen=True)
class ActionResult:
    passed: bool
    reason: str | None  # message code when not passed
    matched: list[ActionEvent]
    events: list[ActionEvent]
    strengths: dict[str, float]  # best excursion per requested action, in thresholds (>= 1 seen)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index runs where ``mask`` is true."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _excursions(action: str, score: F64, times: F64, max_gap: int = 1) -> list[ActionEvent]:
    """Runs where ``score`` (deviation / threshold) reaches 1, bridged over single dropped frames.

    Hysteresis: a run is the span above 0.5 that contains a point above 1, so one event is
    not split into two by landmark jitter at the threshold.
    """
    valid = ~np.isnan(score)
    s = np.where(valid, score, 0.0)
    events: list[ActionEvent] = []
    low = s >= 0.5
    # bridge gaps of missing frames (face briefly lost mid-turn) so a turn stays one event
    for a, b in _runs(~valid):
        if b - a <= max_gap and a > 0 and b < len(s) and low[a - 1] and low[b]:
            low[a:b] = True
    for a, b in _runs(low):
        seg = s[a:b]
        if seg.max() < 1.0:
            continue
        k = a + int(np.argmax(seg))
        events.append(ActionEvent(action, float(times[a]), float(times[b - 1]), float(times[k]),
                                  float(seg.max())))
    return events


def action_scores(sig: Signals, settings: LivenessSettings) -> dict[str, F64]:
    """Per-frame deviation of each action's signal from rest, in units of its threshold."""

    def rest(x: F64) -> float:
        return float(np.nanmedian(x)) if np.any(~np.isnan(x)) else float("nan")

    ear0 = rest(sig.ear)
    return {
        "blink": (1.0 - sig.ear / ear0) / (1.0 - settings.blink_ear_ratio),
        "open_mouth": (sig.mouth - rest(sig.mouth)) / settings.mouth_open_delta,
        "turn_left": (sig.yaw - rest(sig.yaw)) / settings.turn_yaw_delta,
        "turn_right": (rest(sig.yaw) - sig.yaw) / settings.turn_yaw_delta,
        "nod": np.abs(sig.pitch - rest(sig.pitch)) / settings.nod_pitch_delta,
    }


def detect_actions(sig: Signals, times: F64, requested: tuple[str, ...],
                   settings: LivenessSettings) -> ActionResult:
    """Find ``requested`` actions in that order; extra actions (natural blinks) are allowed.

    Matching is greedy on peak times: the first excursion of action 1, then the first of
    action 2 peaking after it, and so on — the earliest fit leaves the most room for the rest.
    """
    scores = action_scores(sig, settings)
    events: list[ActionEvent] = []
    for action in requested:
        events.extend(_excursions(action, scores[action], times))
    events.sort(key=lambda e: e.peak)
    strengths = {a: float(np.nanmax(scores[a])) if np.any(~np.isnan(scores[a])) else 0.0
                 for a in requested}
    matched: list[ActionEvent] = []
    cursor = -np.inf
    for action in requested:
        nxt = next((e for e in events if e.action == action and e.peak > cursor), None)
        if nxt is None:
            seen_somewhere = any(e.action == action for e in events)
            reason = "liveness.actions_wrong_order" if seen_somewhere else "liveness.action_not_seen"
            return ActionResult(False, reason, matched, events, strengths)
        matched.append(nxt)
        cursor = nxt.peak
    return ActionResult(True, None, matched, events, strengths)


CHALLENGE_ACTIONS = ("blink", "open_mouth", "turn_left", "turn_right", "nod")
# A second excursion of the same action starting within this long after the answered one ends is
# the same movement: a nod is chin down-up-down-up (two pitch excursions ~0.5 s apart in the
# synthetic suite), a slow turn may dip under half the threshold and come back.
SAME_MOVEMENT_GAP_S = 0.6

# (seen, answered): a signal the answered movement itself moves, so an excursion of ``seen``
# during it is that movement, not another. A head turn or a nod shifts the nose against the
# chin and the eyes (the other head-pose signal); opening the mouth drops the chin (the nod
# signal); a turn foreshortens the mouth's width, and on some faces that alone lifts the mouth
# ratio past its threshold (ocv_actress_a: 5 of 5 rendered turn_right/turn_left answers showed
# an open_mouth excursion). Anything else during an answered action is an action of its own:
# a turn or nod during a blink or a mouth opening, a mouth opening during a nod, another turn.
CROSSTALK = frozenset({
    ("nod", "turn_left"), ("nod", "turn_right"), ("turn_left", "nod"), ("turn_right", "nod"),
    ("nod", "open_mouth"), ("open_mouth", "turn_left"), ("open_mouth", "turn_right"),
})


@dataclass(frozen=True)
class TimedActionResult:
    """Timed actions: each requested action's onset inside its response window, nothing else done."""

    passed: bool
    reasons: list[str]
    matched: list[ActionEvent | None]  # per requested step: the event that answered it
    latencies: list[float | None]  # onset minus prompt, per requested step
    unrequested: list[ActionEvent]
    events: list[ActionEvent]
    strengths: dict[str, float]


def detect_timed_actions(sig: Signals, times: F64, requested: tuple[str, ...], schedule: tuple[float, ...],
                         settings: LivenessSettings) -> TimedActionResult:
    """Match each requested action to an excursion that *begins* inside its response window.

    The window of step ``i`` is ``[prompt_i + action_response_min_seconds, prompt_i +
    action_response_max_seconds]``; the onset is the first frame of the excursion (half the
    threshold, hysteresis as in ``_excursions``). Steps match in order (a later step's onset
    after the earlier one's). Any excursion of a challenge action that answers no step fails
    ``liveness.unrequested_action``, except blinks (people blink every few seconds), the rest
    of an answered movement (``SAME_MOVEMENT_GAP_S``) and excursions of a signal the matched
    action itself moves, during it (``CROSSTALK``: a turn moves the nose against the chin).
    A recording made for another schedule, or one that does every action, therefore fails.
    """
    scores = action_scores(sig, settings)
    strengths = {a: float(np.nanmax(scores[a])) if np.any(~np.isnan(scores[a])) else 0.0 for a in CHALLENGE_ACTIONS}
    events: list[ActionEvent] = []
    for action in CHALLENGE_ACTIONS:
        events.extend(_excursions(action, scores[action], times))
    events.sort(key=lambda e: e.start)
    matched: list[ActionEvent | None] = []
    latencies: list[float | None] = []
    reasons: list[str] = []
    cursor = -np.inf
    for action, prompt in zip(requested, schedule, strict=True):
        low, high = action_window(prompt, settings)
        hit = next((e for e in events if e.action == action and low <= e.start <= high
                    and e.start > cursor and e not in matched), None)
        matched.append(hit)
        latencies.append(None if hit is None else hit.start - prompt)
        if hit is None:
            seen = any(e.action == action for e in events)
            reasons.append("liveness.action_not_in_time" if seen else "liveness.action_not_seen")
        else:
            cursor = hit.start
    answered = [m for m in matched if m is not None]
    unrequested = [
        e for e in events
        if e.action != "blink" and e not in answered
        and not any((e.action, m.action) in CROSSTALK and m.start - 0.2 <= e.peak <= m.end + 0.2 for m in answered)
        and not any(e.action == m.action and e.start <= m.end + SAME_MOVEMENT_GAP_S and m.start <= e.end
                    for m in answered)
    ]
    if unrequested:
        reasons.append("liveness.unrequested_action")
    return TimedActionResult(not reasons, list(dict.fromkeys(reasons)), matched, latencies, unrequested, events,
                             strengths)
