"""Telegram: the shape of a Bot API Update (:mod:`etl.telegram.update`, standard library only, what
every stage reads an update with) and a small Bot API client (:mod:`etl.telegram.botapi`).

Nothing is imported here, so reading an update does not load the HTTP client.
"""
