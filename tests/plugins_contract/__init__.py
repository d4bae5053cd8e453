"""The plugin contract: docs/plugins.md matches core/pluginhost/hookspecs.py, every hook has a test,
and a third-party plugin installed as its own distribution works end to end."""
