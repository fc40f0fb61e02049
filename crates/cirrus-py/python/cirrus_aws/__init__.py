"""cirrus for Python: the cirrus Rust core (SigV4, credentials, S3 and its sync engine, SES,
SNS, Cognito) behind a small API in the style of boto3, httpx and aioaws.

    from cirrus_aws import Config, S3Client

    s3 = S3Client(Config(region="eu-west-1"))
    s3.put("my-bucket", "hello.txt", b"hello")
    for obj in s3.list("my-bucket", prefix="logs/"):
        print(obj.key, obj.size)
    summary = s3.sync("./site", "s3://my-bucket/www/", delete=True)

Every client takes a `Config`; without one, region, profile, endpoint and credentials come from
where the AWS CLI finds them (`AWS_REGION`, `AWS_PROFILE`, `~/.aws/config`, SSO...).
"""

from __future__ import annotations

from . import errors
from ._cirrus import (
    AsyncS3Client,
    CognitoLogin,
    Config,
    Credentials,
    Object,
    ObjectInfo,
    S3Client,
    TransferEvent,
    TransferSummary,
    __version__,
)
from .errors import (
    AccessDeniedError,
    CirrusError,
    ConfigError,
    CredentialsError,
    NotFoundError,
    ParamValidationError,
    ServiceError,
    SignatureError,
    ThrottlingError,
    TransferError,
)

__all__ = [
    "AccessDeniedError",
    "AsyncS3Client",
    "CirrusError",
    "CognitoLogin",
    "Config",
    "ConfigError",
    "Credentials",
    "CredentialsError",
    "NotFoundError",
    "Object",
    "ObjectInfo",
    "ParamValidationError",
    "S3Client",
    "ServiceError",
    "SignatureError",
    "ThrottlingError",
    "TransferError",
    "TransferEvent",
    "TransferSummary",
    "__version__",
    "errors",
]

# SES, SNS and SNS webhook verification (cirrus_aws.sns.verify_webhook).
from . import sns  # noqa: E402
from ._cirrus import (  # noqa: E402
    AsyncSesClient,
    AsyncSnsClient,
    SesClient,
    SesEvent,
    SnsClient,
    SnsMessage,
    SnsVerifier,
)

__all__ += [
    "AsyncSesClient",
    "AsyncSnsClient",
    "SesClient",
    "SesEvent",
    "SnsClient",
    "SnsMessage",
    "SnsVerifier",
    "sns",
]
