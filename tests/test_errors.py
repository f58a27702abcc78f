"""The exception tree: every error is an AuthError and an aiohttp.ClientError, and carries data."""

from __future__ import annotations

import pickle

import aiohttp
import pytest

import aiohttp_auth
from aiohttp_auth import errors

ALL_ERRORS = [getattr(errors, name) for name in errors.__all__]


def test_every_public_error_is_exported_from_the_package() -> None:
    assert {cls.__name__ for cls in ALL_ERRORS} <= set(aiohttp_auth.__all__)
    for cls in ALL_ERRORS:
        assert getattr(aiohttp_auth, cls.__name__) is cls


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_is_an_auth_error_and_a_client_error(cls: type[Exception]) -> None:
    assert issubclass(cls, errors.AuthError)
    assert issubclass(cls, aiohttp.ClientError)


@pytest.mark.parametrize(
    ("cls", "parent"),
    [
        (errors.ConfigurationError, ValueError),
        (errors.OAuth2Error, errors.TokenError),
        (errors.InsecureTransportError, errors.AuthError),
        (errors.BodyNotReplayableError, errors.AuthError),
        (errors.CredentialError, errors.AuthError),
        (errors.ChallengeError, errors.AuthError),
        (errors.SigningError, errors.AuthError),
        (errors.StoreError, errors.AuthError),
    ],
)
def test_tree_shape(cls: type[Exception], parent: type[Exception]) -> None:
    assert issubclass(cls, parent)


def test_configuration_error_is_caught_as_value_error() -> None:
    with pytest.raises(ValueError, match="token: bad"):
        raise errors.ConfigurationError("token: bad")


def test_oauth2_error_carries_the_rfc6749_fields() -> None:
    error = errors.OAuth2Error("invalid_grant", "refresh token expired", "https://x.example/e")
    assert (error.error, error.description, error.uri) == (
        "invalid_grant",
        "refresh token expired",
        "https://x.example/e",
    )
    assert str(error) == "The token endpoint answered 'invalid_grant': refresh token expired"


def test_oauth2_error_default_message_without_description() -> None:
    error = errors.OAuth2Error("invalid_client")
    assert error.description is None
    assert error.uri is None
    assert str(error) == "The token endpoint answered 'invalid_client'"


def test_oauth2_error_takes_an_explicit_message() -> None:
    error = errors.OAuth2Error("invalid_scope", "nope", message="check the scope 'admin'")
    assert str(error) == "check the scope 'admin'"
    assert error.error == "invalid_scope"
    assert error.description == "nope"


def test_insecure_transport_error_carries_the_url() -> None:
    error = errors.InsecureTransportError("use https", url="http://api.example.com/x")
    assert error.url == "http://api.example.com/x"
    assert str(error) == "use https"


@pytest.mark.parametrize(
    "error",
    [
        errors.ConfigurationError("origins: bad"),
        errors.InsecureTransportError("use https", url="http://api.example.com/"),
        errors.OAuth2Error("invalid_grant", "expired", "https://x.example/e"),
        errors.OAuth2Error("invalid_scope", message="custom message"),
        errors.StoreError("locked"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_errors_survive_pickling_with_their_data(error: errors.AuthError) -> None:
    # Errors cross process boundaries (multiprocessing, task queues) by pickle.
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)
