"""Delayed and periodic jobs that carry their tenant and never run twice across app processes."""
