#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the hand-made seed inputs of tests/fuzz/corpus/ (seed-* files). The credentials are the
ones fuzz_http.c's fixture holds. libFuzzer adds its own finds beside these, named by SHA-1.
Run from anywhere: python3 tests/fuzz/seeds.py"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
KEY_CREDIT = "fuzz-credit-key-0000000000000001"
KEY_ADMIN = "fuzz-admin-key-00000000000000001"
KEY_TENANT = "fuzz-tenant-key-0000000000000001"
KEY_DISABLED = "fuzz-disabled-key-00000000000001"
KEY_TSK = "tsk_live_FuzzKeyFuzzKeyFuzzKey00OOzwi"
TR_NS = "http://TrackService.TrackRoad.com/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SEGMENT = b"\0NEXT\0"


def http(method, path, headers=(), body=b"", length=True):
    if isinstance(body, str):
        body = body.encode()
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1:8080"] + list(headers)
    if length and (body or method in ("POST", "PUT", "PATCH")):
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def envelope(op, sid=None, version="1.1", body=None, header=None):
    ns = SOAP11 if version == "1.1" else SOAP12
    if header is None and sid is not None:
        header = ('<SessionIDHeader xmlns="%s"><SessionID>%s</SessionID></SessionIDHeader>'
                  % (TR_NS, sid))
    hdr = "<soap:Header>%s</soap:Header>" % header if header else ""
    body = body or '<%s xmlns="%s"/>' % (op, TR_NS)
    return ('<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="%s" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema">%s<soap:Body>%s</soap:Body>'
            '</soap:Envelope>' % (ns, hdr, body))


def soap(op, version="1.1", **kw):
    if version == "1.1":
        hdrs = ["Content-Type: text/xml; charset=utf-8", 'SOAPAction: "%s%s"' % (TR_NS, op)]
    else:
        hdrs = ['Content-Type: application/soap+xml; charset=utf-8; action="%s%s"' % (TR_NS, op)]
    return http("POST", "/TrackService.asmx", hdrs, envelope(op, version=version, **kw))


def chunked(method, path, headers, body):
    head = http(method, path, list(headers) + ["Transfer-Encoding: chunked"], length=False)
    mid = len(body) // 2
    parts = [body[:mid], body[mid:]]
    out = b"".join(b"%x\r\n%s\r\n" % (len(p), p.encode()) for p in parts if p)
    return head + out + b"0\r\n\r\n"


def admin(method, path, body=None, key=KEY_ADMIN):
    hdrs = ["X-API-Key: " + key]
    if body is not None:
        hdrs.append("Content-Type: application/json")
    return http(method, "/admin/v1/" + path, hdrs, body or "")


HTTP = {
    "rest-credit-key": http("POST", "/rest/credit", ["X-API-Key: " + KEY_CREDIT]),
    "rest-credit-bearer-xml": http("POST", "/rest/credit", ["Authorization: Bearer " + KEY_TSK,
                                   "Accept: application/xml"]),
    "rest-credit-disabled": http("POST", "/rest/credit", ["X-API-Key: " + KEY_DISABLED]),
    "rest-credit-forwarded": http("POST", "/rest/credit", ["X-API-Key: " + KEY_TSK,
                                  "X-Forwarded-For: 198.51.100.7, 10.1.2.3"]),
    "rest-login": http("POST", "/rest/login", ["Content-Type: application/json"],
                       '{"UserName":"fuzz","Password":"fuzz-password"}'),
    "rest-login-bad": http("POST", "/rest/login", ["Content-Type: application/json"],
                           '{"UserName":"fuzz","Password":"nope"}'),
    "rest-logout": http("POST", "/rest/logout", ["X-API-Key: " + KEY_CREDIT]),
    "rest-me": http("GET", "/rest/me", ["X-API-Key: " + KEY_ADMIN]),
    "rest-verify-head": http("HEAD", "/rest/verify", ["X-API-Key: " + KEY_CREDIT]),
    "rest-verify": http("GET", "/rest/verify?x=1", ["Authorization: Bearer " + KEY_CREDIT]),
    "rest-options": http("OPTIONS", "/rest/credit"),
    "rest-unknown": http("GET", "/nothing/here"),
    "wsdl": http("GET", "/TrackService.asmx?WSDL"),
    "openapi": http("GET", "/openapi.json"),
    "soap-wrong-type": http("POST", "/TrackService.asmx", ["Content-Type: application/json"], "{}"),
    "soap11-credit": soap("CreditRemaining", sid=KEY_CREDIT),
    "soap12-credit": soap("CreditRemaining", version="1.2", sid=KEY_TSK),
    "soap11-credit-nosid": soap("CreditRemaining",
                                header='<SessionIDHeader xmlns="urn:other"><SessionID>x'
                                       '</SessionID></SessionIDHeader>'),
    "soap11-credit-wsa": soap("CreditRemaining", header=(
        '<a:Action soap:mustUnderstand="1" xmlns:a="http://www.w3.org/2005/08/addressing">'
        'http://TrackService.TrackRoad.com/CreditRemaining</a:Action>'
        '<SessionIDHeader xmlns="%s"><SessionID>%s</SessionID></SessionIDHeader>'
        % (TR_NS, KEY_CREDIT))),
    "soap11-login": soap("Login", body='<Login xmlns="%s"><userName>fuzz</userName>'
                                       '<password>fuzz-password</password></Login>' % TR_NS),
    "soap12-logout": soap("Logout", version="1.2", sid=KEY_CREDIT),
    "admin-accounts": admin("GET", "accounts"),
    "admin-account-create": admin("POST", "accounts",
                                  '{"name":"acme","credit":100,"monthlyAllowance":10}'),
    "admin-credit": admin("POST", "accounts/fuzz/credit", '{"add":-5}'),
    "admin-allowance": admin("POST", "accounts/other/allowance", '{"monthlyAllowance":0}',
                             key=KEY_TENANT),
    "admin-key-create": admin("POST", "accounts/fuzz/keys",
                              '{"name":"k","environment":"test","expiresAt":"2099-01-01",'
                              '"scopes":["credit:read","keys:admin"],'
                              '"ipAllow":["10.0.0.0/8","::1"],'
                              '"rateLimits":{"perMinute":5,"perDay":100}}'),
    "admin-key-import": admin("POST", "accounts/other/keys/import",
                              '{"key":"legacy-0123456789","scopes":["credit:read"]}'),
    "admin-key-get": admin("GET", "keys/1"),
    "admin-key-reactivate": admin("POST", "keys/4/reactivate", ""),
    "admin-key-import-sha256": admin("POST", "accounts/fuzz/keys/import",
                                     '{"sha256":"' + "ab" * 32 + '","name":"h",'
                                     '"expiresAt":"2099-12-31T23:59:59.5-05:30"}'),
    "admin-credit-set": admin("POST", "accounts/other/credit", '{"set":0}', key=KEY_TENANT),
    "admin-users-list": admin("GET", "accounts/fuzz/users"),
    "admin-key-rotate": admin("POST", "keys/1/rotate", '{"grace":60}'),
    "admin-key-deactivate": admin("POST", "keys/2/deactivate", ""),
    "admin-key-delete": admin("DELETE", "keys/4"),
    "admin-users": admin("POST", "accounts/fuzz/users",
                         '{"name":"u1","password":"pw","api":true}'),
    "admin-audit": admin("GET", "audit?account=fuzz&limit=5&before=100"),
    "admin-report": admin("GET", "report/migration?since=30", key=KEY_TENANT),
    "admin-patch": http("PATCH", "/admin/v1/keys/1", ["X-API-Key: " + KEY_ADMIN,
                        "Content-Type: application/json"], "{}"),
    # The framing rules server.c adds to gSOAP's.
    "framing-te-and-length": http("POST", "/rest/credit", ["X-API-Key: " + KEY_CREDIT,
                                  "Transfer-Encoding: chunked"], "0\r\n\r\n"),
    "framing-te-other": http("POST", "/rest/login", ["Transfer-Encoding: gzip, chunked"],
                             length=False) + b"0\r\n\r\n",
    "framing-control-byte": http("GET", "/rest/me", ["X-API-Key: " + KEY_CREDIT + "\x01"]),
    "framing-space-colon": http("GET", "/rest/me", ["X-API-Key : " + KEY_CREDIT]),
    "framing-many-headers": http("GET", "/rest/me", ["X-%d: %d" % (i, i) for i in range(101)]),
    "framing-cut-short": http("POST", "/admin/v1/accounts", ["X-API-Key: " + KEY_ADMIN,
                              "Content-Length: 50"], '{"name":"x"}', length=False),
    "admin-chunked": chunked("POST", "/admin/v1/accounts", ["X-API-Key: " + KEY_ADMIN,
                             "Content-Type: application/json"], '{"name":"chunky"}'),
    # One connection, three requests: fuzz_http.c's SEGMENT between them.
    "keepalive": http("POST", "/rest/credit", ["X-API-Key: " + KEY_CREDIT]) + SEGMENT
                 + soap("CreditRemaining", sid=KEY_CREDIT) + SEGMENT
                 + http("GET", "/rest/me", ["X-API-Key: " + KEY_TSK]),
    "split-login-logout": http("POST", "/rest/credit", ["X-API-Key: " + KEY_CREDIT,
                                                        "Content-Length: 5"], "ab", length=False)
                          + SEGMENT + b"cde" + SEGMENT
                          + http("POST", "/rest/login", ["Content-Type: application/json"],
                                 '{"UserName":"fuzzapi","Password":"fuzz-password"}') + SEGMENT
                          + soap("Logout", sid=KEY_DISABLED),
}

JSON = {
    "login": '{"UserName":"fuzz","Password":"fuzz-password"}',
    "key": '{"name":"k","environment":"test","expiresAt":"2099-01-01T00:00:00Z",'
           '"scopes":["credit:read"],"ipAllow":["10.0.0.0/8"],'
           '"rateLimits":{"perMinute":5,"perDay":100},"platform":false}',
    "account": '{"name":"acme","credit":-1,"monthlyAllowance":10}',
    "numbers": '{"set":9223372036854775807,"add":-9223372036854775808,"grace":1.5e3}',
    "unicode": '{"name":"\\u00e9\\ud83d\\ude00","password":"p\\u0000w"}',
    "dup": '{"a":1,"a":2}',
    "array": '[1,{"x":[true,null]}]',
    "deep": '{"a":' * 40 + '1' + '}' * 40,
}

KEYFORMAT = {
    "tsk": KEY_TSK,
    "tsk-padded": " \t%s\r\n" % KEY_TSK,
    "tsk-badsum": KEY_TSK[:-1] + "x",
    "legacy": KEY_CREDIT,
    "session": "3f2c1b2a-4d5e-4f60-8a7b-9c0d1e2f3a4b",
    "hex": "00112233445566778899aabbccddeeffFFEEDDCCBBAA99887766554433221100",
    "control": "tsk_test_\x01abc",
}

PARSERS = {
    "time-date": "2026-02-28\x00192.0.2.1\x0010.0.0.0/8",
    "time-offset": "2026-11-25T12:00:00.123+05:30\x002001:db8::1\x002001:db8::/32, ::1",
    "time-leap": "2016-12-31T23:59:60Z\x00::ffff:10.1.2.3\x00::ffff:0:0/96",
    "ips": "203.0.113.7, 10.0.0.0/8,\t2001:db8::/32\x0010.9.8.7\x00::/0",
    "scopes": "credit:read keys:admin  a.b_c-d\x00keys:admin\x00",
    "listen": "[::1]:8080\x00acme corp\x00",
    "cost": "verify=5\x00credit\x00",
    "path": "/rest/credit?x=1\x00/REST/CREDIT\x00",
    "ctype": "application/soap+xml; charset=utf-8\x00text/xml\x00",
}


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        if isinstance(data, str):
            data = data.encode("latin-1")
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)


write("http", HTTP)
write("json", JSON)
write("keyformat", KEYFORMAT)
write("parsers", PARSERS)
