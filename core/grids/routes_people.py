"""placeholder: filled in by the grid issue"""

handlers: list = []
