"""placeholder"""

handlers: list = []
