"""Privacy by design (issue 14): erase a person on request (:mod:`.forget`), members' opt-out from
the chat (:mod:`.optout`), retention limits (:mod:`.retention`), pseudonymised enriched layer and marts
(:mod:`.pseudonym`); ids in the lake's own records are salted hashes (:mod:`.identity`).

Nothing is imported here: the ETL reads the opt-out list (:mod:`.exclude`) on every run, and a short
day should not wait for the modules of erasure and retention.
"""
