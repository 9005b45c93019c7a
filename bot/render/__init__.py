"""Pure functions from domain objects to Block Kit (slack_sdk models, returned as dicts)."""
