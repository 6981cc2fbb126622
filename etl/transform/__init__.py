"""The daily ETL: every raw update received on a day -> one typed Parquet partition.

:mod:`~etl.transform.enrich` turns one update into a row, :mod:`~etl.transform.schema` declares the
table, :mod:`~etl.transform.chunks` and :mod:`~etl.transform.parallel` do the per-object work in
worker processes, :mod:`~etl.transform.job` runs a day, :mod:`~etl.transform.schedule` says which
day a scheduled run processes.

Nothing is imported here: :mod:`~etl.transform.schedule` is pure date arithmetic that the Chalice
app loads at start, while the rest needs pyarrow.
"""
