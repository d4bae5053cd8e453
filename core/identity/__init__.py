"""Identity: users of one tenant, platform operators above tenants, passwords, sessions, API tokens."""
