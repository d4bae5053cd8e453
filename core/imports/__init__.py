"""Bulk import of the territory tree and residents from CSV and Excel, with preview, progress and error reports."""
