"""Tiny builders for scripted gateway answers (unit tests without the sandbox)."""

from __future__ import annotations

from xml.sax.saxutils import escape

AUTH_OK = (
    "<authentication><status>success</status><userid>u</userid><companyid>C</companyid>"
    "<sessiontimestamp>2024-01-01T00:00:00+00:00</sessiontimestamp>"
    "<sessiontimeout>2024-01-01T01:00:00+00:00</sessiontimeout></authentication>"
)


def response(*results: str, auth: str = AUTH_OK) -> bytes:
    return (
        "<?xml version='1.0' encoding='UTF-8'?><response><control><status>success</status>"
        "<senderid>s</senderid><controlid>c</controlid><uniqueid>false</uniqueid>"
        f"<dtdversion>3.0</dtdversion></control><operation>{auth}{''.join(results)}"
        "</operation></response>"
    ).encode()


def session(
    session_id: str = "SESSION-ID-0001",
    endpoint: str = "https://ep.intacct.invalid/ia/xml/xmlgw.phtml",
) -> bytes:
    return response(
        "<result><status>success</status><function>getAPISession</function>"
        f"<controlid>x</controlid><data><api><sessionid>{session_id}</sessionid>"
        f"<endpoint>{endpoint}</endpoint><locationid></locationid></api></data></result>"
    )


def page(
    records: list[dict[str, str]],
    *,
    function: str = "readByQuery",
    obj: str = "customer",
    totalcount: int | None = None,
    numremaining: int = 0,
    resultid: str = "",
    controlid: str = "x",
) -> bytes:
    recs = "".join(
        f"<{obj}>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in r.items()) + f"</{obj}>"
        for r in records
    )
    total = len(records) + numremaining if totalcount is None else totalcount
    return response(
        f"<result><status>success</status><function>{function}</function>"
        f"<controlid>{controlid}</controlid><data listtype='{obj}' count='{len(records)}' "
        f"totalcount='{total}' numremaining='{numremaining}' resultId='{resultid}'>{recs}"
        "</data></result>"
    )


def failure(
    errorno: str,
    description2: str = "",
    *,
    level: str = "result",
    description: str = "",
    correction: str = "",
    controlid: str = "x",
) -> bytes:
    err = (
        f"<errormessage><error><errorno>{errorno}</errorno><description>{escape(description)}"
        f"</description><description2>{escape(description2)}</description2>"
        f"<correction>{escape(correction)}</correction></error></errormessage>"
    )
    if level == "control":
        return (
            "<response><control><status>failure</status><senderid>s</senderid>"
            f"<controlid>c</controlid></control>{err}</response>"
        ).encode()
    if level == "authentication":
        return response(
            err,
            auth="<authentication><status>failure</status><userid></userid>"
            "<companyid></companyid></authentication>",
        )
    return response(
        f"<result><status>failure</status><function>readByQuery</function>"
        f"<controlid>{controlid}</controlid>{err}</result>"
    )
