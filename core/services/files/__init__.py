"""Per-tenant file storage: a local directory by default; served only to who may see the owner."""
