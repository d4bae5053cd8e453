"""Built-in pillar plugins. Each registers through the `liuzhi.plugins` entry point like any third party."""
