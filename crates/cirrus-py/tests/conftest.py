"""Fixtures for the cirrus_aws tests: the servers scripts/test starts (their URLs in CIRRUS_*
variables). A missing server fails the test that needs it; nothing is skipped."""

from __future__ import annotations

import itertools
import os
import uuid
from typing import Iterator

import pytest

import cirrus_aws


def need(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the tests through scripts/test, which starts the servers")
    return value


@pytest.fixture(autouse=True)
def no_ambient_aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test sees no AWS settings but its own: no profile files, keys or endpoints."""
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith(("AWS_", "COGNITO_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def s3_config() -> cirrus_aws.Config:
    """The signature-checking S3 server (s3s-fs)."""
    creds = cirrus_aws.Credentials(need("CIRRUS_S3S_ACCESS_KEY"), need("CIRRUS_S3S_SECRET_KEY"))
    return cirrus_aws.Config(region="us-east-1", endpoint_url=need("CIRRUS_S3S_URL"), credentials=creds)


@pytest.fixture
def moto_config() -> cirrus_aws.Config:
    """moto server: STS, SES, SNS, Cognito, and an S3 that keeps versions and multipart uploads."""
    creds = cirrus_aws.Credentials("AKIDMOTO", "moto-secret")
    return cirrus_aws.Config(region="us-east-1", endpoint_url=need("CIRRUS_MOTO_URL"), credentials=creds)


_buckets = itertools.count()


def new_bucket(client: cirrus_aws.S3Client) -> str:
    name = f"py-{os.getpid()}-{next(_buckets)}-{uuid.uuid4().hex[:8]}"
    client.create_bucket(name)
    return name


@pytest.fixture
def s3(s3_config: cirrus_aws.Config) -> cirrus_aws.S3Client:
    return cirrus_aws.S3Client(s3_config)


@pytest.fixture
def bucket(s3: cirrus_aws.S3Client) -> Iterator[str]:
    """A new, empty bucket on the signature-checking server."""
    yield new_bucket(s3)


@pytest.fixture
def moto_s3(moto_config: cirrus_aws.Config) -> cirrus_aws.S3Client:
    return cirrus_aws.S3Client(moto_config)


@pytest.fixture
def moto_bucket(moto_s3: cirrus_aws.S3Client) -> Iterator[str]:
    yield new_bucket(moto_s3)
