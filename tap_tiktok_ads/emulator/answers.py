"""What every emulator endpoint answers with besides its rows: TikTok's errors and page_info."""

from __future__ import annotations


class ApiError(Exception):
    """An answer with a non-zero envelope ``code`` (HTTP 200, ``data: {}``), as TikTok sends."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def page_info(page: int, page_size: int, total_number: int) -> dict[str, int]:
    """TikTok's exact ``page_info`` for page ``page`` of ``total_number`` rows."""
    return {
        "page": page,
        "page_size": page_size,
        "total_number": total_number,
        "total_page": -(-total_number // page_size),
    }
