"""Streams whose endpoints need a scope the app or the advertiser may not have granted.

TikTok answers such a request with code 40001 (for example ``advertiser does not grant you
/pixel/list/:GET permission``). The account is readable, only this data is not: the stream is
skipped for that advertiser with one warning, so the rest of the run goes on. When the user
selected nothing but this stream, skipping would leave an empty run that looks successful, so
the run fails with the same message instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from singer_sdk.helpers.types import Context

from tap_tiktok_ads.error_codes import Skip, skippable
from tap_tiktok_ads.errors import RefusedAPIError, TapTikTokAdsError
from tap_tiktok_ads.streams.base import TikTokStream

PERMISSION_CODES = skippable(Skip.NO_STREAM_PERMISSION)


class PermissionRefusedError(TapTikTokAdsError):
    """The only selected stream cannot be read with this token."""


class PermissionAwareStream(TikTokStream):
    """Turns TikTok's 40001 into a per-advertiser skip (or a failure when it is all we do)."""

    def guarded(
        self, load: Callable[[], Iterable[dict[str, Any]]], context: Context | None
    ) -> Iterator[dict[str, Any]]:
        """The records ``load()`` gives, or none, with one warning, if TikTok refuses them.

        The streams using this load an advertiser's rows before yielding the first one, so a
        refusal never leaves an advertiser half-emitted.
        """
        try:
            yield from load()
        except RefusedAPIError as error:
            if error.code not in PERMISSION_CODES:
                raise
            self.refused(error, (context or {}).get("advertiser_id"))

    def refused(self, error: RefusedAPIError, advertiser_id: str | None) -> None:
        where = f" on advertiser {advertiser_id}" if advertiser_id else ""
        message = (
            f"{self.name}: the token has no permission for GET {error.endpoint}{where} "
            f"(TikTok {error.code}: {error.message}); grant the app that scope and have the "
            "account owner authorize it again"
        )
        if self.only_selected_stream:
            raise PermissionRefusedError(message)
        skipped = f"for advertiser {advertiser_id}" if advertiser_id else "in this run"
        self.logger.warning("%s. Skipping %s %s.", message, self.name, skipped)

    @property
    def only_selected_stream(self) -> bool:
        return self.services.selected_stream_names() == [self.name]
