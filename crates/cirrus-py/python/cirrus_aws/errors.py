"""The exceptions cirrus_aws raises.

Every one is a `CirrusError`. An AWS answer that is an error is a `ServiceError` with what the
service said (`.code`, `.message`, `.status`, `.request_id`) and where (`.service`,
`.operation`, `.attempts`), and a boto-style `.response["Error"]["Code"]`, so code written
for botocore's `ClientError` reads it unchanged. The common ones have their own classes, which
are also the built-in exceptions Python code already catches: `NotFoundError` is a
`FileNotFoundError`, `AccessDeniedError` a `PermissionError`.
"""

from __future__ import annotations

from typing import Any, Optional


class CirrusError(Exception):
    """Anything cirrus_aws raises on purpose."""

    def __init__(self, message: str, *args: Any) -> None:
        super().__init__(message, *args)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ParamValidationError(CirrusError, ValueError):
    """An argument cirrus refused before sending anything (a bad bucket name, URL or option)."""


class ConfigError(CirrusError):
    """The configuration could not be read or is wrong (no region, a broken profile file)."""


class CredentialsError(CirrusError):
    """No credentials could be found, or their source failed (SSO expired, a role refused)."""


class ServiceError(CirrusError):
    """An AWS service answered with an error, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        service: str = "",
        operation: str = "",
        status: Optional[int] = None,
        code: Optional[str] = None,
        error_message: Optional[str] = None,
        request_id: Optional[str] = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.service = service
        self.operation = operation
        self.status = status
        self.code = code
        self.error_message = error_message
        self.request_id = request_id
        self.attempts = attempts

    @property
    def response(self) -> dict[str, Any]:
        """The error as botocore's `ClientError.response` has it."""
        return {
            "Error": {"Code": self.code or "", "Message": self.error_message or ""},
            "ResponseMetadata": {
                "RequestId": self.request_id or "",
                "HTTPStatusCode": self.status,
                "RetryAttempts": max(self.attempts - 1, 0),
            },
        }


class NotFoundError(ServiceError, FileNotFoundError):
    """No such bucket, key, or local file (404, NoSuchKey, NoSuchBucket...)."""


class AccessDeniedError(ServiceError, PermissionError):
    """The credentials may not do this (403, AccessDenied), or a local file may not be read."""


class ThrottlingError(ServiceError):
    """The service slowed cirrus down and the retries ran out (SlowDown, Throttling...)."""


class SignatureError(CirrusError, ValueError):
    """A signed message whose signature does not hold (an SNS message, a certificate URL)."""

    #: For an SNS message, the check that refused it: `signature`, `cert-url`, `format`,
    #: `signature-version`, `subscribe-url`, `topic`, `age`, `cert-fetch`, `certificate`,
    #: `cert-validity`; and `.reason`, what it found.
    check: str = ""
    reason: str = ""


class TransferError(CirrusError):
    """A cp, sync, mv or rm that did not do everything: `.summary` says what it did."""

    def __init__(self, message: str, summary: Any = None) -> None:
        super().__init__(message)
        self.summary = summary


__all__ = [
    "AccessDeniedError",
    "CirrusError",
    "ConfigError",
    "CredentialsError",
    "NotFoundError",
    "ParamValidationError",
    "ServiceError",
    "SignatureError",
    "ThrottlingError",
    "TransferError",
]
