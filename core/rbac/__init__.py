"""Role-based access: casbin holds role → action; scope is a user's assignments at grid paths."""
