"""`tgpipe demo` (:mod:`~etl.demo.run`) and the realistic Telegram traffic it, the benchmarks and the
tests generate (:mod:`~etl.demo.traffic`)."""
