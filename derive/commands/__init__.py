"""One click command per module; derive/cli_app.py registers them on the group."""
