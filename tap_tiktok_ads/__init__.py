"""Singer tap for the TikTok Business API v1.3."""

# The name this package is installed under (pyproject's [project] name). Its version, read from
# the installed metadata, is the one `tap-tiktok-ads --about` and `--version` show.
DISTRIBUTION = "tap-tiktok-ads-sdk"
