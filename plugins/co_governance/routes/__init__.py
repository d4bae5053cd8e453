"""Pages (volunteer, staff, store, services, training, property) and the resident JSON API."""
