"""Entity values: a link's host read without urllib on the common path gives what urllib gives."""

from __future__ import annotations

import urllib.parse

from hypothesis import given
from hypothesis import strategies as st

from etl.transform.entities import _host

PIECES = st.sampled_from(
    ["a", "B", ".", "-", ":", "@", "/", "?", "#", "[", "]", "\\", "%2E", "8080", "\t", " ", "é"]
)


def urllib_host(url: str) -> str | None:
    text = url.strip()
    try:
        host = urllib.parse.urlsplit(text if "://" in text else f"http://{text}").hostname
    except ValueError:
        return None
    return host.lower() if host else None


@given(
    scheme=st.sampled_from(["http://", "https://", "HTTPS://", "ftp://", ""]),
    rest=st.lists(PIECES, max_size=12),
)
def test_the_fast_host_is_urllib_s_host(scheme: str, rest: list[str]) -> None:
    url = scheme + "".join(rest)
    assert _host(url) == urllib_host(url)


def test_hosts_of_common_links() -> None:
    links = [
        "https://Suporte.Example.com/faq?id=9",
        "http://user:pw@Host.COM:8080/x",
        "https://a.b#d",
        "x.org/p",
    ]
    assert [_host(link) for link in links] == ["suporte.example.com", "host.com", "a.b", "x.org"]
