"""The command line: bad input and the tap's own errors as one line, and the last STATE kept.

singer-sdk's click command calls the tap class's ``invoke``, ``cb_config`` and ``cb_discover``;
those delegate here, so the console script stays ``tap_tiktok_ads.tap:TapTikTokAds.cli``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, NoReturn

from tap_tiktok_ads.bookmarks import check_state_shape
from tap_tiktok_ads.errors import DEBUG_ENV, ConfigError, TapTikTokAdsError
from tap_tiktok_ads.gc_pause import collector_paused
from tap_tiktok_ads.malloc_arenas import use_one_malloc_arena
from tap_tiktok_ads.process_exit import skip_final_collections
from tap_tiktok_ads.sdk_compat import ConfigInput, config_input
from tap_tiktok_ads.shutdown import Interrupted, exit_after
from tap_tiktok_ads.state_pacing import PacedStateTap


def invoke(
    tap_class: type[PacedStateTap],
    *,
    about: bool = False,
    about_format: str | None = None,
    config: ConfigInput | None = None,
    state: IO[str] | None = None,
    catalog: IO[str] | None = None,
) -> None:
    """Run a sync as singer-sdk's ``Tap.invoke`` does, writing the last STATE however it ends.

    The tap's own errors are one line and exit 1; a stop signal exits with its status.
    """
    use_one_malloc_arena()  # before any thread starts (see malloc_arenas)
    skip_final_collections()
    with one_line_errors():
        try:
            with collector_paused():  # parsing the catalog and building the streams
                tap = _create_tap(tap_class, about, about_format, config, state, catalog)
            tap.sync_and_write_last_state()
        except Interrupted as stop:
            exit_after(stop)


def _create_tap(
    tap_class: type[PacedStateTap],
    about: bool,
    about_format: str | None,
    config: ConfigInput | None,
    state: IO[str] | None,
    catalog: IO[str] | None,
) -> PacedStateTap:
    # The parsed state and catalog live only until the tap holds its own copies: kept for the
    # whole run, the discovered catalog would cost tens of MB.
    state_value = read_json_object(state, "state")
    catalog_value = read_json_object(catalog, "catalog")
    if about:
        tap_class.print_about(about_format)
        sys.exit(0)
    tap_class.print_version(print_fn=tap_class.logger.info)
    settings, parse_env = config_input(config)
    return tap_class(
        config=settings,
        state=state_value,
        catalog=catalog_value,
        parse_env_config=parse_env,
        validate_config=True,
    )


@contextmanager
def one_line_errors() -> Iterator[None]:
    """The tap's own errors as one line and exit 1 (a traceback with the debug flag)."""
    try:
        yield
    except TapTikTokAdsError as error:
        exit_with_error(error)


def check_config_files(paths: tuple[str, ...]) -> None:
    """Every ``--config`` file (``ENV`` aside) exists and holds a JSON object."""
    for path in paths:
        if path != "ENV":
            check_config_file(path)


def check_config_file(path: str) -> None:
    """The ``--config`` file exists and holds a JSON object (errors never quote its content)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("--config", f"{path} was not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError("--config", f"cannot read {path} ({type(error).__name__})") from None
    try:  # NaN and Infinity are not JSON: singer-sdk's reader refuses them too
        value = json.loads(text, parse_constant=_not_json)
    except ValueError as error:  # names the line and column only
        raise ConfigError("--config", f"{path} is not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise ConfigError("--config", f"{path} must hold a JSON object")


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON value")


def read_json_object(file: IO[str] | None, option: str) -> dict[str, Any] | None:
    """The JSON object of a ``--state`` / ``--catalog`` file, or None without one."""
    return None if file is None else checked_json(file.read(), option)


def checked_json(text: str, option: str) -> dict[str, Any]:
    """The JSON object ``--state`` / ``--catalog`` expect, read as singer-sdk reads it.

    Fractions are decimals and NaN / Infinity are refused, as by singer-sdk's reader; an empty
    file is an empty object.
    """
    try:
        value = json.loads(text or "{}", parse_float=Decimal, parse_constant=_not_json)
    except ValueError as error:  # names the line and column only
        raise ConfigError(f"--{option}", f"the file is not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise ConfigError(f"--{option}", "the file must hold a JSON object")
    streams = value.get("streams", [])
    if option == "catalog" and not (
        isinstance(streams, list)
        and all(isinstance(s, dict) and s.get("tap_stream_id") for s in streams)
    ):
        raise ConfigError("--catalog", "`streams` must be a list of entries with tap_stream_id")
    if option == "state":
        check_state_shape(value)
    return value


def exit_with_error(error: Exception) -> NoReturn:
    logger = logging.getLogger("tap-tiktok-ads")
    if os.environ.get(DEBUG_ENV):
        logger.exception("%s", error)
    else:
        logger.error("%s", error)
    sys.exit(1)
