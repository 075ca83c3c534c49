"""Singer tap for the TikTok Business API v1.3."""
