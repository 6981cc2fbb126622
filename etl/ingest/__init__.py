"""Ingestion: every way an update reaches the raw lake, byte-exact.

* :mod:`~etl.ingest.router`: trusted ingestion (route by chat, store the exact bytes, quarantine);
* :mod:`~etl.ingest.webhook`: the HTTP face (the secret check, then the router);
* :mod:`~etl.ingest.poll`: getUpdates for a machine without a public URL (the router, no secret);
* :mod:`~etl.ingest.history`: a Telegram Desktop export of the past, as the updates a bot would have had.
"""
