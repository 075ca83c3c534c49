"""TikTok's envelope codes, and what the tap does with each: the one table of them.

TikTok answers HTTP 200 for almost everything and names the failure in the body's ``code``.
Every tap module that reacts to a code reads it from here; no other module spells a code out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Action(enum.Enum):
    """What the client does with a code before any caller sees it."""

    RATE_LIMITED = "retry, after slowing every request of the run down"
    TRANSIENT = "retry the same request later"
    HALVE_WINDOW = "ask again for half the date window (or half the metrics)"
    REFUSED = "give up on the request (a caller may skip it, see Skip)"


class Skip(enum.Enum):
    """A refusal that a caller turns into a skip (with a warning) instead of a failure."""

    #: A report stream TikTok rejects, when ``skip_rejected_reports`` is on.
    REJECTED_REPORT = "report stream skipped for that advertiser"
    #: One rejected id in a creative info call: the call is halved to find it.
    REJECTED_ID = "the rejected id is left out"
    #: A creative/pixel stream whose scope the token lacks.
    NO_STREAM_PERMISSION = "stream skipped for that advertiser"
    #: An advertiser the token cannot read on /advertiser/info/.
    UNREADABLE_ADVERTISER = "advertiser skipped (or named in the error)"


@dataclass(frozen=True)
class CodeRule:
    """One row of the table."""

    meaning: str
    action: Action
    #: The setting a person should check when this code ends a run.
    setting: str | None = None
    skips: frozenset[Skip] = frozenset()


_ACCESS = "access_token"
_APP = "app_id / secret"
_TOKEN_REFUSED = "access token refused (expired, missing or revoked)"
_APP_REFUSED = "app credentials refused"
_BUSY = "TikTok is still busy with it; a later identical request may pass"
_SERVER = "server error that passes"

CODES: dict[int, CodeRule] = {
    40001: CodeRule(
        "no permission (scope not granted, or advertiser not shared with the app)",
        Action.REFUSED,
        "advertiser_ids",
        frozenset({Skip.NO_STREAM_PERMISSION, Skip.UNREADABLE_ADVERTISER}),
    ),
    40002: CodeRule(
        "invalid parameters",
        Action.REFUSED,
        skips=frozenset({Skip.REJECTED_REPORT, Skip.REJECTED_ID}),
    ),
    40016: CodeRule("too many requests", Action.RATE_LIMITED),
    40067: CodeRule("query too large", Action.HALVE_WINDOW),
    40100: CodeRule("too many requests", Action.RATE_LIMITED),
    40101: CodeRule(_APP_REFUSED, Action.REFUSED, _APP),
    40102: CodeRule(_TOKEN_REFUSED, Action.REFUSED, _ACCESS),
    40104: CodeRule(_TOKEN_REFUSED, Action.REFUSED, _ACCESS),
    40105: CodeRule(_TOKEN_REFUSED, Action.REFUSED, _ACCESS),
    40106: CodeRule(_TOKEN_REFUSED, Action.REFUSED, _ACCESS),
    40110: CodeRule("auth code refused (invalid or already spent)", Action.REFUSED, "auth_code"),
    40113: CodeRule(_APP_REFUSED, Action.REFUSED, _APP),
    40132: CodeRule("too many requests", Action.RATE_LIMITED),
    40133: CodeRule("too many requests", Action.RATE_LIMITED),
    40200: CodeRule(_BUSY, Action.TRANSIENT),
    40201: CodeRule(_BUSY, Action.TRANSIENT),
    40202: CodeRule(_BUSY, Action.TRANSIENT),
    40300: CodeRule(
        "advertiser not readable by this token",
        Action.REFUSED,
        "advertiser_ids",
        frozenset({Skip.UNREADABLE_ADVERTISER}),
    ),
    40301: CodeRule(
        "advertiser not readable by this token",
        Action.REFUSED,
        "advertiser_ids",
        frozenset({Skip.UNREADABLE_ADVERTISER}),
    ),
    40700: CodeRule(_BUSY, Action.TRANSIENT),
    50000: CodeRule(_SERVER, Action.TRANSIENT),
    50002: CodeRule(_SERVER, Action.TRANSIENT),
    60001: CodeRule(_SERVER, Action.TRANSIENT),
    61000: CodeRule("too many requests", Action.RATE_LIMITED),
}

# Whole ranges TikTok uses for internal, passing server errors.
TRANSIENT_RANGES = (range(51000, 51100), range(52000, 53000))


def action_for(code: int) -> Action:
    """The table's action for ``code``; any code it does not list is a refusal."""
    rule = CODES.get(code)
    if rule is not None:
        return rule.action
    if any(code in span for span in TRANSIENT_RANGES):
        return Action.TRANSIENT
    return Action.REFUSED


def setting_for(code: int | None) -> str | None:
    """The setting to check when ``code`` ends a run, if the table names one."""
    rule = CODES.get(code) if code is not None else None
    return rule.setting if rule else None


def skippable(skip: Skip) -> frozenset[int]:
    """The codes a caller may turn into ``skip``."""
    return frozenset(code for code, rule in CODES.items() if skip in rule.skips)


def is_retriable_code(code: int) -> bool:
    """True for the codes that a later, identical request may pass."""
    return action_for(code) in (Action.RATE_LIMITED, Action.TRANSIENT)
