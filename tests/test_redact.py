"""Secrets never show in reprs, strings, f-strings, pickles or logged URLs."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest
from yarl import URL

from aiohttp_auth._redact import Secret, logger, redacted, redacted_repr, safe_url


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        (None, "None"),
        ("", "<redacted 0 chars>"),
        ("s3cr3t", "<redacted 6 chars>"),
        ("jösé", "<redacted 4 chars>"),
        (b"\x00\x01", "<redacted 2 bytes>"),
    ],
)
def test_redacted_shows_only_length_and_unit(secret: str | bytes | None, shown: str) -> None:
    assert redacted(secret) == shown


def test_secret_never_shows_itself() -> None:
    secret = Secret("s3cr3t-value")
    rendered = [
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret:>40}",
        "%s" % secret,  # noqa: UP031 - %-formatting is a way secrets leak too
    ]
    assert all("s3cr3t" not in text for text in rendered)
    assert repr(secret) == "<redacted 12 chars>"
    assert secret.value == "s3cr3t-value"
    assert len(secret) == 12


def test_secret_compares_with_secrets_and_strings() -> None:
    secret = Secret("jösé-s3cr3t")
    assert secret == Secret("jösé-s3cr3t")
    assert secret == "jösé-s3cr3t"
    assert "jösé-s3cr3t" == secret  # noqa: SIM300 - the reflected comparison
    assert secret != "jösé-s3cr3T"
    assert secret != Secret("other")
    assert secret != b"j\xc3\xb6s\xc3\xa9-s3cr3t"
    assert secret != 42
    assert hash(secret) == hash(Secret("jösé-s3cr3t"))
    assert len({secret, Secret("jösé-s3cr3t"), Secret("other")}) == 2


@pytest.mark.parametrize("serialise", [pickle.dumps, copy.copy])
def test_secret_refuses_to_be_pickled(serialise: object) -> None:
    with pytest.raises(TypeError, match="TokenStore"):
        serialise(Secret("s3cr3t"))  # type: ignore[operator]


def test_redacted_repr_builds_class_name_and_fields() -> None:
    class Holder:
        pass

    holder = Holder()
    assert redacted_repr(holder) == "Holder()"
    assert (
        redacted_repr(holder, login="'alice'", password=redacted("s3cr3t"))
        == "Holder(login='alice', password=<redacted 6 chars>)"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://api.example.com/v1/items", "https://api.example.com/v1/items"),
        ("https://user:pw@api.example.com/v1", "https://api.example.com/v1"),
        ("https://user@api.example.com/", "https://api.example.com/"),
        ("https://x.example/a?api_key=K&page=2", "https://x.example/a?api_key=...&page=..."),
        ("https://x.example/a?sig=1&sig=2&b=3", "https://x.example/a?sig=...&b=..."),
        ("https://x.example/a?flag", "https://x.example/a?flag=..."),
        ("https://x.example/cb#access_token=T", "https://x.example/cb"),
        ("https://u:p@x.example/cb?code=C#state=S", "https://x.example/cb?code=..."),
        ("/relative/path?code=C", "/relative/path?code=..."),
        ("/relative/path#access_token=T", "/relative/path"),
        (URL("https://u:p@x.example/?k=v"), "https://x.example/?k=..."),
    ],
)
def test_safe_url_drops_user_info_fragment_and_query_values(url: str | URL, shown: str) -> None:
    assert safe_url(url) == shown


def test_package_logger_is_named_for_the_package() -> None:
    assert logger.name == "aiohttp_auth"
    assert logger is logging.getLogger("aiohttp_auth")
