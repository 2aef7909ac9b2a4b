"""Contract checks for the integration suite.

Every response the harness receives from a tskey server it started goes through check_response
(harness.py calls it from curl() and RawConn.request()):

  REST  against wsdl/openapi.json: the path (templates such as /admin/v1/keys/{id}; literal
        segments in any case, as the server matches them) and method pick the operation; the
        status must be one it lists (or the document's x-tskey-fallback responses: 404 for a
        path it does not list, 405 with Allow for a method a path does not list, 413 anywhere);
        required headers must be there and every documented header must fit its schema; the
        Content-Type must be one the response lists; the console's text files must be UTF-8;
        a CORS preflight answered 204 under /admin/v1/ must fit x-tskey-fallback's
        corsPreflight; JSON bodies are validated with
        python3-jsonschema (Draft 2020-12, $refs resolved in the document), XML bodies
        (<CreditResult>, <Error>) are read by the schema's xml names and validated the same way;
        a response without content must have no body. An error body's requestId must be the
        X-Request-Id header, its code the X-Tskey-Code header when that is sent.
  SOAP  (POST /TrackService.asmx answered in text/xml or application/soap+xml): the envelope's
        version must fit the Content-Type; Header entries of the service's namespace and the
        Body's child are validated with lxml against the XML Schema embedded in
        wsdl/TrackService.wsdl; for a fault, the AuthFault detail element is (and its RequestId
        must be the X-Request-Id header, its RetryAfter the Retry-After header).
  WSDL  (GET /TrackService.asmx?WSDL) against the WSDL 1.1 schema and its SOAP 1.1 binding's
        (tests/contract/wsdl-1.1-with-soap.xsd).

A mismatch raises ContractError (an AssertionError) naming the method, path, status and what
did not fit, so the test that made the call fails. The documents are loaded and compiled once
per process. TSKEY_CONTRACTS=0 turns the check off (for debugging a server, never in CI).
"""
import copy
import json
import os
import re
import threading
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OPENAPI_PATH = os.path.join(ROOT, "wsdl", "openapi.json")
WSDL_PATH = os.path.join(ROOT, "wsdl", "TrackService.wsdl")
WSDL11_XSD = os.path.join(ROOT, "tests", "contract", "wsdl-1.1.xsd")
# WSDL 1.1 with its SOAP 1.1 binding schema: the soap: elements are validated too.
WSDL11_SOAP_XSD = os.path.join(ROOT, "tests", "contract", "wsdl-1.1-with-soap.xsd")

TR_NS = "http://TrackService.TrackRoad.com/"
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
ADMIN_PREFIX = "/admin/v1/"
SOAP_PATH = "/TrackService.asmx"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# What any /admin/v1/ request may get before it is routed: the key is checked first.
ADMIN_AUTH = {"401": "Unauthorized", "403": "AdminForbidden", "429": "TooManyRequests",
              "500": "InternalError", "503": "Unavailable"}

ENABLED = os.environ.get("TSKEY_CONTRACTS", "1") != "0"


class ContractError(AssertionError):
    pass


_lock = threading.Lock()
_cache = {}


def _once(name, make):
    with _lock:
        if name not in _cache:
            _cache[name] = make()
        return _cache[name]


# ---- the OpenAPI document ------------------------------------------------------------------------
class OpenApi:
    def __init__(self, path=OPENAPI_PATH):
        from jsonschema import Draft202012Validator, RefResolver
        with open(path, "rb") as f:
            self.raw = f.read()
        self.doc = json.loads(self.raw)
        self._validator_cls = Draft202012Validator
        self._resolver = RefResolver(base_uri="", referrer=self.doc)
        self._validators = {}
        self.routes = []
        for template, item in self.doc["paths"].items():
            self.routes.append((template.split("/")[1:], template, item))
        # More literal segments first, so that a literal beats a template where both fit.
        self.routes.sort(key=lambda r: -sum(1 for s in r[0] if not s.startswith("{")))
        self.fallback = self.doc.get("x-tskey-fallback", {})

    def deref(self, node):
        """Follow local $refs ("#/components/...") to the node they name."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ContractError("openapi.json: only local $refs are supported: %r" % ref)
            node = self.doc
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            seen += 1
            if seen > 32:
                raise ContractError("openapi.json: $ref loop at %r" % ref)
        return node

    def match(self, path):
        """(template, path item) for a request path, or (None, None)."""
        segs = path.split("/")[1:]
        for psegs, template, item in self.routes:
            if len(psegs) == len(segs) and all(
                    (p.startswith("{") and s != "") or p.lower() == s.lower()
                    for p, s in zip(psegs, segs)):
                return template, item
        return None, None

    def errors(self, schema, instance):
        """Messages of every way instance fails schema (a fragment of this document)."""
        key = id(schema)
        v = self._validators.get(key)
        if v is None:
            v = self._validator_cls(schema, resolver=self._resolver)
            self._validators[key] = (v, schema)     # keep schema alive: its id stays unique
        else:
            v = v[0]
        out = []
        for e in sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in e.absolute_path) or "(root)"
            out.append("at %s: %s" % (where, e.message))
        return out


def openapi():
    return _once("openapi", OpenApi)


# ---- the WSDL's XML Schema, and WSDL 1.1's -----------------------------------------------------------
def wsdl_schema(path=WSDL_PATH):
    """The <s:schema> inside the WSDL's <wsdl:types>, compiled (lxml.etree.XMLSchema)."""
    def make():
        from lxml import etree
        defs = etree.parse(path).getroot()
        found = defs.findall("{%s}types/{%s}schema" % (WSDL_NS, XSD_NS))
        if len(found) != 1:
            raise ContractError("%s: want one <s:schema> in <wsdl:types>, found %d"
                                % (path, len(found)))
        src = found[0]
        # QNames in attribute values (type="tns:CreditResult") need the prefixes that the
        # WSDL declares on <wsdl:definitions>: carry them onto a standalone schema document.
        nsmap = dict(defs.nsmap)
        nsmap.update(src.nsmap)
        root = etree.Element(src.tag, attrib=dict(src.attrib), nsmap=nsmap)
        for child in src:
            root.append(copy.deepcopy(child))
        return etree.XMLSchema(etree.ElementTree(root))
    return _once(("wsdl-schema", path), make)


def wsdl11_schema(path=WSDL11_SOAP_XSD):
    """WSDL 1.1's schema (by default with the SOAP 1.1 binding's), compiled."""
    def make():
        from lxml import etree
        return etree.XMLSchema(etree.parse(path))
    return _once(("wsdl11", path), make)


# ---- checks --------------------------------------------------------------------------------------
def _media(ctype):
    return (ctype or "").split(";")[0].strip().lower()


def _header_value(schema, value):
    """A header's text as the JSON value its schema expects (integers as numbers)."""
    t = schema.get("type")
    if t == "integer" and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    return value


def _shape(api, schema):
    """The part of schema that says what the value looks like: itself, or the first allOf
    member with a type (the others only narrow it)."""
    schema = api.deref(schema)
    for s in schema.get("allOf", ()):
        s = api.deref(s)
        if "type" in s:
            return s
    return schema


def _xml_value(api, el, schema, problems, where):
    """Read element el as the JSON value that schema describes (OpenAPI's xml object)."""
    schema = api.deref(schema)
    schema = _shape(api, schema)
    t = schema.get("type")
    local = lambda e: e.tag.split("}")[-1] if isinstance(e.tag, str) else None
    kids = [c for c in el if isinstance(c.tag, str)]
    if t == "object":
        out = {}
        if (el.text or "").strip():
            problems.append("%s: text %r where elements belong" % (where, el.text.strip()))
        for c in kids:
            name = local(c)
            if name in out:
                problems.append("%s: <%s> twice" % (where, name))
            sub = schema.get("properties", {}).get(name, {})
            out[name] = _xml_value(api, c, sub, problems, "%s/%s" % (where, name))
        return out
    if t == "array":
        items = schema.get("items", {})
        want = _shape(api, items).get("xml", {}).get("name")
        out = []
        for c in kids:
            if want and local(c) != want:
                problems.append("%s: <%s> where <%s> items belong" % (where, local(c), want))
            out.append(_xml_value(api, c, items, problems, "%s/%s" % (where, local(c))))
        if (el.text or "").strip():
            problems.append("%s: text %r in a list" % (where, el.text.strip()))
        return out
    if kids:
        problems.append("%s: elements where a value belongs" % where)
    text = el.text or ""
    if t == "integer" and re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    return text


def _check_headers(api, resp_spec, headers, problems):
    for name, h in (resp_spec.get("headers") or {}).items():
        h = api.deref(h)
        val = headers.get(name.lower())
        if val is None:
            if h.get("required"):
                problems.append("header %s is required" % name)
            continue
        schema = h.get("schema", {})
        for e in api.errors(schema, _header_value(api.deref(schema), val)):
            problems.append("header %s: %r: %s" % (name, val, e))


def _check_rest_body(api, method, resp_spec, headers, body, problems, soap_ok):
    content = resp_spec.get("content")
    if not content:
        if body:
            problems.append("the contract gives this response no content, but %d bytes came%s"
                            % (len(body), " (a HEAD response must have none)"
                               if method == "HEAD" else ""))
        return
    media = _media(headers.get("content-type"))
    if method == "HEAD":
        if body:
            problems.append("a HEAD response must have no content; %d bytes came" % len(body))
        return
    if media not in content:
        problems.append("Content-Type %r is not one of %s" % (headers.get("content-type"),
                                                            sorted(content)))
        return
    schema = content[media].get("schema", {})
    reqid = headers.get("x-request-id")
    if media == "application/json":
        try:
            value = json.loads(body.decode("utf-8"))
        except ValueError as e:
            problems.append("the body is not JSON (%s): %r" % (e, body[:200]))
            return
        problems.extend("body " + e for e in api.errors(schema, value))
        if isinstance(value, dict) and "requestId" in value and value["requestId"] != reqid:
            problems.append("body requestId %r is not X-Request-Id %r"
                            % (value["requestId"], reqid))
        if isinstance(value, dict) and "x-tskey-code" in headers and \
                value.get("code") != headers["x-tskey-code"]:
            problems.append("body code %r is not X-Tskey-Code %r"
                            % (value.get("code"), headers["x-tskey-code"]))
    elif media == "application/xml":
        from lxml import etree
        try:
            root = etree.fromstring(body)
        except etree.XMLSyntaxError as e:
            problems.append("the body is not XML (%s): %r" % (e, body[:200]))
            return
        want = _shape(api, schema).get("xml", {}).get("name")
        if want and root.tag != want:
            problems.append("XML root <%s>, want <%s>" % (root.tag, want))
        local = []
        value = _xml_value(api, root, schema, local, "/" + str(root.tag))
        problems.extend(local)
        problems.extend("XML body " + e for e in api.errors(schema, value))
        if isinstance(value, dict) and "RequestId" in value and value["RequestId"] != reqid:
            problems.append("XML RequestId %r is not X-Request-Id %r"
                            % (value["RequestId"], reqid))
        if isinstance(value, dict) and "x-tskey-code" in headers and \
                value.get("Code") != headers["x-tskey-code"]:
            problems.append("XML Code %r is not X-Tskey-Code %r"
                            % (value.get("Code"), headers["x-tskey-code"]))
    elif media in ("text/xml", "application/soap+xml") and soap_ok is not None:
        soap_ok(media)
    elif media in ("text/plain", "text/html", "text/css", "text/javascript"):
        # The console's files and /metrics: UTF-8 text, as the schema (a string) says.
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append("the %s body is not UTF-8: %s" % (media, e))
            return
        problems.extend("body " + e for e in api.errors(schema, text))
    else:
        problems.append("no check for %s content" % media)


def _check_wsdl(body, problems):
    from lxml import etree
    try:
        doc = etree.fromstring(body)
    except etree.XMLSyntaxError as e:
        problems.append("the WSDL is not XML: %s" % e)
        return
    schema = wsdl11_schema()
    if not schema.validate(etree.ElementTree(doc)):
        problems.extend("WSDL 1.1 schema: line %d: %s" % (e.line, e.message)
                        for e in schema.error_log)


def _check_soap(media, headers, body, problems):
    """A SOAP response: envelope version, Header entries and the Body's child (or the fault's
    AuthFault detail) against the WSDL's schema."""
    from lxml import etree
    try:
        env = etree.fromstring(body)
    except etree.XMLSyntaxError as e:
        problems.append("SOAP: the body is not XML (%s): %r" % (e, body[:200]))
        return
    want_ns = SOAP11_NS if media == "text/xml" else SOAP12_NS
    if env.tag != "{%s}Envelope" % want_ns:
        problems.append("SOAP: root %s, want {%s}Envelope for %s" % (env.tag, want_ns, media))
        return
    schema = wsdl_schema()

    def validate(el, what):
        if not schema.validate(etree.ElementTree(copy.deepcopy(el))):
            problems.extend("SOAP %s: WSDL schema: %s" % (what, e.message)
                            for e in schema.error_log)

    parts = [c for c in env if isinstance(c.tag, str)]
    names = [c.tag for c in parts]
    if names not in (["{%s}Body" % want_ns], ["{%s}Header" % want_ns, "{%s}Body" % want_ns]):
        problems.append("SOAP: envelope children %s, want [Header,] Body" % names)
        return
    if len(parts) == 2:
        for h in parts[0]:
            if isinstance(h.tag, str) and h.tag.startswith("{%s}" % TR_NS):
                validate(h, "Header/" + h.tag.split("}")[1])
    kids = [c for c in parts[-1] if isinstance(c.tag, str)]
    if len(kids) != 1:
        problems.append("SOAP: the Body holds %d elements, want 1" % len(kids))
        return
    child = kids[0]
    if child.tag == "{%s}Fault" % want_ns:
        if want_ns == SOAP11_NS:
            need = ["faultcode", "faultstring"]
            detail = child.find("detail")
        else:
            need = ["{%s}Code" % want_ns, "{%s}Reason" % want_ns]
            detail = child.find("{%s}Detail" % want_ns)
        for n in need:
            if child.find(n) is None:
                problems.append("SOAP: the Fault has no %s" % n)
        if detail is None:
            return
        for af in detail:
            if not isinstance(af.tag, str) or not af.tag.startswith("{%s}" % TR_NS):
                continue
            if af.tag != "{%s}AuthFault" % TR_NS:
                problems.append("SOAP: fault detail %s, want AuthFault" % af.tag)
                continue
            validate(af, "Fault detail AuthFault")
            rid = af.findtext("{%s}RequestId" % TR_NS)
            if rid != headers.get("x-request-id"):
                problems.append("SOAP: AuthFault RequestId %r is not X-Request-Id %r"
                                % (rid, headers.get("x-request-id")))
            retry = af.findtext("{%s}RetryAfter" % TR_NS)
            if retry is not None and retry != headers.get("retry-after"):
                problems.append("SOAP: AuthFault RetryAfter %r is not Retry-After %r"
                                % (retry, headers.get("retry-after")))
            code = af.findtext("{%s}Code" % TR_NS)
            if code == "RATE_LIMITED" and retry is None:
                problems.append("SOAP: a RATE_LIMITED AuthFault without RetryAfter")
        return
    if not child.tag.startswith("{%s}" % TR_NS):
        problems.append("SOAP: Body child %s is not of the service's namespace" % child.tag)
        return
    if child.tag.split("}")[1] not in ("LoginResponse", "LogoutResponse",
                                        "CreditRemainingResponse"):
        problems.append("SOAP: Body child %s is not an operation's output" % child.tag)
    validate(child, "Body/" + child.tag.split("}")[1])


def check(method, url, status, headers, body):
    """Problems (a list of strings) with one response; [] when it fits the contracts."""
    api = openapi()
    method = method.upper()
    parts = urlsplit(url)
    path = parts.path or "/"
    problems = []
    template, item = api.match(path)
    spec = None
    allowed = None
    if item is not None:
        allowed = sorted(m.upper() for m in item if m in METHODS)
        operation = item.get(method.lower())
        if operation is not None:
            spec = operation["responses"].get(str(status))
    under_admin = path.lower().startswith(ADMIN_PREFIX)
    if spec is None:
        # Outside the operations: the fallbacks the document names, and the admin API's
        # refusals of the key, which come before its routing.
        fb = None
        if status == 413:
            fb = api.fallback.get("bodyTooLarge")
        elif status == 404 and (item is None or template is None):
            fb = api.fallback.get("unknownPath")
        elif status == 405 and item is not None and method.lower() not in item:
            fb = api.fallback.get("unlistedMethod")
        elif under_admin and method == "OPTIONS" and status == 204 and (
                item is None or "options" not in item):
            fb = api.fallback.get("corsPreflight")
        elif under_admin and str(status) in ADMIN_AUTH and (
                item is None or method.lower() not in item):
            fb = {"$ref": "#/components/responses/" + ADMIN_AUTH[str(status)]}
        if fb is None:
            if item is None:
                return ["%s is in no path of the contract and the status is %d, not 404"
                        % (path, status)]
            if method.lower() not in item:
                return ["%s answers %s (documented: %s) with %d, not 405"
                        % (template, method, ", ".join(allowed), status)]
            return ["status %d is not a documented response of %s %s (documented: %s)"
                    % (status, method, template,
                       ", ".join(sorted(item[method.lower()]["responses"])))]
        spec = fb
        if status == 405:
            got = sorted(m.strip() for m in headers.get("allow", "").split(",") if m.strip())
            if got != allowed:
                problems.append("Allow %r, want the documented methods %s"
                                % (headers.get("allow"), ", ".join(allowed)))
    spec = api.deref(spec)
    _check_headers(api, spec, headers, problems)

    def soap(media):
        if method == "POST" and template == SOAP_PATH:
            _check_soap(media, headers, body, problems)
        elif method == "GET" and template == SOAP_PATH and status == 200:
            _check_wsdl(body, problems)
        else:
            problems.append("no check for %s on %s %s" % (media, method, template))

    _check_rest_body(api, method, spec, headers, body, problems, soap)
    return problems


def check_response(method, url, status, headers, body):
    """Raise ContractError when the response does not fit the contracts."""
    if not ENABLED or status == 0:
        return
    problems = check(method, url, status, headers, body)
    if problems:
        path = urlsplit(url).path
        query = urlsplit(url).query
        raise ContractError(
            "contract: %s %s%s -> %d: %s\n  body: %r" % (
                method.upper(), path, "?" + query if query else "", status,
                "\n  ".join(problems), body[:400]))
