"""Root conftest: loads the feedchaos pytest plugin (suites/plugin.py)."""

pytest_plugins = ["suites.plugin"]
