"""The one error module: every way an Intacct call can fail, as a type.

Over 500 lines because the classes, the table below and the rules that classify an answer
belong together: how any Intacct failure is read is answered in this one file.

Intacct answers almost everything with HTTP 200 and reports failures at three levels
(control, authentication, function result; see ``intacct-protocol.md`` §2.2), plus gateway
and CDN failures at the HTTP level (§1.1, §7). :func:`classify` turns any of them into one
class of the :class:`IntacctError` family so callers decide by class, never by matching
strings. Each error carries the Intacct error numbers, texts, the function's control id and
whether retrying the same request can help (``retryable``).

=================================  =====================================================  =========
Class                              Intacct errorno / condition                            retryable
=================================  =====================================================  =========
IntacctControlError                control-level failure (XL03000003 bad request XML, …)   no
IntacctAuthenticationError         any authentication failure (base)                      no
 IntacctSenderCredentialsError     XL03000006 "Incorrect Intacct XML Partner ID …"        no
 IntacctUserCredentialsError       XL03000006 "Sign-in information is incorrect",         no
                                   XMLGW_JPP0002 (HTTP 401), GW-0011
 IntacctSenderNotAuthorizedError   XL03000006 "Invalid Web Services Authorization"        no
IntacctSessionExpiredError         XL03000006 "Invalid session" (auth level)              yes [1]
IntacctTransientError              base of the classes tenacity retries                   yes
 IntacctRateLimitedError           HTTP 429, GW-0010, "rate limit exceeded"               yes
 IntacctTooManyOperationsError     "too many operations running" (200024), XMLGW_JPP0001  yes
 IntacctTemporarilyUnavailableError HTTP 5xx, CDN/HTML error pages, "off-line",           yes [2]
                                   "Please Try Again Later", network failures
  IntacctGatewayTimeoutError       HTTP 524 (server may still be processing)              [2]
  IntacctUnreachableError          connection refused / DNS / timeout                     yes [2]
 IntacctControlIdInProcessError    same function control id still running                 yes
IntacctResultError                 any other function-level failure (base)                no
 IntacctFieldNotFoundError         DL02000001, "Invalid fields list …"                    no
 IntacctDuplicateError             BL34000061, "A transaction with the number … exists"   no
 IntacctPaymentBatchRequiredError  "Please provide a payment batch key"                   no
 IntacctForeignCurrencyUndepositedError  BL02000051 (foreign currency, undeposited funds)  no
 IntacctInvalidReferenceError      "Invalid <dimension/account> '…' specified."           no
 IntacctInvalidFormatError         BL03000018 "Illegal format for …" (e-mail, date, …)    no
 IntacctTransactionAbortedError    XL03000009 (rolled back with the transaction)          [3]
 IntacctResultIdExpiredError       "readMore failed" (invalid or expired resultId)        no
 IntacctObjectNotFoundError        "Query Failed" / "Object definition … not found"       no
 IntacctRecordNotFoundError        DL03000005, "Cannot find … to delete"                  no
 IntacctPermissionError            "You do not have permission …"                         no
 IntacctAlreadyRecordedError       "already been recorded with the control id" [4]       no
IntacctResponseError               body is not a usable Intacct response                  yes [5]
IntacctHttpError                   other HTTP 4xx without an XML body                     no
IntacctCertificateError            the endpoint's TLS certificate failed verification     no
IntacctUnsendableError             a record's value cannot be written in XML (not sent)   no
IntacctConnectionConfigError       a connection field cannot be used (a ValueError;       no
                                   raised before any request)
=================================  =====================================================  =========

[1] The hook renews the session and replays the request once (no function ran).
[2] A request that is not safe to replay (a write without ``uniqueid=true``) gets
    ``retryable=False`` for 524 and timeouts: the server may have applied it.
[3] Retryable only when XL03000009 is the function's sole error (it was rolled back because
    of another function); a function that failed on its own carries its own error first.
[4] Only raised by :func:`classify`; the hook turns it into a successful write result.
[5] Garbled or truncated bodies are retried; a body with a DOCTYPE is refused and not retried.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

Level = Literal["http", "control", "authentication", "result"]


@dataclass(frozen=True)
class ErrorDetail:
    """One ``<error>`` element as Intacct sent it (texts may be empty)."""

    errorno: str
    description: str = ""
    description2: str = ""
    correction: str = ""

    @property
    def text(self) -> str:
        """Description texts joined, for matching and for messages."""
        return " ".join(p for p in (self.description, self.description2) if p)


class IntacctError(Exception):
    """Base of every Intacct failure.

    :param message: human sentence; defaults to the first error's texts.
    :param errors: the ``<error>`` elements, specific first (Intacct stacks them that way).
    :param level: where the failure was reported: http, control, authentication or result.
    :param control_id: the function's control id (result level) or the request's.
    :param function: the function name (``readByQuery``, ``create_invoice``, …) if known.
    :param http_status: HTTP status code of the response, if any.
    :param retryable: overrides the class default (see the module table).
    """

    retryable_default: ClassVar[bool] = False
    hint: ClassVar[str] = "See the Intacct error text."

    def __init__(
        self,
        message: str = "",
        *,
        errors: Sequence[ErrorDetail] = (),
        level: Level = "result",
        control_id: str | None = None,
        function: str | None = None,
        http_status: int | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.errors: list[ErrorDetail] = list(errors)
        self.level: Level = level
        self.control_id = control_id
        self.function = function
        self.http_status = http_status
        self.retryable = self.retryable_default if retryable is None else retryable
        self.retry_after = retry_after
        self.message = message or self._default_message()
        super().__init__(self.message)

    # -- fields callers record (reconciliation errors, logs) ---------------------------
    @property
    def errorno(self) -> str | None:
        """The first (most specific) error number."""
        return self.errors[0].errorno if self.errors else None

    @property
    def errornos(self) -> list[str]:
        return [e.errorno for e in self.errors]

    @property
    def description(self) -> str:
        return self.errors[0].description if self.errors else ""

    @property
    def description2(self) -> str:
        return self.errors[0].description2 if self.errors else ""

    @property
    def correction(self) -> str:
        return next((e.correction for e in self.errors if e.correction), "")

    def _default_message(self) -> str:
        if not self.errors:
            return type(self).__name__
        return "; ".join(
            f"{e.errorno}: {e.text}" + (f" ({e.correction})" if e.correction else "")
            for e in self.errors
        )

    def __str__(self) -> str:
        where = (f" [function {self.function} controlid {self.control_id}]"
                 if self.control_id else "")
        status = f" [HTTP {self.http_status}]" if self.http_status else ""
        return f"{self.message}{where}{status}"

    def to_dict(self) -> dict[str, object]:
        """Plain data for XCom or a reconciliation-error row (no secrets: texts are scrubbed)."""
        return {
            "error_class": type(self).__name__,
            "errornos": self.errornos,
            "description": self.description,
            "description2": self.description2,
            "correction": self.correction,
            "message": self.message,
            "hint": self.hint,
            "control_id": self.control_id,
            "function": self.function,
            "level": self.level,
            "http_status": self.http_status,
            "retryable": self.retryable,
        }

    def scrub(self, secrets: Iterable[str]) -> IntacctError:
        """Replace every known secret in the texts with ``***`` (session ids echo back)."""
        secrets = [s for s in secrets if s]
        if not secrets:
            return self

        def clean(text: str) -> str:
            for s in secrets:
                text = text.replace(s, "***")
            return text

        self.errors = [
            ErrorDetail(clean(e.errorno), clean(e.description), clean(e.description2),
                        clean(e.correction))
            for e in self.errors
        ]
        self.message = clean(self.message)
        self.args = (self.message,)
        return self


# -- control and authentication -------------------------------------------------------
class IntacctControlError(IntacctError):
    """The request was rejected before any operation ran (bad XML, expired demo, …)."""

    hint = "The request itself was rejected; this is a client bug or an account problem."


class IntacctAuthenticationError(IntacctError):
    """Credentials were refused; nothing ran. Never retried: the configuration must change."""

    hint = "Check the sender id/password, company id, user id and user password."


class IntacctSenderCredentialsError(IntacctAuthenticationError):
    hint = "The Web Services sender id or sender password is wrong."


class IntacctUserCredentialsError(IntacctAuthenticationError):
    hint = "The company id, web services user id or user password is wrong."


class IntacctSenderNotAuthorizedError(IntacctAuthenticationError):
    hint = (
        "Add the sender id under Company > Setup > Company > Security > "
        "Web Services authorizations in the Intacct company."
    )


class IntacctSessionExpiredError(IntacctError):
    """XL03000006 "Invalid session": get a new session and replay (no function ran)."""

    retryable_default = True
    hint = "The API session expired; the hook renews it and replays once."


# -- transient (tenacity retries these) -------------------------------------------------
class IntacctTransientError(IntacctError):
    """Base of failures that may succeed later; the hook's tenacity policy retries them."""

    retryable_default = True
    hint = "Transient Intacct condition: retry later."


class IntacctRateLimitedError(IntacctTransientError):
    hint = "Intacct rate limit (HTTP 429 / GW-0010): back off and retry."


class IntacctTooManyOperationsError(IntacctTransientError):
    hint = (
        "Too many operations running for this company: retry later and lower "
        "max_concurrent_requests if it persists."
    )


class IntacctTemporarilyUnavailableError(IntacctTransientError):
    hint = "Intacct is temporarily unavailable (5xx, maintenance or CDN error): retry later."


class IntacctGatewayTimeoutError(IntacctTemporarilyUnavailableError):
    """HTTP 524: the CDN gave up but Intacct may still be processing the request."""

    hint = (
        "The gateway timed out while Intacct may still be processing; only requests that "
        "are safe to replay (reads, writes with uniqueid=true) are retried."
    )


class IntacctUnreachableError(IntacctTemporarilyUnavailableError):
    hint = "The endpoint URL could not be reached: check the URL and the network."


class IntacctControlIdInProcessError(IntacctTransientError):
    hint = "A request with this function control id is still being processed: retry later."


# -- function results ------------------------------------------------------------------
class IntacctResultError(IntacctError):
    """A function failed; other functions in the same request may have succeeded."""

    hint = "The record was rejected by Intacct; see the error text."


class IntacctFieldNotFoundError(IntacctResultError):
    hint = (
        "A requested field does not exist on the object or the query is invalid "
        "(DL02000001), e.g. a removed custom field."
    )


class IntacctDuplicateError(IntacctResultError):
    hint = (
        "A record with this id or number already exists in Intacct (numbering collision): "
        "choose a unique invoice number or id in the AR platform, then retry; the sync never "
        "renames silently."
    )


class IntacctPaymentBatchRequiredError(IntacctResultError):
    hint = (
        "Intacct asks for a payment batch key (A/R uses user-specified summary posting): set "
        "the A/R payments summary frequency to Daily or Monthly in Intacct, then retry."
    )


class IntacctForeignCurrencyUndepositedError(IntacctResultError):
    hint = (
        "BL02000051: a foreign-currency payment cannot go into the undeposited-funds account: "
        "give the payment a bank account in its currency, then retry."
    )


class IntacctInvalidReferenceError(IntacctResultError):
    hint = (
        "A value the record refers to (GL account, location, department or another "
        "dimension, customer, term) does not exist in Intacct: correct it on the record (the "
        "line's intacct_* field) or in the sync configuration's defaults, then retry."
    )


class IntacctInvalidFormatError(IntacctResultError):
    hint = (
        "Intacct refused the format of a value (BL03000018 \"Illegal format for …\": an e-mail "
        "address, a date, an amount): correct it on the local record, then retry."
    )


class IntacctTransactionAbortedError(IntacctResultError):
    hint = "Rolled back with its transaction because another function failed."


class IntacctResultIdExpiredError(IntacctResultError):
    hint = "The readMore resultId expired: restart the read (query_keyset can resume)."


class IntacctObjectNotFoundError(IntacctResultError):
    hint = "The object name is wrong or the user has no permission for it."


class IntacctRecordNotFoundError(IntacctResultError):
    hint = "The referenced record does not exist (deleted or re-created with a new key)."


class IntacctPermissionError(IntacctResultError):
    hint = "The web services user lacks a permission for this object or function."


class IntacctAlreadyRecordedError(IntacctResultError):
    """uniqueid=true replay of a completed function: the write already happened."""

    hint = "Already applied earlier with this control id."


# -- transport / body ------------------------------------------------------------------
class IntacctResponseError(IntacctError):
    """The body is not a usable Intacct response (not XML, truncated, DOCTYPE, …)."""

    retryable_default = True
    hint = "Intacct returned an unreadable response."


class IntacctUnreadableResponseError(IntacctResponseError):
    """A complete response that cannot be parsed: a record holds a character XML 1.0 forbids
    (a vertical tab, U+FFFE) or a text node past the size bound (xml_response). Reading it
    again gives the same answer, so it is not retried; record streams read such a page again
    in smaller pieces, down to the one record that causes it."""

    retryable_default = False
    hint = ("A record in Intacct holds text XML cannot carry (a control character, U+FFFE, or "
            "a field of tens of megabytes): correct that field in Intacct, then retry.")


class IntacctHttpError(IntacctError):
    hint = "Unexpected HTTP status: check the endpoint URL."


class IntacctCertificateError(IntacctError):
    """The endpoint's TLS certificate failed verification (nothing was sent)."""

    hint = ("The endpoint's TLS certificate failed verification: check the endpoint URL; "
            "verification cannot be turned off.")


class IntacctUnsendableError(IntacctError):
    """One function of a write batch could not be put into XML (e.g. a control character
    XML 1.0 cannot carry): that record fails, nothing of it was sent, the others go."""

    hint = "Remove the control character from the record, then retry."


# -- configuration ----------------------------------------------------------------------
class IntacctConnectionConfigError(ValueError):
    """A field of the Airflow connection cannot be used (nothing was sent to Intacct).

    The message names the connection, the field and the fix. Retrying cannot help: a run
    refuses it in its first task instead of spending its retries.
    """


# -- classification ----------------------------------------------------------------------
_TOO_MANY = ("too many operations", "(200024)", "xmlgw_jpp0001")
_RATE = ("rate limit", "gw-0010")
_UNAVAILABLE = ("temporarily off-line", "temporarily offline", "off-line",
                "please try again later", "service unavailable")
_ALREADY = "already been recorded with the control id"
_IN_PROCESS = ("in process", "concurrent request")


def _haystack(errors: Sequence[ErrorDetail]) -> str:
    return " ".join(
        f"{e.errorno} {e.description} {e.description2} {e.correction}" for e in errors
    ).lower()


def _has(errors: Sequence[ErrorDetail], *codes: str) -> bool:
    return any(e.errorno.upper() in codes for e in errors)


def classify(
    errors: Sequence[ErrorDetail],
    *,
    level: Level,
    control_id: str | None = None,
    function: str | None = None,
    status: str | None = None,
    http_status: int | None = None,
) -> IntacctError:
    """Map the ``<error>`` list reported at ``level`` to the most specific error class."""
    text = _haystack(errors)
    kw = {"errors": errors, "level": level, "control_id": control_id, "function": function,
          "http_status": http_status}

    # Throttling and outages can appear at any level.
    if any(s in text for s in _TOO_MANY):
        return IntacctTooManyOperationsError(**kw)
    if any(s in text for s in _RATE) or http_status == 429:
        return IntacctRateLimitedError(**kw)
    if any(s in text for s in _UNAVAILABLE):
        return IntacctTemporarilyUnavailableError(**kw)

    if level in ("control", "http"):
        if _has(errors, "XMLGW_JPP0002", "GW-0011") or http_status == 401:
            return IntacctUserCredentialsError(**kw)
        if _has(errors, "XL03000006") or "partner id" in text:
            return IntacctSenderCredentialsError(**kw)
        return IntacctControlError(**kw)

    if level == "authentication":
        if "invalid session" in text:
            return IntacctSessionExpiredError(**kw)
        if "web services authorization" in text or "not authorized" in text:
            return IntacctSenderNotAuthorizedError(**kw)
        if "partner id" in text:
            return IntacctSenderCredentialsError(**kw)
        return IntacctUserCredentialsError(**kw)

    # Function result.
    if _ALREADY in text:
        return IntacctAlreadyRecordedError(**kw)
    if any(s in text for s in _IN_PROCESS) and "control id" in text:
        return IntacctControlIdInProcessError(**kw)
    own = [e for e in errors if e.errorno.upper() != "XL03000009"]
    if not own and (_has(errors, "XL03000009") or status == "aborted"):
        return IntacctTransactionAbortedError(retryable=True, **kw)
    own_text = _haystack(own)
    if _has(own, "BL34000061") or "a transaction with the number" in own_text:
        return IntacctDuplicateError(**kw)
    if "payment batch key" in own_text:
        return IntacctPaymentBatchRequiredError(**kw)
    if _has(own, "BL02000051"):
        return IntacctForeignCurrencyUndepositedError(**kw)
    if re.search(r"invalid [a-z /]+ '[^']*' specified", own_text):
        return IntacctInvalidReferenceError(**kw)
    if _has(own, "BL03000018") or "illegal format for" in own_text:
        return IntacctInvalidFormatError(**kw)
    if _has(own, "DL02000001") or any(e.errorno.lower().startswith("invalid fields list")
                                      for e in own):
        return IntacctFieldNotFoundError(**kw)
    if "readmore failed" in own_text or "expired resultid" in own_text:
        return IntacctResultIdExpiredError(**kw)
    # Permission before "Query Failed": a read the user may not do also fails that way.
    if "do not have permission" in own_text or "permission denied" in own_text:
        return IntacctPermissionError(**kw)
    if "query failed" in own_text or ("object definition" in own_text and "not found" in own_text):
        return IntacctObjectNotFoundError(**kw)
    if (_has(own, "DL03000005") or "no record exi" in own_text
            or ("cannot find" in own_text and "to delete" in own_text)):
        return IntacctRecordNotFoundError(**kw)
    if status == "aborted" or _has(errors, "XL03000009"):
        # Failed on its own inside a rolled-back transaction: not retryable as is.
        return IntacctTransactionAbortedError(retryable=False, **kw)
    return IntacctResultError(**kw)


def error_for_http_status(
    status: int, *, body_hint: str = "", replay_safe: bool = True,
    retry_after: float | None = None,
) -> IntacctError:
    """Error for an HTTP status whose body carried no Intacct errors (HTML, empty, …)."""
    detail = [ErrorDetail(f"HTTP {status}", body_hint)]
    if status == 429:
        return IntacctRateLimitedError(errors=detail, level="http", http_status=status,
                                       retry_after=retry_after)
    if status == 524:
        return IntacctGatewayTimeoutError(errors=detail, level="http", http_status=status,
                                          retryable=replay_safe)
    if status >= 500:
        return IntacctTemporarilyUnavailableError(errors=detail, level="http",
                                                  http_status=status, retry_after=retry_after)
    if status == 401:
        return IntacctUserCredentialsError(errors=detail, level="http", http_status=status)
    return IntacctHttpError(errors=detail, level="http", http_status=status)
