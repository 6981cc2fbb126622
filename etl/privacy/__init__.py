"""Privacy by design (issue 14): erase a person on request (:mod:`.forget`), members' opt-out from
the chat (:mod:`.optout`), retention limits (:mod:`.retention`), pseudonymised enriched layer and marts
(:mod:`.pseudonym`); ids in the lake's own records are salted hashes (:mod:`.identity`)."""

from .identity import Hasher, lake_salt, person_hash
from .optout import OptOutList, opted_out, optout_command
from .records import erased_people, write_record
from .scrub import Person, Verdict, judge

__all__ = [
    "Hasher",
    "OptOutList",
    "Person",
    "Verdict",
    "erased_people",
    "judge",
    "lake_salt",
    "opted_out",
    "optout_command",
    "person_hash",
    "write_record",
]
