"""Unit tests of the HTTP client: envelope, error classes, retries, paging, secrets."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from tap_tiktok_ads.client import TikTokClient, encode_params
from tap_tiktok_ads.error_codes import is_retriable_code
from tap_tiktok_ads.errors import (
    QueryTooLargeError,
    RefusedAPIError,
    RequestTimeoutError,
    TransientAPIError,
)
from tap_tiktok_ads.paging import DecodedPage, KeyedRows
from tap_tiktok_ads.rate_limit import RateLimiter

API = "https://business-api.tiktok.com/open_api/v1.3"
TOKEN = "unit-test-token-5f1c"
SECRET = "unit-test-secret-9a2b"


def query_of(url: str | None) -> dict[str, list[str]]:
    """The query parameters of a request's URL."""
    assert url is not None
    return parse_qs(urlparse(url).query)


def envelope(code: int = 0, data: object = None, message: str = "OK") -> dict:
    return {"code": code, "message": message, "request_id": f"req-{code}", "data": data or {}}


@pytest.fixture
def client() -> TikTokClient:
    return TikTokClient(
        access_token=TOKEN,
        api_url=API,
        max_tries=4,
        backoff_base_seconds=0.001,
        backoff_max_seconds=0.002,
        max_requests_per_second=1000,
        extra_secrets=(SECRET,),
    )


@pytest.mark.parametrize(
    ("code", "retriable"),
    [
        (40100, True),
        (40133, True),
        (40016, True),
        (61000, True),
        (40200, True),
        (40202, True),
        (40700, True),
        (50000, True),
        (50002, True),
        (51010, True),
        (52204, True),
        (60001, True),
        (40001, False),
        (40002, False),
        (40067, False),
        (40104, False),
        (40105, False),
        (40106, False),
        (40110, False),
    ],
)
def test_codes_are_classified(code: int, retriable: bool) -> None:
    assert is_retriable_code(code) is retriable


def test_lists_and_objects_are_json_encoded() -> None:
    encoded = encode_params(
        {"fields": ["a", "b"], "filtering": {"x": 1}, "flag": True, "page": 2, "none": None}
    )
    assert encoded == {"fields": '["a","b"]', "filtering": '{"x":1}', "flag": "true", "page": "2"}


@responses.activate
def test_sends_access_token_header_and_returns_data(client: TikTokClient) -> None:
    responses.get(f"{API}/campaign/get/", json=envelope(data={"list": [{"campaign_id": "1"}]}))
    data = client.get("/campaign/get/", {"advertiser_id": "7", "fields": ["campaign_id"]})
    assert data == {"list": [{"campaign_id": "1"}]}
    sent = responses.calls[0].request
    assert sent.headers["Access-Token"] == TOKEN
    assert query_of(sent.url)["fields"] == ['["campaign_id"]']


@responses.activate
def test_requests_asked_for_by_the_writing_thread_are_sent_from_a_worker(
    client: TikTokClient,
) -> None:
    """The thread that writes records (where a stop signal is handled) only waits on futures."""
    senders: list[threading.Thread] = []

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        senders.append(threading.current_thread())
        return 200, {}, json.dumps(envelope(data={"list": []}))

    responses.add_callback(responses.GET, f"{API}/ad/get/", callback=answer)
    responses.add_callback(responses.POST, f"{API}/oauth2/access_token/", callback=answer)
    client.get("/ad/get/", {"advertiser_id": "7"})
    client.post("/oauth2/access_token/", {"auth_code": "x"})
    assert len(senders) == 2
    assert threading.current_thread() not in senders
    assert all(sender.name.startswith("tiktok-request") for sender in senders)


@responses.activate
def test_rate_limit_then_success_is_retried(client: TikTokClient) -> None:
    responses.get(f"{API}/ad/get/", json=envelope(40100, message="Requests made too frequently"))
    responses.get(f"{API}/ad/get/", json=envelope(data={"list": []}))
    assert client.get("/ad/get/") == {"list": []}
    assert len(responses.calls) == 2


@responses.activate
def test_rate_limit_slows_the_limiter_down(client: TikTokClient) -> None:
    before = client.rate_limiter.rate
    responses.get(f"{API}/ad/get/", json=envelope(40100))
    responses.get(f"{API}/ad/get/", json=envelope(data={"list": []}))
    client.get("/ad/get/")
    assert client.rate_limiter.rate < before


@responses.activate
def test_server_error_twice_then_success(client: TikTokClient) -> None:
    responses.get(f"{API}/ad/get/", json=envelope(50002))
    responses.get(f"{API}/ad/get/", json=envelope(50002))
    responses.get(f"{API}/ad/get/", json=envelope(data={"ok": True}))
    assert client.get("/ad/get/") == {"ok": True}
    assert len(responses.calls) == 3


@responses.activate
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_http_5xx_is_retried(client: TikTokClient, status: int) -> None:
    responses.get(f"{API}/ad/get/", status=status, body="upstream trouble")
    responses.get(f"{API}/ad/get/", json=envelope(data={"ok": True}))
    assert client.get("/ad/get/") == {"ok": True}


@responses.activate
def test_non_json_body_is_retried(client: TikTokClient) -> None:
    responses.get(f"{API}/ad/get/", body="<html>gateway</html>")
    responses.get(f"{API}/ad/get/", json=envelope(data={"ok": True}))
    assert client.get("/ad/get/") == {"ok": True}


@responses.activate
def test_connection_error_is_retried(client: TikTokClient) -> None:
    responses.get(f"{API}/ad/get/", body=requests.ConnectionError("reset"))
    responses.get(f"{API}/ad/get/", json=envelope(data={"ok": True}))
    assert client.get("/ad/get/") == {"ok": True}


@responses.activate
def test_retries_are_bounded(client: TikTokClient) -> None:
    responses.get(f"{API}/ad/get/", json=envelope(50000))
    with pytest.raises(TransientAPIError) as caught:
        client.get("/ad/get/", advertiser_id="123")
    assert len(responses.calls) == client.max_tries
    assert "50000" in str(caught.value)
    assert "/ad/get/" in str(caught.value)
    assert "advertiser 123" in str(caught.value)
    assert "req-50000" in str(caught.value)


@responses.activate
def test_invalid_token_fails_fast_naming_the_setting(client: TikTokClient) -> None:
    responses.get(
        f"{API}/advertiser/info/",
        json=envelope(40105, message="The access token is invalid."),
    )
    with pytest.raises(RefusedAPIError) as caught:
        client.get("/advertiser/info/")
    assert len(responses.calls) == 1
    message = str(caught.value)
    assert "40105" in message
    assert "access_token" in message
    assert "req-40105" in message
    assert "\n" not in message


@responses.activate
def test_query_too_large_has_its_own_error(client: TikTokClient) -> None:
    responses.get(f"{API}/report/integrated/get/", json=envelope(40067, message="too large"))
    with pytest.raises(QueryTooLargeError):
        client.get("/report/integrated/get/")
    assert len(responses.calls) == 1


@responses.activate
def test_permission_error_names_advertiser_ids(client: TikTokClient) -> None:
    responses.get(f"{API}/campaign/get/", json=envelope(40001, message="No permission"))
    with pytest.raises(RefusedAPIError, match="advertiser_ids"):
        client.get("/campaign/get/", advertiser_id="42")


@responses.activate
def test_secrets_never_appear_in_errors(client: TikTokClient) -> None:
    responses.get(
        f"{API}/oauth2/advertiser/get/",
        json=envelope(40113, message=f"app secret {SECRET} does not match token {TOKEN}"),
    )
    with pytest.raises(RefusedAPIError) as caught:
        client.get("/oauth2/advertiser/get/", {"app_id": "1", "secret": SECRET})
    assert SECRET not in str(caught.value)
    assert TOKEN not in str(caught.value)


@responses.activate
def test_connection_error_text_does_not_leak_the_query(client: TikTokClient) -> None:
    responses.get(
        f"{API}/oauth2/advertiser/get/",
        body=requests.ConnectionError(f"failed for url ...?secret={SECRET}"),
    )
    with pytest.raises(TransientAPIError) as caught:
        client.get("/oauth2/advertiser/get/", {"secret": SECRET})
    assert SECRET not in str(caught.value)


@responses.activate
def test_pages_follow_total_page(client: TikTokClient) -> None:
    def page_callback(request: requests.PreparedRequest) -> tuple[int, dict, str]:
        query = query_of(request.url)
        page = int(query["page"][0])
        rows = [{"id": f"{page}-{i}"} for i in range(2 if page < 3 else 1)]
        info = {"page": page, "page_size": 2, "total_number": 5, "total_page": 3}
        return 200, {}, json.dumps(envelope(data={"list": rows, "page_info": info}))

    responses.add_callback(responses.GET, f"{API}/campaign/get/", callback=page_callback)
    pages = list(client.get_pages("/campaign/get/", {"advertiser_id": "1"}, page_size=2))
    assert [len(p) for p in pages] == [2, 2, 1]
    sent_pages = [query_of(c.request.url)["page"][0] for c in responses.calls]
    assert sent_pages[0] == "1"  # page 1 tells how many pages there are
    assert sorted(sent_pages) == ["1", "2", "3"]  # the others in parallel, each once


def test_rate_limiter_keeps_the_pace() -> None:
    limiter = RateLimiter(50)
    started = time.monotonic()
    for _ in range(50):  # evenly spaced at 50 per second: about one second
        limiter.acquire()
    assert time.monotonic() - started >= 0.9


def test_slow_down_has_a_floor() -> None:
    limiter = RateLimiter(2, minimum=1)
    for _ in range(20):
        limiter.slow_down()
    assert limiter.rate == 1


@responses.activate
def test_now_follows_the_server_date_header(
    client: TikTokClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    machine = datetime(2026, 11, 20, 23, 0, tzinfo=timezone.utc)
    monkeypatch.setattr("tap_tiktok_ads.client.local_now", lambda: machine)
    responses.get(
        f"{API}/user/info/",
        json=envelope(data={}),
        headers={"Date": "Fri, 20 Nov 2026 23:59:30 GMT"},
    )
    client.get("/user/info/")
    assert client.now().isoformat() == "2026-11-20T23:59:30+00:00"


Callback = Callable[[requests.PreparedRequest], tuple[int, dict, str]]


def paged(
    pages: dict[int | tuple[int, int], tuple[list[dict], int]], page_size: int = 2
) -> tuple[Callback, list[int]]:
    """A callback answering page N with (rows, total_number); each page answered once.

    ``pages`` may also answer the Nth request of a page: key ``(page, N)``.
    """
    served: list[int] = []

    def callback(request: requests.PreparedRequest) -> tuple[int, dict, str]:
        page = int(query_of(request.url)["page"][0])
        served.append(page)
        attempt = served.count(page)
        rows, total = pages[(page, attempt)] if (page, attempt) in pages else pages[page]
        info = {
            "page": page,
            "page_size": page_size,
            "total_number": total,
            "total_page": -(-total // page_size),
        }
        return 200, {}, json.dumps(envelope(data={"list": rows, "page_info": info}))

    return callback, served


@responses.activate
def test_an_empty_page_restarts_the_listing_without_doubles(client: TikTokClient) -> None:
    a, b, c = {"id": "a"}, {"id": "b"}, {"id": "c"}
    callback, served = paged(
        {(1, 1): ([a, b], 3), (2, 1): ([], 3), (1, 2): ([a, b], 3), (2, 2): ([c], 3)}
    )
    responses.add_callback(responses.GET, f"{API}/ad/get/", callback=callback)
    rows = [
        r
        for page in client.get_pages("/ad/get/", {}, page_size=2, key=lambda r: r["id"])
        for r in page
    ]
    assert rows == [a, b, c]
    assert served == [1, 2, 1, 2]


@responses.activate
def test_a_changing_total_restarts_and_keeps_each_row_once(client: TikTokClient) -> None:
    a, b, c, d = ({"id": x} for x in "abcd")
    callback, _ = paged(
        {(1, 1): ([a, b], 3), (2, 1): ([b, c], 4), (1, 2): ([a, b], 4), (2, 2): ([c, d], 4)}
    )
    responses.add_callback(responses.GET, f"{API}/ad/get/", callback=callback)
    rows = [
        r
        for page in client.get_pages("/ad/get/", {}, page_size=2, key=lambda r: r["id"])
        for r in page
    ]
    assert rows == [a, b, c, d]


def id_pages(typed_pages: set[int]) -> Callable[[bytes], DecodedPage | None]:
    """A page decoder typing rows as ids (identity: the hash of the key ``(id,)``), for the
    pages whose number is in ``typed_pages``; any other page is left to the general decoding."""

    def decode(raw: bytes) -> DecodedPage | None:
        body = json.loads(raw)
        data = body["data"]
        if data["page_info"]["page"] not in typed_pages:
            return None
        ids = [row["id"] for row in data["list"]]
        rows = KeyedRows(ids, [hash((i,)) for i in ids])
        return DecodedPage({"page_info": data["page_info"]}, body["request_id"], rows)

    return decode


def read_ids(client: TikTokClient, typed_pages: set[int], seen: set[int] | None = None) -> list:
    pages = client.get_typed_pages(
        "/ad/get/",
        {},
        page_size=2,
        key=lambda r: (r["id"],),
        decode_page=id_pages(typed_pages),
        seen=seen,
    )
    return [r if isinstance(page, KeyedRows) else r["id"] for page in pages for r in _rows(page)]


def _rows(page: object) -> list:
    return page.rows if isinstance(page, KeyedRows) else page  # type: ignore[return-value]


@pytest.mark.parametrize("typed_pages", [{1, 2}, {1}, {2}])
@responses.activate
def test_typed_pages_restart_and_keep_each_row_once_like_dict_pages(
    client: TikTokClient, typed_pages: set[int]
) -> None:
    """Rows of typed pages are dropped by the identities their decoder gave, rows of pages
    read as dicts by the hash of their key: one listing may hold both."""
    a, b, c, d = ({"id": x} for x in "abcd")
    callback, _ = paged(
        {(1, 1): ([a, b], 3), (2, 1): ([b, c], 4), (1, 2): ([a, b], 4), (2, 2): ([c, d], 4)}
    )
    responses.add_callback(responses.GET, f"{API}/ad/get/", callback=callback)
    assert read_ids(client, typed_pages) == ["a", "b", "c", "d"]


@responses.activate
def test_rows_in_the_callers_seen_set_are_dropped_and_the_others_added(
    client: TikTokClient,
) -> None:
    a, b, c = ({"id": x} for x in "abc")
    callback, _ = paged({1: ([a, b], 3), 2: ([c], 3)})
    responses.add_callback(responses.GET, f"{API}/ad/get/", callback=callback)
    seen = {hash(("b",))}
    assert read_ids(client, {1}, seen) == ["a", "c"]
    assert seen == {hash((x,)) for x in "abc"}


@responses.activate
def test_paging_that_never_settles_fails_clearly(client: TikTokClient) -> None:
    callback, _ = paged({1: ([{"id": "a"}], 2)})  # promises 2 rows on page 1, sends 1, forever
    responses.add_callback(responses.GET, f"{API}/ad/get/", callback=callback)
    with pytest.raises(TransientAPIError, match="paging kept changing"):
        list(client.get_pages("/ad/get/", {}, page_size=2, key=lambda r: r["id"]))


@responses.activate
def test_timeouts_are_retried_at_most_twice(client: TikTokClient) -> None:
    responses.get(f"{API}/report/integrated/get/", body=requests.Timeout("slow"))
    with pytest.raises(RequestTimeoutError):
        client.get("/report/integrated/get/")
    assert len(responses.calls) == 3


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_refusal_slows_the_pace_for_a_minute_not_for_the_rest_of_the_run() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock)
    limiter.slow_down()
    limiter.slow_down()
    assert limiter.rate == pytest.approx(6.4)
    clock.now += 59
    limiter.acquire()
    assert limiter.rate == pytest.approx(6.4)  # not yet a quiet minute
    clock.now += 1
    limiter.acquire()
    assert limiter.rate == pytest.approx(8.0)  # one step back
    clock.now += 30
    limiter.slow_down()  # refused again: the quiet minute starts over
    clock.now += 59
    limiter.acquire()
    assert limiter.rate == pytest.approx(6.4)
    for _ in range(5):
        clock.now += 60
        limiter.acquire()
    assert limiter.rate == 10  # never above the limit


@responses.activate
def test_a_request_started_ahead_is_sent_once_and_its_answer_taken(client: TikTokClient) -> None:
    responses.get(
        f"{API}/report/integrated/get/", json=envelope(data={"list": [{"id": 1}], "page_info": {}})
    )
    params = {"advertiser_id": "1", "page": 2, "metrics": ["spend"]}
    client.start_get("/report/integrated/get/", params, advertiser_id="1")
    # The same request, its parameters in another order: the answer started ahead.
    answer = client.get_answer("/report/integrated/get/", dict(reversed(params.items())))
    assert answer.data["list"] == [{"id": 1}]
    client.get_answer("/report/integrated/get/", params)  # taken once: this one is sent
    assert len(responses.calls) == 2
    client.close()


@responses.activate
def test_a_request_started_ahead_that_failed_fails_where_it_is_asked_for(
    client: TikTokClient,
) -> None:
    responses.get(f"{API}/campaign/get/", json=envelope(code=40002, message="bad filter"))
    client.start_get("/campaign/get/", {"advertiser_id": "1"})
    with pytest.raises(RefusedAPIError, match="bad filter"):
        client.get_answer("/campaign/get/", {"advertiser_id": "1"})
    assert len(responses.calls) == 1
    client.close()


@responses.activate
def test_a_page_started_ahead_and_not_taken_is_let_go_when_its_listing_is_read(
    client: TikTokClient,
) -> None:
    """Page 2 was started ahead, but page 1 then said there is one page: the reading ends
    without it. It is not kept for the run (a later read of the listing asks again)."""
    path = "/report/integrated/get/"
    params = {"advertiser_id": "1", "metrics": ["spend"]}
    responses.get(
        f"{API}{path}",
        json=envelope(
            data={"list": [{"id": 1}], "page_info": {"total_number": 1, "total_page": 1}}
        ),
    )
    client.start_get(path, {**params, "page": 2, "page_size": 10}, advertiser_id="1")
    wait_for_calls(1)
    assert list(client.get_pages(path, params, page_size=10)) == [[{"id": 1}]]
    client.get_answer(path, {**params, "page": 2, "page_size": 10})
    assert len(responses.calls) == 3  # ahead, page 1, and page 2 asked again
    client.close()


@responses.activate
def test_pages_started_ahead_for_a_listing_never_read_are_let_go_on_release(
    client: TikTokClient,
) -> None:
    path = "/report/integrated/get/"
    responses.get(f"{API}{path}", json=envelope(data={"list": [], "page_info": {}}))
    listing = {"advertiser_id": "1", "page": 1, "page_size": 10}
    client.start_get(path, {**listing, "page": 2})
    client.start_get(path, {**listing, "page": 3})
    wait_for_calls(2)
    client.release_started(path, listing)  # e.g. the advertiser's report failed before it
    client.get_answer(path, {**listing, "page": 2})
    client.get_answer(path, {**listing, "page": 3})
    assert len(responses.calls) == 4  # neither answer was kept
    client.close()


def wait_for_calls(count: int) -> None:
    """Until the mocked API was called ``count`` times (requests started ahead answered)."""
    deadline = time.monotonic() + 10
    while len(responses.calls) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(responses.calls) == count
