"""The gateway: one XML request in, one HTTP answer out (protocol §1–§3, §7).

Order of checks, as Intacct does it: pre-processing faults → concurrency limit → XML parse
(XL03000003) → sender (XL03000006, control level) → per operation: authentication (F07–F09,
HTTP 401 for an unknown company) → functions in request order, with ``uniqueid`` and
``transaction`` semantics.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .envelope import (
    ControlEcho,
    ControlFailure,
    IntacctError,
    Operation,
    Request,
    XmlOut,
    _sniff,
    control_failure_xml,
    echo_of,
    gateway_error_xml,
    parse_request,
    write_control,
    write_errors,
)
from .faults import CLOUDFLARE_PAGE, PRE_PROCESSING
from .function_context import FunctionContext, Result
from .reads import READ_FUNCTIONS
from .sessions import AuthResult
from .write_log import WriteEntry, element_to_data
from .writes import WRITE_FUNCTIONS

if TYPE_CHECKING:
    from .sandbox import Sandbox

XML_TYPE = 'text/xml; encoding="UTF-8"'
ROLLED_BACK = IntacctError("XL03000009", "", "The entire transaction in this operation has "
                           "been rolled back due to an error.", "")
TOO_MANY = IntacctError("XMLGW_JPP0001", "", "There are too many operations running for this "
                        "company (200024).", "Please Try Again Later")
OFFLINE = IntacctError("Service Off-line", "", "The Service is Temporarily Off-line",
                       "Please Try Again Later")


@dataclass
class HttpAnswer:
    status: int
    content_type: str
    body: bytes


class Gateway:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        self._inflight = 0
        self._cond = threading.Condition()
        self._unique_done: set[tuple[str, str]] = set()
        self._unique_lock = threading.Lock()

    # ------------------------------------------------------------------ entry point
    def handle(self, body: bytes) -> HttpAnswer:
        call_no, fired = self.sb.faults.draw()
        delay = self.sb.faults.latency_seconds()
        for name in fired:
            if name in PRE_PROCESSING:
                if delay:
                    time.sleep(delay)
                return self._fault_answer(name, body)
        if not self._enter():
            return HttpAnswer(200, XML_TYPE, control_failure_xml([TOO_MANY], _sniff(body))
                              .encode())
        try:
            if delay:
                time.sleep(delay)
            self.sb.tick()
            text, status = self._process(body, "invalid_session" in fired)
        finally:
            self._leave()
        if "drop_response" in fired:  # a client timeout: committed, never answered
            return HttpAnswer(0, "", b"")
        if "http_524" in fired:
            return HttpAnswer(524, "text/html", CLOUDFLARE_PAGE.format(
                title="A timeout occurred", code=524).encode())
        data = text.encode("utf-8")
        if "truncated_xml" in fired:
            data = data[: max(40, len(data) * 3 // 5)]
        return HttpAnswer(status, XML_TYPE, data)

    def _fault_answer(self, name: str, body: bytes) -> HttpAnswer:
        if name == "http_401":
            return HttpAnswer(401, XML_TYPE, gateway_error_xml(
                "XMLGW_JPP0002", "Sign-in information is incorrect. Please check your request.")
                .encode())
        if name == "http_400":
            return HttpAnswer(400, XML_TYPE, gateway_error_xml(
                "GW-0011", "Invalid Request [Request ID: AC47C2BE:D9EE_63EBC07F.59]").encode())
        if name == "http_429":
            return HttpAnswer(429, XML_TYPE, gateway_error_xml(
                "GW-0010", "Too many requests. API rate limit exceeded. Please retry later.")
                .encode())
        if name in ("http_502", "http_503"):
            code = int(name[-3:])
            title = "Bad gateway" if code == 502 else "Service Temporarily Unavailable"
            return HttpAnswer(code, "text/html", CLOUDFLARE_PAGE.format(title=title, code=code)
                              .encode())
        if name == "html_error":
            return HttpAnswer(200, "text/html; charset=UTF-8", CLOUDFLARE_PAGE.format(
                title="Web server is returning an unknown error", code=520).encode())
        error = OFFLINE if name == "offline" else TOO_MANY
        return HttpAnswer(200, XML_TYPE, control_failure_xml([error], _sniff(body)).encode())

    # ------------------------------------------------------------------ concurrency
    def _enter(self) -> bool:
        """At most ``max_concurrent`` requests run; the next waits briefly, then is refused."""
        deadline = time.monotonic() + self.sb.options.concurrency_wait_seconds
        with self._cond:
            while self._inflight >= self.sb.options.max_concurrent:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            self._inflight += 1
            return True

    def _leave(self) -> None:
        with self._cond:
            self._inflight -= 1
            self._cond.notify()

    # ------------------------------------------------------------------ processing
    def _process(self, body: bytes, invalidate_session: bool) -> tuple[str, int]:
        try:
            request = parse_request(body)
        except ControlFailure as exc:
            return control_failure_xml(exc.errors, _sniff(body)), 200
        echo = echo_of(request)
        sender = self.sb.authenticator.sender_status(request.senderid, request.password)
        if sender == "bad":
            return control_failure_xml([IntacctError(
                "XL03000006", "", "Incorrect Intacct XML Partner ID or password.", "")], echo), 200
        out = XmlOut(request.includewhitespace)
        out.open("response")
        write_control(out, "success", echo)
        for op in request.operations:
            if op.sessionid and (invalidate_session
                                 or self.sb.faults.session_should_expire()):
                self.sb.authenticator.invalidate(op.sessionid)
            auth = self.sb.authenticator.authenticate(op, sender, request.senderid)
            if auth.http401:
                return gateway_error_xml("XMLGW_JPP0002", "Sign-in information is incorrect. "
                                         "Please check your request."), 401
            self._operation(out, request, op, auth, echo)
        out.close("response")
        return out.text(), 200

    def _write_auth(self, out: XmlOut, auth: AuthResult) -> None:
        tz = self.sb.tz
        out.open("authentication")
        out.leaf("status", "success" if auth.ok else "failure")
        out.leaf("userid", auth.userid)
        out.leaf("companyid", auth.companyid)
        if auth.ok:
            out.leaf("locationid", auth.locationid or "")
            out.leaf("sessiontimestamp", tz.iso_with_offset(int(auth.timestamp)))
            if auth.timeout is not None:
                out.leaf("sessiontimeout", tz.iso_with_offset(int(auth.timeout)))
        out.close("authentication")

    def _operation(self, out: XmlOut, request: Request, op: Operation, auth: AuthResult,
                   echo: ControlEcho) -> None:
        out.open("operation")
        self._write_auth(out, auth)
        if not auth.ok:
            write_errors(out, auth.errors)
            out.close("operation")
            return
        ctx = FunctionContext(
            store=self.sb.store, tz=self.sb.tz, clock=self.sb.clock, options=self.sb.options,
            auth=auth, authenticator=self.sb.authenticator, result_sets=self.sb.result_sets,
            write_log=self.sb.write_log, pretty=request.includewhitespace,
            endpoint_url=self.sb.gateway_url, request_controlid=request.controlid,
            owner=f"{auth.userid}|{auth.entity}",
            denied_objects=self.sb.faults.denied_objects)
        results = self._run_functions(ctx, request, op)
        for result in results:
            self._write_result(out, result)
        out.close("operation")

    def _run_functions(self, ctx: FunctionContext, request: Request,
                       op: Operation) -> list[Result]:
        store = self.sb.store
        with store.lock:
            saved = store.savepoint() if op.transaction else None
            results: list[Result] = []
            log_entries: list[WriteEntry] = []
            failed = False
            for call in op.functions:
                if op.transaction and failed:
                    skipped = Result("aborted", call.name, call.controlid, errors=[ROLLED_BACK])
                    self._log_write(ctx, request, op, call, skipped)
                    results.append(skipped)
                    continue
                result = self._run_one(ctx, request, call)
                entry = self._log_write(ctx, request, op, call, result)
                if entry is not None:
                    log_entries.append(entry)
                results.append(result)
                if result.status == "failure":
                    failed = True
            if op.transaction and failed and saved is not None:
                store.restore(saved)
                for i, result in enumerate(results):
                    if result.status == "success":
                        results[i] = Result("aborted", result.function, result.controlid,
                                            errors=[ROLLED_BACK])
                    elif result.status == "failure":
                        result.errors.append(ROLLED_BACK)
                        result.data = None
                for entry in log_entries:
                    if entry.outcome == "success":
                        entry.outcome = "rolled_back"
            elif request.unique:
                with self._unique_lock:
                    for call, result in zip(op.functions, results, strict=True):
                        if result.status == "success":
                            self._unique_done.add((request.senderid, call.controlid))
        return results

    def _run_one(self, ctx: FunctionContext, request: Request, call) -> Result:  # noqa: ANN001
        if request.unique:
            with self._unique_lock:
                seen = (request.senderid, call.controlid) in self._unique_done
            if seen:
                return Result.failure(call.name, call.controlid, IntacctError(
                    "BL01001973", "", "A successful transaction has already been recorded "
                    f"with the control id {call.controlid}", ""))
        handler = READ_FUNCTIONS.get(call.name) or WRITE_FUNCTIONS.get(call.name)
        if call.name == "getAPISession":
            return self._get_api_session(ctx, call)
        if handler is None:
            return Result.failure(call.name, call.controlid, IntacctError(
                "XL03000003", "", f"XML Parse schema error: Element '{call.name}': This element "
                "is not expected.", ""))
        try:
            return handler(ctx, call.element, call.controlid)
        except Exception as exc:  # a sandbox bug must still answer like Intacct does
            self.sb.log(f"function {call.name} crashed: {exc!r}")
            return Result.failure(call.name, call.controlid, IntacctError(
                "PL01000001", "", "An unexpected error occurred. [Support ID: sandbox]", ""))

    def _get_api_session(self, ctx: FunctionContext, call) -> Result:  # noqa: ANN001
        loc_el = call.element.find("locationid")
        entity = ctx.auth.entity if loc_el is None else (loc_el.text or "").strip()
        if entity and entity not in self.sb.entity_ids:
            return Result.failure("getAPISession", call.controlid, IntacctError(
                "Get API Session Failed", "", f"Invalid location ID '{entity}'", ""))
        session = self.sb.authenticator.create_session(ctx.auth.userid, ctx.auth.companyid,
                                                       entity)
        nl = (lambda d: "\n" + "    " * d) if ctx.pretty else (lambda d: "")
        data = (f"{nl(3)}<data>{nl(4)}<api>{nl(5)}<sessionid>{session.sessionid}</sessionid>"
                f"{nl(5)}<endpoint>{self.sb.gateway_url}</endpoint>"
                f"{nl(5)}<locationid>{entity}</locationid>{nl(4)}</api>{nl(3)}</data>")
        return Result("success", "getAPISession", call.controlid, data=data)

    def _log_write(self, ctx: FunctionContext, request: Request, op: Operation, call,  # noqa: ANN001
                   result: Result) -> WriteEntry | None:
        if call.name not in WRITE_FUNCTIONS:
            return None
        payload = element_to_data(call.element)
        obj = None
        if call.name in ("create", "update"):
            obj = ",".join(c.tag for c in call.element if isinstance(c.tag, str))
        elif call.name == "delete":
            obj = call.element.findtext("object")
        keys = [result.key] if result.key else []
        if result.data and "<RECORDNO>" in result.data:
            keys += [part.split("</RECORDNO>")[0] for part in result.data.split("<RECORDNO>")[1:]]
        outcome = result.status
        if result.errors and "already been recorded" in result.errors[0].description2:
            outcome = "refused_duplicate"
        return ctx.write_log.add(WriteEntry(
            0, self.sb.tz.iso_with_offset(ctx.now()), request.controlid, call.controlid,
            call.name, obj, payload, outcome, keys,
            [e.__dict__.copy() for e in result.errors], ctx.entity, op.transaction))

    def _write_result(self, out: XmlOut, result: Result) -> None:
        out.open("result")
        out.leaf("status", result.status)
        out.leaf("function", result.function)
        out.leaf("controlid", result.controlid)
        if result.key is not None:
            out.leaf("key", result.key)
        if result.data is not None:
            out.raw(result.data)
        if result.errors:
            write_errors(out, result.errors)
        out.close("result")
