"""The error tree. Every error OpenBureau raises on purpose derives from OpenBureauError.

Domain code raises these; the CLI maps them to an ``Error:`` line and exit code 1, the
service maps them to RFC 9457 problem responses. Messages must never contain personal data.
"""

from __future__ import annotations


class OpenBureauError(Exception):
    """Root of every error raised on purpose by OpenBureau."""


class ConfigError(OpenBureauError):
    """The configuration is missing, invalid or unsafe for the environment."""


class StoreError(OpenBureauError):
    """The credit-file database or the lake could not be reached or migrated."""


class NotInitialisedError(StoreError):
    """The home folder or the database has not been initialised (run ``openbureau init``)."""


class SynthError(OpenBureauError):
    """The synthetic population could not be generated as asked."""


class IngestError(OpenBureauError):
    """A furnisher batch could not be read or was refused."""


class UnknownFurnisherError(IngestError):
    """The furnisher is not registered (``openbureau furnishers add``)."""


class BadFileError(IngestError):
    """The file cannot be read as a batch: empty, wrong encoding, truncated, too large..."""


class HeaderMismatchError(BadFileError):
    """The file's columns do not match the furnishing format for its kind."""


class ForbiddenFieldError(IngestError):
    """The file carries a field that may never be collected under the jurisdiction profile."""


class BatchRefusedError(IngestError):
    """Too many records were rejected: the whole batch was refused and nothing was written.

    ``receipt`` holds the stored receipt (with the reject details).
    """

    def __init__(self, message: str, receipt: object = None) -> None:
        super().__init__(message)
        self.receipt = receipt


class BatchInProgressError(IngestError):
    """Another process is ingesting the same batch right now."""


class ScoringError(OpenBureauError):
    """A score model could not be fitted, applied, saved or loaded as asked."""


class ScoringInputError(ScoringError):
    """The data given to a score model is unusable: missing columns, a non-binary target..."""


class ArtifactError(ScoringError):
    """A model artifact is missing, corrupt, or of an unknown format or version."""


class IdentityError(OpenBureauError):
    """Identity records could not be linked, reviewed or evaluated as asked."""


class EngineUnavailableError(IdentityError):
    """The requested compute engine is not installed (the message names the extra)."""


class ReviewError(IdentityError):
    """A review decision is impossible: unknown item, already decided, or unsafe."""


class TruthError(IdentityError):
    """The ground-truth folder given to an evaluation is missing or malformed."""


class FeatureError(OpenBureauError):
    """A snapshot or a feature table could not be built, read or computed as asked."""


class SnapshotMissingError(FeatureError):
    """No snapshot (or feature table) exists for the as-of date asked for."""


class SQLExecutionError(FeatureError):
    """A compute engine refused or failed a SQL statement (the message carries the SQL)."""


class ModelRegistryError(OpenBureauError):
    """A registered score model could not be trained, found, approved or served."""


class ModelNotFoundError(ModelRegistryError):
    """No model with that id is registered."""


class ModelStateError(ModelRegistryError):
    """The model's state does not allow the action (e.g. approving a retired model)."""


class NoApprovedModelError(ModelRegistryError):
    """No model is approved: nothing serves scores until one is (``openbureau model approve``)."""


class OutcomeNotMatureError(ModelRegistryError):
    """The 12-month outcome window after the as-of date is not yet in the credit file."""


class ServiceError(OpenBureauError):
    """A request to the bureau service cannot be served (each maps to an HTTP problem)."""


class NotAuthenticatedError(ServiceError):
    """No credential, or one that is unknown, malformed or revoked."""


class NotPermittedError(ServiceError):
    """The principal's role may not use this route."""


class NotFoundError(ServiceError):
    """No such object, or it belongs to someone else (the two are not told apart)."""


class InquiryRefusedError(ServiceError):
    """A lender's inquiry was refused: no live matching consent, purpose, or a frozen file.

    ``reason`` is a stable code: ``consent_missing``, ``consent_expired``, ``consent_revoked``,
    ``consent_mismatch``, ``purpose_not_permitted`` or ``file_frozen``.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class InvalidRequestError(ServiceError):
    """The request is well-formed but its content cannot be accepted."""


class ConflictError(ServiceError):
    """The request conflicts with the object's current state."""


class PayloadTooLargeError(ServiceError):
    """The request body is above the route's size limit."""


class RateLimitedError(ServiceError):
    """The client sent more requests than its rate allows; ``retry_after`` is in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


__all__ = [
    "ArtifactError",
    "BadFileError",
    "BatchInProgressError",
    "BatchRefusedError",
    "ConfigError",
    "ConflictError",
    "EngineUnavailableError",
    "FeatureError",
    "ForbiddenFieldError",
    "HeaderMismatchError",
    "IdentityError",
    "IngestError",
    "InquiryRefusedError",
    "InvalidRequestError",
    "ModelNotFoundError",
    "ModelRegistryError",
    "ModelStateError",
    "NoApprovedModelError",
    "NotAuthenticatedError",
    "NotFoundError",
    "NotInitialisedError",
    "NotPermittedError",
    "OpenBureauError",
    "OutcomeNotMatureError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "ReviewError",
    "SQLExecutionError",
    "ScoringError",
    "ScoringInputError",
    "ServiceError",
    "SnapshotMissingError",
    "StoreError",
    "SynthError",
    "TruthError",
    "UnknownFurnisherError",
]
