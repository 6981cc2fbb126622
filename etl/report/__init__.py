"""`tgpipe report`: the marts of one chat as one self-contained HTML page.

:mod:`~etl.report.marts` reads the marts (typed rows), :mod:`~etl.report.cards` makes one card per
chart or table from them, :mod:`~etl.report.page` composes the page from the templates beside it,
:mod:`~etl.report.charts` draws the SVG charts, :mod:`~etl.report.build` writes the file. DuckDB is
needed only here (the ``local`` extra).
"""
