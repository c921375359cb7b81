"""Sender checks, login and API sessions (protocol §1.2, §3; F03, F04, F06–F10).

A session is bound to the user, company and entity; its timeout slides forward on every call
that uses it, measured on the sandbox clock.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from . import config
from .clock import SandboxClock
from .envelope import IntacctError, Operation


@dataclass
class Session:
    sessionid: str
    userid: str
    companyid: str
    entity: str  # "" = top level
    expires_at: float


@dataclass
class AuthResult:
    ok: bool
    userid: str = ""
    companyid: str = ""
    locationid: str | None = None  # None: element omitted
    timestamp: float = 0.0
    timeout: float | None = None
    errors: list[IntacctError] = field(default_factory=list)
    http401: bool = False
    session: Session | None = None

    @property
    def entity(self) -> str:
        return self.locationid or ""


SIGNIN_INCORRECT = IntacctError("XL03000006", "", "Sign-in information is incorrect", "")


class Authenticator:
    def __init__(self, clock: SandboxClock, session_duration: int,
                 company: config.CompanySpec | None = None) -> None:
        self.company = company or config.CompanySpec(config.COMPANY_ID)
        self.clock = clock
        self.session_duration = session_duration
        self.sessions: dict[str, Session] = {}
        self.lock = threading.Lock()

    @staticmethod
    def sender_status(senderid: str, password: str) -> str:
        """'ok', 'unauthorized' (valid sender, company not granted: F09) or 'bad' (F06)."""
        if password != config.SENDER_PASSWORD:
            return "bad"
        if senderid == config.SENDER_ID:
            return "ok"
        if senderid == config.UNAUTHORIZED_SENDER_ID:
            return "unauthorized"
        return "bad"

    def create_session(self, userid: str, companyid: str, entity: str) -> Session:
        sid = secrets.token_urlsafe(24).replace("-", "x").replace("_", "Z") + ".."
        session = Session(sid, userid, companyid, entity,
                          self.clock.now() + self.session_duration)
        with self.lock:
            self.sessions[sid] = session
        return session

    def invalidate(self, sessionid: str | None = None) -> int:
        with self.lock:
            if sessionid is None:
                n = len(self.sessions)
                self.sessions.clear()
                return n
            return 1 if self.sessions.pop(sessionid, None) else 0

    def authenticate(self, op: Operation, sender: str, senderid: str) -> AuthResult:
        now = self.clock.now()
        if op.login is not None:
            return self._login(op.login, sender, senderid, now)
        with self.lock:
            session = self.sessions.get(op.sessionid or "")
            if session is not None and session.expires_at <= now:
                self.sessions.pop(session.sessionid, None)
                session = None
            if session is None:
                return AuthResult(False, "", "", None, now, None, [
                    IntacctError("XL03000006", "", "Invalid session", "")])
            session.expires_at = now + self.session_duration  # sliding timeout
        if sender == "unauthorized":
            return self._unauthorized(senderid, session.userid, session.companyid, now)
        return AuthResult(True, session.userid, session.companyid, session.entity, now,
                          session.expires_at, session=session)

    def _login(self, login: dict, sender: str, senderid: str, now: float) -> AuthResult:
        userid = login.get("userid") or ""
        company_field = login.get("companyid") or ""
        parts = company_field.split("|")
        companyid = parts[0]
        entity = login.get("locationid")
        if len(parts) > 1:
            entity = parts[-1]
        if companyid != self.company.company_id:
            return AuthResult(False, userid, company_field, http401=True)
        if sender == "unauthorized":
            return self._unauthorized(senderid, userid, company_field, now)
        if (userid != self.company.user_id
                or login.get("password") != self.company.user_password):
            return AuthResult(False, userid, company_field, None, now, None, [SIGNIN_INCORRECT])
        if entity and entity not in self.company.entity_ids:
            return AuthResult(False, userid, company_field, None, now, None, [IntacctError(
                "XL03000006", "", f"Sign-in information is incorrect: invalid location "
                f"'{entity}'", "Check the entity (location ID) you sign in to.")])
        return AuthResult(True, userid, companyid, entity if entity is not None else "", now,
                          now + self.session_duration)

    @staticmethod
    def _unauthorized(senderid: str, userid: str, companyid: str, now: float) -> AuthResult:
        return AuthResult(False, userid, companyid, None, now, None, [IntacctError(
            "XL03000006", "Invalid Web Services Authorization",
            f"The sender ID '{senderid}' is not authorized to make Web Services requests to "
            f"company ID '{companyid}'.",
            "Contact the company administrator to grant Web Services authorization to this "
            "sender ID.")])
