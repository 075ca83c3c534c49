"""Report definitions, metric catalog and record building."""
