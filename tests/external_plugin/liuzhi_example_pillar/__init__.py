"""示例支柱 — an example third-party Liuzhi plugin. Its hooks are in ``plugin.py``."""
