"""The territory tree: node kinds and nodes, with materialised paths for scope checks."""
