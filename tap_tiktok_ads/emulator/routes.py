"""The emulator's API endpoints: plain functions of (emulator, decoded params) -> ``data``.

Orders (documented for other tests): campaigns by ``campaign_id`` descending (TikTok's
default); ad groups, ads and audiences by id ascending; advertisers in the order asked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tap_tiktok_ads.emulator.answers import ApiError, page_info
from tap_tiktok_ads.emulator.details import BUYING_TYPES, DEFAULT_BUYING_TYPES, TOP_VIEW_NOT_ALONE
from tap_tiktok_ads.emulator.faults import CODE_MESSAGES
from tap_tiktok_ads.emulator.world import TIME_FORMAT, parse_time

if TYPE_CHECKING:
    from tap_tiktok_ads.emulator.server import Emulator

AUTH_CODE_LIFETIME = timedelta(hours=1)
MAX_IDS = 100
# Asked for by name only, and then TikTok returns it alone with advertiser_id.
LONE_ADVERTISER_FIELDS = ("company_name_editable",)
ID_FILTERS = ("campaign_ids", "adgroup_ids", "ad_ids")
NAME_FILTERS = {"campaigns": "campaign_name", "adgroups": "adgroup_name", "ads": "ad_name"}


Route = Callable[["Emulator", dict[str, Any]], Any]


# -- shared parameter checks -------------------------------------------------------------------


def page_of(rows: list[Any], params: dict[str, Any], cap: int) -> dict[str, Any]:
    """``data`` of a paginated answer: the page's rows and an exact ``page_info``."""
    page = _integer(params, "page", 1)
    page_size = _integer(params, "page_size", 10)
    if page < 1:
        raise ApiError(40002, "page: must be greater than or equal to 1")
    if not 1 <= page_size <= cap:
        raise ApiError(40002, f"page_size: must be between 1 and {cap}")
    return {
        "list": rows[(page - 1) * page_size : page * page_size],
        "page_info": page_info(page, page_size, len(rows)),
    }


def _integer(params: dict[str, Any], name: str, default: int) -> int:
    try:
        return int(params.get(name, default))
    except (TypeError, ValueError):
        raise ApiError(40002, f"{name}: must be an integer") from None


def _id_list(params: dict[str, Any], name: str, required: bool = True) -> list[str]:
    ids = params.get(name)
    if ids is None and not required:
        return []
    if not isinstance(ids, list) or not ids:
        raise ApiError(40002, f"Missing required field(s): {name}")
    if len(ids) > MAX_IDS:
        raise ApiError(40002, f"{name}: at most {MAX_IDS} ids per request")
    return [str(i) for i in ids]


def _object(params: dict[str, Any], name: str) -> dict[str, Any]:
    value = params.get(name) or {}
    if not isinstance(value, dict):
        raise ApiError(40002, f"{name}: must be a JSON object")
    return value


def _time(value: Any, name: str) -> datetime:
    try:
        return parse_time(str(value))
    except ValueError:
        raise ApiError(40002, f"{name}: use the format {TIME_FORMAT}") from None


def select(row: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The row cut to ``fields`` (when given), minus nulls under NULL_FIELD exclusion."""
    fields = params.get("fields")
    if fields is not None and not isinstance(fields, list):
        raise ApiError(40002, "fields: must be a JSON array of strings")
    out = {name: row[name] for name in fields if name in row} if fields else dict(row)
    if "NULL_FIELD" in (params.get("exclude_field_types_in_response") or ()):
        out = {name: value for name, value in out.items() if value is not None}
    return out


# -- account endpoints -------------------------------------------------------------------------


def user_info(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "display_name": "Emulator User",
        "email": "u***@example.com",
        "core_user_id": "7000000000000000001",
        "create_time": 1600000000,
        "avatar_url": None,
    }


def advertiser_info(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    rows = [
        emu.check_advertiser(advertiser_id) for advertiser_id in _id_list(params, "advertiser_ids")
    ]
    fields = params.get("fields")
    lone = [name for name in fields or () if name in LONE_ADVERTISER_FIELDS]
    if lone:  # TikTok then answers with those fields and the id only
        fields = ["advertiser_id", *lone]
    elif not fields:
        fields = [name for name in rows[0] if name not in LONE_ADVERTISER_FIELDS]
    return {"list": [select(row, {**params, "fields": fields}) for row in rows]}


def authorized_advertisers(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    check_app(emu, params)
    return {
        "list": [
            {"advertiser_id": a["advertiser_id"], "advertiser_name": a["name"]}
            for a in emu.world.advertisers
        ]
    }


def check_app(emu: Emulator, params: dict[str, Any]) -> None:
    if str(params.get("app_id")) != emu.app_id:
        raise ApiError(40101, "Invalid app_id. Please check the app_id and secret.")
    if str(params.get("secret")) != emu.secret:
        raise ApiError(40113, "The app_id and secret do not match.")


def access_token(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    check_app(emu, params)
    emu.redeem_auth_code(str(params.get("auth_code") or ""))
    return {
        "access_token": emu.access_token,
        "advertiser_ids": [a["advertiser_id"] for a in emu.world.advertisers],
        "scope": [1, 2, 3, 4, 5, 6],
    }


# -- entities ----------------------------------------------------------------------------------


def entities(table: str, id_key: str, newest_first: bool = False) -> Route:
    """A ``/campaign/get/``-style endpoint over one world table."""

    def handler(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
        advertiser = emu.check_advertiser(params.get("advertiser_id"))
        keep = entity_filter(table, _object(params, "filtering"), emu)
        rows = [row for row in emu.world.rows(table, advertiser["advertiser_id"]) if keep(row)]
        rows.sort(key=lambda row: row[id_key], reverse=newest_first)
        data = page_of(rows, params, _entity_page_cap(table, params))
        data["list"] = [select(row, params) for row in data["list"]]
        return data

    return handler


def _entity_page_cap(table: str, params: dict[str, Any]) -> int:
    buying = _object(params, "filtering").get("buying_types")
    return 100 if table == "adgroups" and buying == ["RESERVATION_TOP_VIEW"] else 1000


def entity_filter(
    table: str, filtering: dict[str, Any], emu: Emulator
) -> Callable[[dict[str, Any]], bool]:
    """A predicate for TikTok's ``filtering`` object; parameters are checked up front."""
    tests = [_status_test(filtering), _buying_test(filtering, emu)]
    for key in ID_FILTERS:
        if filtering.get(key):
            tests.append(_id_test(key[:-1], frozenset(_id_list(filtering, key))))
    name = str(filtering.get(NAME_FILTERS[table]) or "").lower()
    if name:  # a fuzzy match, like TikTok's
        tests.append(lambda row: name in row[NAME_FILTERS[table]].lower())
    objective = filtering.get("objective_type")
    if objective:
        tests.append(lambda row: _campaign_of(row, emu)["objective_type"] == objective)
    tests += _time_tests(table, filtering)
    return lambda row: all(test(row) for test in tests)


def _id_test(field: str, wanted: frozenset[str]) -> Callable[[dict[str, Any]], bool]:
    return lambda row: row.get(field) in wanted


def _status_test(filtering: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    primary = str(filtering.get("primary_status") or "STATUS_NOT_DELETE")
    secondary = str(filtering.get("secondary_status") or "")
    if secondary.endswith("_STATUS_ALL"):
        return lambda row: True
    if secondary.endswith("_STATUS_DELETE"):
        return _deleted
    if secondary:
        return lambda row: row.get("secondary_status") == secondary
    if primary == "STATUS_ALL":
        return lambda row: True
    if primary == "STATUS_DELETE":
        return _deleted
    if primary in ("STATUS_DISABLE", "STATUS_DELIVERY_OK"):
        wanted = "DISABLE" if primary == "STATUS_DISABLE" else "ENABLE"
        return lambda row: not _deleted(row) and row["operation_status"] == wanted
    return lambda row: not _deleted(row)


def _deleted(row: dict[str, Any]) -> bool:
    return str(row.get("secondary_status", "")).endswith("_DELETE")


def _buying_test(filtering: dict[str, Any], emu: Emulator) -> Callable[[dict[str, Any]], bool]:
    """TikTok's default leaves TopView out; TopView is listed only when asked for alone."""
    wanted = filtering.get("buying_types") or list(DEFAULT_BUYING_TYPES)
    if not isinstance(wanted, list):
        raise ApiError(40002, "filtering.buying_types: must be a JSON array")
    unknown = [value for value in wanted if value not in BUYING_TYPES]
    if unknown:
        raise ApiError(40002, f"filtering.buying_types: invalid value '{unknown[0]}'")
    if "RESERVATION_TOP_VIEW" in wanted and len(wanted) > 1:
        raise ApiError(40002, TOP_VIEW_NOT_ALONE)
    return lambda row: emu.world.buying_type(row) in wanted


def _campaign_of(row: dict[str, Any], emu: Emulator) -> dict[str, Any]:
    return emu.world.by_id["campaigns"].get(row["campaign_id"], row)


def _time_tests(table: str, filtering: dict[str, Any]) -> list[Callable[[dict[str, Any]], bool]]:
    tests: list[Callable[[dict[str, Any]], bool]] = []
    start, end = (filtering.get(f"creation_filter_{edge}_time") for edge in ("start", "end"))
    if start:
        since = _time(start, "creation_filter_start_time")
        tests.append(lambda row: parse_time(row["create_time"]) >= since)
    if end:
        until = _time(end, "creation_filter_end_time")
        tests.append(lambda row: parse_time(row["create_time"]) <= until)
    if table == "ads" and filtering.get("modified_after"):  # TikTok offers it on ads only
        after = _time(filtering["modified_after"], "modified_after")
        # Smart+ ads have no modify_time: their creation time stands in for it.
        tests.append(lambda row: parse_time(row.get("modify_time") or row["create_time"]) >= after)
    return tests


# -- custom audiences --------------------------------------------------------------------------


def audience_list(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    advertiser = emu.check_advertiser(params.get("advertiser_id"))
    wanted = frozenset(_id_list(params, "custom_audience_ids", required=False))
    rows = [
        _public_audience(a)
        for a in emu.world.rows("audiences", advertiser["advertiser_id"])
        if not wanted or a["audience_id"] in wanted
    ]
    rows.sort(key=lambda row: row["audience_id"])
    return page_of(rows, params, 100)


def audience_get(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    advertiser = emu.check_advertiser(params.get("advertiser_id"))
    ids = _id_list(params, "custom_audience_ids")
    history_size = _integer(params, "history_size", 100)
    if not 1 <= history_size <= 100:
        raise ApiError(40002, "history_size: must be between 1 and 100")
    own = {a["audience_id"]: a for a in emu.world.rows("audiences", advertiser["advertiser_id"])}
    out = []
    for audience_id in ids:
        if audience_id not in own:
            raise ApiError(40007, f"Custom audience {audience_id} does not exist.")
        details = _public_audience(own[audience_id])
        details["type"] = details.pop("audience_type")  # the get endpoint's name for it
        history = emu.world.audience_history.get(audience_id, [])[:history_size]
        out.append({"audience_details": details, "audience_history": history})
    return {"list": out}


def _public_audience(audience: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in audience.items() if key != "advertiser_id"}


# -- reports -----------------------------------------------------------------------------------


def report(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    emu.check_advertiser(params.get("advertiser_id"))
    _refuse_large(emu.too_large_days, params)
    return emu.reports.query(params, emu.now)


def _refuse_large(too_large_days: int | None, params: dict[str, Any]) -> None:
    if not too_large_days or params.get("query_lifetime") is True:
        return
    try:
        start = date.fromisoformat(str(params["start_date"]))
        end = date.fromisoformat(str(params["end_date"]))
    except (KeyError, ValueError):
        return  # the report rules answer for missing or bad dates
    if (end - start).days + 1 > too_large_days:
        raise ApiError(40067, CODE_MESSAGES[40067])


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/user/info/"): user_info,
    ("GET", "/advertiser/info/"): advertiser_info,
    ("GET", "/oauth2/advertiser/get/"): authorized_advertisers,
    ("POST", "/oauth2/access_token/"): access_token,
    ("GET", "/campaign/get/"): entities("campaigns", "campaign_id", newest_first=True),
    ("GET", "/adgroup/get/"): entities("adgroups", "adgroup_id"),
    ("GET", "/ad/get/"): entities("ads", "ad_id"),
    ("GET", "/dmp/custom_audience/list/"): audience_list,
    ("GET", "/dmp/custom_audience/get/"): audience_get,
    ("GET", "/report/integrated/get/"): report,
}
NO_TOKEN_PATHS = frozenset({"/oauth2/access_token/"})
