"""HTTP client for the TikTok Business API v1.3: envelope, errors, retries, rate limit, paging.

TikTok answers HTTP 200 for almost everything and reports failures in the body's ``code``, so
the envelope is checked on every response and each code is acted on as the table in
error_codes.py says (retry, slow down, halve the window, or refuse).
One client is shared by every stream of a run: it owns the connection pool, the rate limiter
and the run's one pool of request workers (:class:`Scheduler`), closed by :meth:`close`.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import Future
from contextlib import closing
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any, TypedDict
from urllib.parse import urljoin, urlsplit

import backoff
import msgspec
import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from typing_extensions import Unpack

from tap_tiktok_ads.body import BodyTooLarge, DeadlineExceeded, read_body
from tap_tiktok_ads.errors import (
    AdsCappedError,
    MalformedAnswerError,
    RateLimitedError,
    RefusedAPIError,
    RequestTimeoutError,
    TikTokAPIError,
    TransientAPIError,
    error_for_code,
    show,
)
from tap_tiktok_ads.paging import (
    MAX_PAGES,
    Answer,
    KeyedRows,
    MalformedRow,
    PageDecode,
    PagingShifted,
    Rows,
    checked_rows,
    page_rows,
    page_shape,
    read_until_short,
)
from tap_tiktok_ads.rate_limit import RateLimiter
from tap_tiktok_ads.redaction import redact, register_secrets
from tap_tiktok_ads.scheduler import (
    Scheduler,
    SchedulerClosed,
    current_rank,
    ranked,
    result_of,
)

PRODUCTION_API_URL = "https://business-api.tiktok.com/open_api/v1.3"
SANDBOX_API_URL = "https://sandbox-ads.tiktok.com/open_api/v1.3"

# Sent by /report/integrated/get/ when it answered for the newest 20,000 ads only.
ADS_THROTTLE_HEADER = "X-Tt-Ads-Throttle"
DEFAULT_PAGING_RESTARTS = 5
# How far the API's clock may be from this machine's before it is not believed.
MAX_CLOCK_SKEW = timedelta(days=1)
# TikTok penalises repeating a request that timed out: at most this many retries of it.
MAX_TIMEOUT_RETRIES = 2
DEFAULT_MAX_RESPONSE_MB = 128
# Answers read (pages decoded) and not yet done with, counted by the size of their bodies,
# beyond which only the requests the records wait for start: a thousand-row report page of the
# default metrics is about 0.8 MB, so about five pages; more gained no time where the network
# binds, and the pages cost memory where the writing does.
HELD_ANSWERS_MB = 4
log = logging.getLogger("tap_tiktok_ads.client")


class RequestContext(TypedDict):
    """What every error of one request names (the keywords of :class:`TikTokAPIError`)."""

    endpoint: str
    advertiser_id: str | None


class ListingOptions(TypedDict, total=False):
    """How a page-number listing is read (see :meth:`TikTokClient.get_typed_pages`)."""

    advertiser_id: str | None
    key: Callable[[dict[str, Any]], Any] | None
    first: Future[Answer] | None
    max_timeouts: int | None


# msgspec decodes report pages several times faster than the json module requests uses.
_decode_json = msgspec.json.Decoder().decode


def local_now() -> datetime:
    """This machine's clock, in UTC."""
    return datetime.now(timezone.utc)


def _listing_key(path: str, params: Mapping[str, Any]) -> tuple[tuple[str, str], str | None]:
    """A GET request's identity: its listing (its path and its parameters as sent, in any order,
    but ``page``) and its page."""
    encoded = encode_params(params)
    page = encoded.pop("page", None)
    return (path, json.dumps(sorted(encoded.items()))), page


def encode_params(params: Mapping[str, Any]) -> dict[str, str]:
    """TikTok wants lists and objects as JSON text, booleans as ``true``/``false``."""
    encoded: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, dict)):
            encoded[key] = json.dumps(value, separators=(",", ":"))
        elif isinstance(value, bool):
            encoded[key] = "true" if value else "false"
        else:
            encoded[key] = str(value)
    return encoded


def redirect_refused(response: requests.Response, context: RequestContext) -> RefusedAPIError:
    """A redirect is never followed: the request carries the token or the app secret."""
    target = urljoin(response.url, response.headers.get("Location", ""))
    parts = urlsplit(target)
    host = parts.netloc.rpartition("@")[2]  # never show user-info
    shown = redact(f"{parts.scheme}://{host}{parts.path}")
    return RefusedAPIError(
        f"HTTP {response.status_code} redirect to {shown} refused (redirects are not followed, "
        "so credentials never leave for another address; point api_url at the final URL)",
        http_status=response.status_code,
        setting="api_url",
        **context,
    )


class TikTokClient:
    """Thread-safe client for one access token.

    Every call goes through the rate limiter, is retried with exponential backoff and jitter
    when the failure is transient, and returns the envelope's ``data`` object.
    """

    def __init__(
        self,
        *,
        access_token: str,
        api_url: str = PRODUCTION_API_URL,
        request_timeout: float = 300,
        user_agent: str = "tap-tiktok-ads",
        max_tries: int = 6,
        backoff_base_seconds: float = 1.0,
        backoff_max_seconds: float = 60.0,
        max_requests_per_second: float = 10.0,
        max_concurrent_requests: int = 4,
        extra_secrets: tuple[str, ...] = (),
        max_clock_skew: timedelta = MAX_CLOCK_SKEW,
        max_response_mb: int = DEFAULT_MAX_RESPONSE_MB,
        max_paging_restarts: int = DEFAULT_PAGING_RESTARTS,
        max_timeouts_per_request: int = MAX_TIMEOUT_RETRIES + 1,
        held_answers_mb: float = HELD_ANSWERS_MB,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.request_timeout = request_timeout
        self.max_response_mb = max_response_mb
        self.max_paging_restarts = max_paging_restarts
        self.max_timeouts_per_request = max_timeouts_per_request
        self.max_tries = max_tries
        self.backoff_base_seconds = backoff_base_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.rate_limiter = RateLimiter(max_requests_per_second)
        self.server_time: datetime | None = None
        self.max_clock_skew = max_clock_skew
        self._distrusted_clock = False
        self._secrets = tuple(s for s in (access_token, *extra_secrets) if s)
        register_secrets(*self._secrets)
        self.session = requests.Session()
        self.max_concurrent_requests = max(1, max_concurrent_requests)
        # Every request made ahead (later pages, next windows, next advertisers) runs here,
        # all through one rate limiter.
        self.scheduler = Scheduler(self.max_concurrent_requests, hold_limit=held_answers_mb * 2**20)
        # Requests started ahead by start_get, by listing and page, until get_answer takes them
        # or the listing's reading ends (release_started).
        self._started: dict[tuple[str, str], dict[str | None, Future[Answer]]] = {}
        self._started_lock = threading.Lock()
        pool_size = self.max_concurrent_requests + 2
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers["User-Agent"] = user_agent
        if access_token:  # the OAuth exchange is the one call made before there is a token
            self.session.headers["Access-Token"] = access_token

    # -- public API -------------------------------------------------------------------------

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        advertiser_id: str | None = None,
    ) -> Any:
        """GET ``path`` (e.g. ``/campaign/get/``) and return the envelope's ``data``."""
        return self.get_answer(path, params, advertiser_id=advertiser_id).data

    def get_answer(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        advertiser_id: str | None = None,
        max_timeouts: int | None = None,
        decode_page: PageDecode | None = None,
    ) -> Answer:
        """GET ``path``: the envelope's ``data`` and ``request_id``.

        ``max_timeouts`` lowers how many times a request that times out is sent;
        ``decode_page`` reads a successful answer's rows (see :data:`PageDecode`).
        """
        started = self._claim_started(path, params)
        if started is not None:
            return result_of(started)
        return self._on_worker(
            lambda: self._send("GET", path, params, None, advertiser_id, decode_page), max_timeouts
        )

    def start_get(
        self,
        path: str,
        params: Mapping[str, Any],
        *,
        advertiser_id: str | None = None,
        decode_page: PageDecode | None = None,
    ) -> None:
        """Request ``path`` ahead, on a worker: the next :meth:`get_answer` of the same request
        takes its answer (or its error) rather than sending it again, or sends it itself if
        it has not started yet. For requests known to come (the later pages of a listing);
        ``decode_page`` must be the one that :meth:`get_answer` will be given."""
        listing, page = _listing_key(path, params)
        try:
            with ranked((*current_rank(), int(page or 0))):  # after the listing's page 1
                future = self.scheduler.submit(
                    lambda: self._with_retries(
                        lambda: self._send("GET", path, params, None, advertiser_id, decode_page)
                    ),
                    detached=True,
                )
        except SchedulerClosed:
            return  # the run is ending
        with self._started_lock:
            self._started.setdefault(listing, {})[page] = future

    def release_started(self, path: str, params: Mapping[str, Any]) -> None:
        """Let go of the pages of the listing ``params`` asks for (whatever its ``page``) that
        were started ahead and not taken: the listing's reading ended (or will never happen),
        so they would otherwise stay in memory until the run ends. Those not started yet are
        cancelled."""
        if not self._started:
            return
        with self._started_lock:
            pages = self._started.pop(_listing_key(path, params)[0], {})
        for future in pages.values():
            future.cancel()

    def _claim_started(self, path: str, params: Mapping[str, Any] | None) -> Future[Answer] | None:
        """The request started ahead by :meth:`start_get`, if any, once; None when there is
        none or it had not started (it is cancelled: the caller sends it)."""
        if not self._started:
            return None
        listing, page = _listing_key(path, params or {})
        with self._started_lock:
            pages = self._started.get(listing)
            future = None if pages is None else pages.pop(page, None)
            if pages is not None and not pages:
                del self._started[listing]
        if future is None or future.cancel():
            return None
        return future

    def post(self, path: str, body: Mapping[str, Any], *, advertiser_id: str | None = None) -> Any:
        """POST a JSON body and return the envelope's ``data``."""
        return self._on_worker(lambda: self._send("POST", path, None, body, advertiser_id)).data

    def get_pages(
        self,
        path: str,
        params: Mapping[str, Any],
        *,
        page_size: int,
        **options: Unpack[ListingOptions],
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield each page's ``list`` of a page-number endpoint as dicts, following
        ``page_info`` (see :meth:`get_typed_pages`)."""
        for rows in self.get_typed_pages(path, params, page_size=page_size, **options):
            assert not isinstance(rows, KeyedRows)  # no page decoder was given
            yield rows

    def get_typed_pages(
        self,
        path: str,
        params: Mapping[str, Any],
        *,
        page_size: int,
        advertiser_id: str | None = None,
        key: Callable[[dict[str, Any]], Any] | None = None,
        first: Future[Answer] | None = None,
        max_timeouts: int | None = None,
        decode_page: PageDecode | None = None,
        seen: set[int] | None = None,
    ) -> Iterator[Rows]:
        """Yield each page's ``list`` of a page-number endpoint, following ``page_info``: the
        rows ``decode_page`` typed, or dicts for a page it left to the general decoding.

        If the listing shifts while it is read (``total_number`` or ``total_page`` change, or
        a page before the last comes back empty), it is read again from page 1, and rows whose
        ``key`` was already yielded are dropped, so no row is lost or doubled. When page_info
        disagrees with itself, pages are read one by one until a short page. ``first`` is
        page 1 already requested with :meth:`submit_get` (used on the first read only).
        ``key`` may raise :class:`MalformedRow` for a row it cannot identify. ``seen`` holds
        the identities of rows dropped as already yielded: a caller's own set of the rows it
        already has, to drop those too.
        """
        seen = set() if seen is None else seen
        for attempt in range(self.max_paging_restarts + 1):
            pages = self._read_pages(
                path, params, page_size, advertiser_id, first, max_timeouts, decode_page
            )
            first = None
            try:
                for answer, rows in pages:
                    if key is not None:
                        rows = self._unseen(rows, key, seen, answer, path, advertiser_id)
                    yield rows
                return
            except PagingShifted as shift:
                if key is None or attempt == self.max_paging_restarts:
                    raise TransientAPIError(
                        f"paging kept changing while reading ({shift}); "
                        f"{attempt} restart(s) from page 1",
                        endpoint=path,
                        advertiser_id=advertiser_id,
                        setting="max_paging_restarts",
                    ) from None
                log.warning("%s: %s; reading the listing again from page 1", path, shift)

    def submit_get(
        self,
        path: str,
        params: Mapping[str, Any],
        *,
        advertiser_id: str | None = None,
        max_timeouts: int | None = None,
        decode_page: PageDecode | None = None,
    ) -> Future[Answer]:
        """Start :meth:`get_answer` on a worker; the future holds the answer or the error."""
        return self.scheduler.submit(
            lambda: self.get_answer(
                path,
                params,
                advertiser_id=advertiser_id,
                max_timeouts=max_timeouts,
                decode_page=decode_page,
            )
        )

    def close(self) -> None:
        """End of the run: work not started is cancelled, connections are closed."""
        self.scheduler.shutdown()
        with self._started_lock:
            self._started.clear()
        self.session.close()

    def _unseen(
        self,
        rows: Rows,
        key: Callable[[dict[str, Any]], Any],
        seen: set[int],
        answer: Answer,
        path: str,
        advertiser_id: str | None,
    ) -> Rows:
        """Rows whose key was not yielded yet; hashes, not keys: a window can list 100k+ rows."""
        if isinstance(rows, KeyedRows):
            identities = rows.identities
            if seen.isdisjoint(identities):  # the usual page: nothing to drop
                seen.update(identities)
                return rows
            kept = [i for i, digest in enumerate(identities) if digest not in seen]
            seen.update(identities)
            return KeyedRows([rows.rows[i] for i in kept], [identities[i] for i in kept])
        try:
            keys = [key(row) for row in rows]
        except MalformedRow as problem:
            raise self._malformed(f"a row {problem}", answer, path, advertiser_id) from None
        if None in keys:  # e.g. a listing row without its id: it would hide every other one
            raise self._malformed("a row has no id", answer, path, advertiser_id)
        hashes = [hash(row_key) for row_key in keys]
        fresh = [row for row, digest in zip(rows, hashes, strict=True) if digest not in seen]
        seen.update(hashes)
        return fresh

    def _malformed(
        self, problem: str, answer: Answer, path: str, advertiser_id: str | None
    ) -> MalformedAnswerError:
        return MalformedAnswerError(
            self.redact(problem),
            endpoint=path,
            request_id=answer.request_id,
            advertiser_id=advertiser_id,
        )

    def _read_pages(
        self,
        path: str,
        params: Mapping[str, Any],
        page_size: int,
        advertiser_id: str | None,
        first_future: Future[Answer] | None = None,
        max_timeouts: int | None = None,
        decode_page: PageDecode | None = None,
    ) -> Iterator[tuple[Answer, Rows]]:
        """Page 1, then the others: ``max_concurrent_requests`` at a time, yielded in order,
        when page_info is consistent; one by one until a short page when it is not.

        Pages of the listing started ahead (:meth:`start_get`) and not taken are let go when
        the reading ends, however it ends (a shift read again from page 1, a window halved).
        """
        try:
            yield from self._read_listing(
                path, params, page_size, advertiser_id, first_future, max_timeouts, decode_page
            )
        finally:
            self.release_started(path, {**params, "page_size": page_size})

    def _read_listing(
        self,
        path: str,
        params: Mapping[str, Any],
        page_size: int,
        advertiser_id: str | None,
        first_future: Future[Answer] | None,
        max_timeouts: int | None,
        decode_page: PageDecode | None,
    ) -> Iterator[tuple[Answer, Rows]]:
        def fetch(page: int) -> Answer:
            query = {**params, "page": page, "page_size": page_size}
            return self.get_answer(
                path,
                query,
                advertiser_id=advertiser_id,
                max_timeouts=max_timeouts,
                decode_page=decode_page,
            )

        def malformed(problem: str, answer: Answer) -> MalformedAnswerError:
            return self._malformed(problem, answer, path, advertiser_id)

        first = result_of(first_future) if first_future is not None else fetch(1)
        del first_future  # page 1 is not kept while the later pages are read
        shape = page_shape(first, malformed)
        rows = page_rows(first, malformed)
        pages = shape.pages(page_size)
        if pages is None:
            log.warning(
                "%s: page_info (%s rows, %s pages of %d) does not add up; reading pages one by "
                "one until a short page",
                path,
                shape.total_number,
                shape.total_page,
                page_size,
            )
            yield first, rows
            del first
            yield from read_until_short(fetch, malformed, rows, shape, page_size)
            return
        if pages > MAX_PAGES:
            raise malformed(
                f"page_info promises {pages} pages, more than {MAX_PAGES}; raise `page_size` "
                "or lower `report_window_days`",
                first,
            )
        yield first, checked_rows(rows, shape, 1, page_size, shape)
        del first, rows
        later = self.scheduler.in_order(
            (partial(fetch, page) for page in range(2, pages + 1)),
            ahead=self.max_concurrent_requests,
        )
        with closing(later):  # pages not started yet are cancelled if the listing shifted
            for page, answer in enumerate(later, start=2):
                answer_shape = page_shape(answer, malformed)
                answer_rows = page_rows(answer, malformed)
                yield answer, checked_rows(answer_rows, answer_shape, page, page_size, shape)

    def redact(self, text: str) -> str:
        """Replace every known secret with ``***``."""
        return redact(text)

    # -- internals --------------------------------------------------------------------------

    def _on_worker(self, call: Callable[[], Answer], max_timeouts: int | None = None) -> Answer:
        """The request with its retries, always sent from a worker, ahead of work queued.

        The thread that writes records only ever waits on a future, in slices
        (:func:`~tap_tiktok_ads.scheduler.wait_for`): a socket read or a backoff sleep there
        could miss a stop signal until the request answered or timed out.
        """
        if self.scheduler.on_worker():
            return self._with_retries(call, max_timeouts)
        return result_of(
            self.scheduler.submit(partial(self._with_retries, call, max_timeouts), first=True)
        )

    def _with_retries(self, call: Callable[[], Answer], max_timeouts: int | None = None) -> Answer:
        limit = self.max_timeouts_per_request
        if max_timeouts is not None:
            limit = max(1, min(limit, max_timeouts))
        timeouts = 0

        def give_up(error: Exception) -> bool:
            nonlocal timeouts
            if isinstance(error, RequestTimeoutError):
                timeouts += 1
                error.timed_out_requests = timeouts
                return timeouts >= limit
            return False

        retrying = backoff.on_exception(
            self._wait_generator,
            TransientAPIError,
            max_tries=self.max_tries,
            giveup=give_up,
            jitter=None,  # the generator adds full jitter itself, bounded by backoff_max_seconds
            on_backoff=self._on_backoff,
            raise_on_giveup=True,
            logger=None,
        )(call)
        return retrying()

    def _wait_generator(self) -> Generator[float, None, None]:
        attempt = 0
        while True:
            ceiling = min(self.backoff_max_seconds, self.backoff_base_seconds * 2**attempt)
            attempt += 1
            yield random.uniform(ceiling / 2, ceiling)

    def _on_backoff(self, details: Any) -> None:
        error = details.get("exception")
        if isinstance(error, RateLimitedError):
            self.rate_limiter.slow_down()
        log.warning(
            "Retrying in %.1fs (try %d of %d): %s",
            details.get("wait", 0.0),
            details.get("tries", 0),
            self.max_tries,
            error,
        )

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        advertiser_id: str | None,
        decode_page: PageDecode | None = None,
    ) -> Answer:
        self.rate_limiter.acquire()
        url = f"{self.api_url}{path}"
        context = RequestContext(endpoint=path, advertiser_id=advertiser_id)
        deadline = time.monotonic() + self.request_timeout  # for the whole answer, body included
        try:
            response = self.session.request(
                method,
                url,
                params=encode_params(params or {}),
                json=body,
                timeout=self.request_timeout,
                # A redirect would carry the Access-Token header (or the secret) elsewhere.
                allow_redirects=False,
                stream=True,  # the body is read by _read_body, under the deadline and a size cap
            )
        except requests.Timeout as exc:
            raise RequestTimeoutError(
                f"no answer within {self.request_timeout}s", **context
            ) from exc
        except requests.RequestException as exc:
            # The exception text holds the URL, which may carry `secret`: keep only its type.
            raise TransientAPIError(f"connection failed ({type(exc).__name__})", **context) from exc
        if response.is_redirect:
            response.close()
            raise redirect_refused(response, context)
        with response:  # back to the pool when read whole; closed on any error
            return self._parse(response, context, deadline, decode_page)

    def _parse(
        self,
        response: requests.Response,
        context: RequestContext,
        deadline: float,
        decode_page: PageDecode | None = None,
    ) -> Answer:
        self._note_server_time(response)
        status = response.status_code
        if status == 429 or status >= 500:
            raise TransientAPIError(f"HTTP {status}", http_status=status, **context)
        if status != 200:
            raise RefusedAPIError(f"HTTP {status}", http_status=status, **context)
        raw = self._read_body(response, context, deadline)
        page = None if decode_page is None else decode_page(raw)
        if page is not None:
            self.scheduler.hold(page.rows, len(raw))
            page_request_id = self.redact(str(page.request_id)[:100])
            self._check_capped(response, page_request_id, context)
            return Answer(page.data, page_request_id, page.rows)
        try:
            body = _decode_json(raw)
        except msgspec.DecodeError as exc:
            raise TransientAPIError("response body is not valid JSON", **context) from exc
        if not isinstance(body, dict) or "code" not in body:
            raise TransientAPIError("response is not a TikTok envelope", **context)
        request_id = body.get("request_id")
        request_id = None if request_id is None else self.redact(str(request_id)[:100])
        code = body["code"]
        if type(code) is str and code.isdigit():
            code = int(code)
        if type(code) is not int:
            raise MalformedAnswerError(
                f"`code` is {self.redact(show(code))}, not a number",
                request_id=request_id,
                **context,
            )
        if code != 0:
            raise self._error_for(code, body, context)
        self._check_capped(response, request_id, context)
        data = body.get("data")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise MalformedAnswerError(
                f"`data` is {self.redact(show(data))}, not an object",
                request_id=request_id,
                **context,
            )
        answer = Answer(data, request_id)
        self.scheduler.hold(answer, len(raw))
        return answer

    def _check_capped(
        self, response: requests.Response, request_id: str | None, context: RequestContext
    ) -> None:
        capped = response.headers.get(ADS_THROTTLE_HEADER)
        if capped:
            raise AdsCappedError(self.redact(capped), request_id=request_id, **context)

    def _read_body(
        self, response: requests.Response, context: RequestContext, deadline: float
    ) -> bytes:
        """The decoded body, read whole before ``deadline`` and no larger than the cap."""
        try:
            return read_body(response, deadline=deadline, max_bytes=self.max_response_mb << 20)
        except DeadlineExceeded:
            raise RequestTimeoutError(
                f"the answer did not arrive whole within {self.request_timeout}s",
                setting="request_timeout",
                **context,
            ) from None
        except BodyTooLarge:
            raise RefusedAPIError(
                f"the answer is larger than {self.max_response_mb} MB once decoded",
                setting="max_response_mb",
                **context,
            ) from None
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise RequestTimeoutError(
                f"no answer within {self.request_timeout}s", **context
            ) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise TransientAPIError(
                f"the answer was cut short ({type(exc).__name__})", **context
            ) from exc

    def _note_server_time(self, response: requests.Response) -> None:
        """Remember the server's clock (HTTP ``Date``): report days follow TikTok's "today".

        A clock further than ``max_clock_skew`` from this machine's (a proxy's stale header,
        a forged ``Date: 2100-01-01``) is not believed: it would end report windows in the
        future and move bookmarks past days that have not happened. This machine's clock is
        used instead, with one warning.
        """
        header = response.headers.get("Date")
        if not header:
            return
        try:
            moment = parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        if abs(moment - local_now()) > self.max_clock_skew:
            if not self._distrusted_clock:
                self._distrusted_clock = True
                log.warning(
                    "The API's clock (HTTP Date %r) is more than %s off this machine's; "
                    "using this machine's clock for 'today'",
                    header[:40],
                    self.max_clock_skew,
                )
            return
        self.server_time = moment

    def now(self) -> datetime:
        """The server's clock as of the last believable response, else this machine's (UTC)."""
        return self.server_time or local_now()

    def _error_for(
        self, code: int, body: dict[str, Any], context: RequestContext
    ) -> TikTokAPIError:
        request_id = body.get("request_id")
        message = self.redact(str(body.get("message") or "no message"))
        return error_for_code(
            code,
            message,
            request_id=None if request_id is None else self.redact(str(request_id)[:100]),
            **context,
        )
