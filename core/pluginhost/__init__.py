"""The plugin host: the hook contract (hookspecs), manifests, the per-app manager, the web bridge."""
