"""The past of a chat: a Telegram Desktop JSON export imported into the raw lake as the Bot API updates
a bot would have received (:mod:`~etl.ingest.history.reader` streams the file,
:mod:`~etl.ingest.history.convert` shapes each message, :mod:`~etl.ingest.history.importer` writes them).
"""
