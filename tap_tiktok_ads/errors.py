"""Errors the tap raises on purpose, each meant to be read by a person as one line."""

from __future__ import annotations

from typing import Any

from tap_tiktok_ads.error_codes import Action, action_for, setting_for

# Set to print the full (redacted) traceback under each error line.
DEBUG_ENV = "TAP_TIKTOK_ADS_DEBUG"


def show(value: Any) -> str:
    """A short description of a value from an answer, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return f"a JSON {'object' if isinstance(value, dict) else 'list'}"
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


class TapTikTokAdsError(Exception):
    """Base class of every error the tap raises deliberately."""


class ConfigError(TapTikTokAdsError, ValueError):
    """A setting is missing, malformed or in conflict with another.

    The message always starts with the setting's name so users know what to fix.
    """

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"{setting}: {problem}")


class TikTokAPIError(TapTikTokAdsError):
    """A request that TikTok (or the network) refused, described for a person."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        code: int | None = None,
        request_id: str | None = None,
        advertiser_id: str | None = None,
        http_status: int | None = None,
        setting: str | None = None,
    ) -> None:
        self.message = message
        self.endpoint = endpoint
        self.code = code
        self.request_id = request_id
        self.advertiser_id = advertiser_id
        self.http_status = http_status
        self.setting = setting if setting is not None else setting_for(code)
        self.context: list[str] = []
        super().__init__(self.describe())

    def add_context(self, text: str) -> TikTokAPIError:
        """Name more of where it happened (stream, date window) in the message."""
        self.context.insert(0, text)  # outer callers add the wider context last
        self.args = (self.describe(),)
        return self

    def describe(self) -> str:
        where = [*self.context, self.endpoint]
        if self.advertiser_id:
            where.append(f"advertiser {self.advertiser_id}")
        if self.request_id:
            where.append(f"request_id {self.request_id}")
        what = f"TikTok error {self.code}" if self.code is not None else "Request failed"
        text = f"{what} on {', '.join(where)}: {self.message}"
        if self.setting:
            text += f" (check the `{self.setting}` setting)"
        return text


class TransientAPIError(TikTokAPIError):
    """Transient: TikTok or the network may answer the same request later."""


class RateLimitedError(TransientAPIError):
    """TikTok said the app or advertiser made too many requests."""


class RequestTimeoutError(TransientAPIError):
    """No answer within ``request_timeout``; TikTok penalises retrying such requests unchanged."""

    #: How many requests timed out before this error was raised (retries included).
    timed_out_requests = 1


class RefusedAPIError(TikTokAPIError):
    """Retrying cannot help: bad token, missing permission, invalid parameters..."""


class QueryTooLargeError(RefusedAPIError):
    """TikTok found the query too large: the caller should ask for a smaller date window."""


class MalformedAnswerError(RefusedAPIError):
    """TikTok answered code 0 with a body of the wrong shape (a list for an object, ...)."""


class AdsCappedError(TikTokAPIError):
    """TikTok answered for the newest 20,000 ads only (``X-Tt-Ads-Throttle``).

    Raised instead of handing out the truncated page, so no caller can drop rows unknowingly;
    the caller asks again in narrower slices (campaign or ad group id filters).
    """


# The exception the client raises for each action of the code table.
ERROR_FOR_ACTION: dict[Action, type[TikTokAPIError]] = {
    Action.RATE_LIMITED: RateLimitedError,
    Action.TRANSIENT: TransientAPIError,
    Action.HALVE_WINDOW: QueryTooLargeError,
    Action.REFUSED: RefusedAPIError,
}


def error_for_code(code: int, message: str, **details: Any) -> TikTokAPIError:
    """The exception for an answer with envelope ``code`` (details: endpoint, request_id...)."""
    return ERROR_FOR_ACTION[action_for(code)](message, code=code, **details)
