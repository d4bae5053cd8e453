"""Tenants: who they are, how a request finds its tenant, and which plugins each has on."""
