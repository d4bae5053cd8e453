"""Web pages of 服务智治: staff.py (inbox, event page and its actions, live board) and admin.py
(categories, working calendar, handling units, dispatch catalogue). Each module exports ``handlers``."""
