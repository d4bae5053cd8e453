"""Placeholder."""

handlers: list = []
