"""presign_url: checked against botocore's query signing, and its errors."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from yarl import URL

import aiohttp_auth as aa
from aiohttp_auth.signing.credentials import AwsCredentials
from aiohttp_auth.signing.presign import presign_url
from aiohttp_auth.signing.sigv4 import GOOG4, SigV4Signer

NOW = 1_440_938_160.0  # 2015-08-30T12:36:00Z
CREDS = AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


def _botocore_presigned(url: str, *, token: str | None = None, expires: int = 3600) -> str:
    request = AWSRequest(method="GET", url=url)
    credentials = BotoCredentials(CREDS.access_key_id, CREDS.secret_access_key, token)
    auth = S3SigV4QueryAuth(credentials, "s3", "us-east-1", expires=expires)
    fixed = datetime.datetime.fromtimestamp(NOW, datetime.timezone.utc).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=fixed):
        auth.add_auth(request)
    return request.url


def _signature(url: str | URL) -> str:
    return URL(url, encoded=True).query["X-Amz-Signature"]


@pytest.mark.parametrize(
    "url",
    [
        "https://examplebucket.s3.amazonaws.com/test.txt",
        "https://examplebucket.s3.amazonaws.com/dir/a%20b%2Bc.txt?versionId=3",
        "http://127.0.0.1:9000/bucket/%C3%BC.bin",
    ],
)
def test_presigned_url_matches_botocore(url):
    ours = presign_url(url, credentials=CREDS, region="us-east-1", clock=lambda: NOW)
    assert _signature(ours) == _signature(_botocore_presigned(url))
    assert ours.query["X-Amz-Expires"] == "3600"
    assert ours.query["X-Amz-Credential"] == "AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request"


def test_presigned_url_carries_the_session_token():
    creds = AwsCredentials(CREDS.access_key_id, CREDS.secret_access_key, "tok/en+=")
    url = "https://examplebucket.s3.amazonaws.com/k"
    ours = presign_url(url, credentials=creds, region="us-east-1", expires=60, clock=lambda: NOW)
    assert ours.query["X-Amz-Security-Token"] == "tok/en+="
    assert _signature(ours) == _signature(_botocore_presigned(url, token="tok/en+=", expires=60))


def test_aws_documentation_example():
    # Amazon S3 API Reference, "Authenticating Requests: Using Query Parameters",
    # example: GET /test.txt from examplebucket, 24 hours, 2013-05-24T00:00:00Z.
    example = AwsCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    url = presign_url(
        "https://examplebucket.s3.amazonaws.com/test.txt",
        credentials=example,
        region="us-east-1",
        expires=86400,
        clock=lambda: 1_369_353_600.0,
    )
    assert url.query["X-Amz-Signature"] == (
        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    )


def test_google_cloud_storage_presigned_url():
    signer = SigV4Signer("auto", "storage", scheme=GOOG4)
    url = presign_url(
        "https://storage.googleapis.com/bucket/object",
        credentials=AwsCredentials("GOOG1EXAMPLE", "secret"),
        signer=signer,
        clock=lambda: NOW,
    )
    assert url.query["X-Goog-Algorithm"] == "GOOG4-HMAC-SHA256"
    assert url.query["X-Goog-Credential"] == "GOOG1EXAMPLE/20150830/auto/storage/goog4_request"


@pytest.mark.parametrize(
    ("url", "kwargs", "error", "match"),
    [
        ("/relative", {"region": "r"}, aa.ConfigurationError, "absolute"),
        ("https://h/k", {}, aa.ConfigurationError, "region"),
        ("https://h/k", {"region": "r", "expires": 0}, aa.SigningError, "604800"),
        ("https://h/k", {"region": "r", "expires": 604801}, aa.SigningError, "604800"),
    ],
)
def test_bad_presign_requests_are_refused(url, kwargs, error, match):
    with pytest.raises(error, match=match):
        presign_url(url, credentials=CREDS, **kwargs)
