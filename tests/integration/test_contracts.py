"""The contracts: wsdl/openapi.json (OpenAPI 3.1, linted with Redocly CLI from npm, served at
/openapi.json, covering every route the server has) and wsdl/TrackService.wsdl (valid WSDL 1.1 by
xmllint, its embedded XML Schema compiling, served at ?WSDL); and the harness's contract hook
(contracts.py), which checks every response of the suite against both, has teeth."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import contracts
import harness
from harness import TR_NS, Server, make_temp_dir

ROOT = contracts.ROOT
CONTRACT_DIR = os.path.join(ROOT, "tests", "contract")
SRC = os.path.join(ROOT, "src")
NPM_TIMEOUT = 75           # seconds for `npm ci` (one package; run.py allows a test 90)
LINT_TIMEOUT = 60
XMLLINT = shutil.which("xmllint") or "/usr/bin/xmllint"
ANY_METHOD = ("get", "post", "put", "patch", "delete", "options", "head")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def xmllint(schema, doc):
    return subprocess.run([XMLLINT, "--noout", "--schema", schema, doc], capture_output=True,
                          text=True, timeout=30)


# ---- what the source routes: the contract must list exactly these -------------------------------
def source_routes():
    """{(path, method)} from the route tables in src/rest.c and src/rest_admin.c."""
    rest = read(os.path.join(SRC, "rest.c")).decode()
    admin = read(os.path.join(SRC, "rest_admin.c")).decode()
    soap_path = re.search(r'#define\s+REST_SOAP_PATH\s+"([^"]+)"',
                          read(os.path.join(SRC, "rest.h")).decode()).group(1)
    prefix = re.search(r'#define\s+REST_ADMIN_PREFIX\s+"([^"]+)"',
                       read(os.path.join(SRC, "rest.h")).decode()).group(1)
    table = rest[rest.index("} routes[] = {"):]
    table = table[:table.index("};")]
    out = set()
    for path, method in re.findall(r'\{\s*("[^"]+"|REST_SOAP_PATH),\s*(SOAP_\w+|0),', table):
        path = soap_path if path == "REST_SOAP_PATH" else path.strip('"')
        methods = ANY_METHOD if method == "0" else (method[5:].lower().replace("del", "delete"),)
        out.update((path, m) for m in methods)
    out.add((soap_path, "post"))        # the SOAP dispatcher (server.c)
    table = admin[admin.index("} admin_routes[] = {"):]
    table = table[:table.index("};")]
    for path, method in re.findall(r'REST_ADMIN_PREFIX\s+"([^"]+)",\s*(SOAP_\w+),', table):
        out.add((prefix + path, method[5:].lower().replace("del", "delete")))
    return out


def source_codes():
    """The refusal codes the server can put in a reply."""
    codes = set()
    for name in os.listdir(SRC):
        if not name.endswith(".c"):
            continue
        text = read(os.path.join(SRC, name)).decode()
        codes.update(re.findall(r'(?:reply_error|reject)\([^;]*?\d{3},\s*"([A-Z_]+)"', text,
                                re.S))
        codes.update(re.findall(r'\[TSK_VERDICT_\w+\]\s*=\s*\{\s*"([A-Z_]+)"', text))
        codes.update(re.findall(r'->code\s*=\s*"([A-Z_]+)"', text))
        codes.update(re.findall(r'\\"code\\":\\"([A-Z_]+)\\"', text))
        if name == "login.c":
            body = text[text.index("login_code("):]
            body = body[:body.index("\n}\n")]
            codes.update(re.findall(r'return\s+"([A-Z_]+)"', body))
    codes.discard("OK")                 # the verdict table's success row: never a refusal
    return codes


class ContractDocumentsTest(unittest.TestCase):
    """The two documents themselves, without a server."""

    @classmethod
    def setUpClass(cls):
        cls.api = contracts.openapi()

    # ---- OpenAPI ----------------------------------------------------------------------------
    def test_openapi_lints_with_redocly(self):
        """npm ci (the lockfile's @redocly/cli), then `redocly lint` with recommended-strict."""
        npm = shutil.which("npm")
        self.assertIsNotNone(npm, "npm is needed (Debian: nodejs npm)")
        env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true",
                   NO_UPDATE_NOTIFIER="1", npm_config_fund="false", npm_config_audit="false")
        cp = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                            cwd=CONTRACT_DIR, capture_output=True, text=True,
                            timeout=NPM_TIMEOUT, env=env)
        self.assertEqual(cp.returncode, 0, "npm ci failed:\n%s\n%s" % (cp.stdout, cp.stderr))
        redocly = os.path.join(CONTRACT_DIR, "node_modules", ".bin", "redocly")
        cp = subprocess.run([redocly, "--version"], cwd=CONTRACT_DIR, capture_output=True,
                            text=True, timeout=LINT_TIMEOUT, env=env)
        lock = json.loads(read(os.path.join(CONTRACT_DIR, "package-lock.json")))
        want = lock["packages"]["node_modules/@redocly/cli"]["version"]
        self.assertEqual(cp.stdout.strip(), want, cp.stderr)
        cp = subprocess.run([redocly, "lint", "--config", "redocly.yaml",
                             "--format", "stylish", "../../wsdl/openapi.json"],
                            cwd=CONTRACT_DIR, capture_output=True, text=True,
                            timeout=LINT_TIMEOUT, env=env)
        self.assertEqual(cp.returncode, 0, "redocly lint:\n%s\n%s" % (cp.stdout, cp.stderr))
        self.assertNotRegex(cp.stdout + cp.stderr, r"(?i)\b[1-9][0-9]* (error|warning)s?\b")

    def test_openapi_is_3_1_with_2020_12_schemas(self):
        from jsonschema import Draft202012Validator
        doc = self.api.doc
        self.assertEqual(doc["openapi"], "3.1.0")
        self.assertEqual(doc["jsonSchemaDialect"], "https://json-schema.org/draft/2020-12/schema")
        for name, schema in doc["components"]["schemas"].items():
            with self.subTest(schema=name):
                Draft202012Validator.check_schema(schema)
        schemes = doc["components"]["securitySchemes"]
        self.assertEqual(schemes["ApiKey"], dict(schemes["ApiKey"], type="apiKey", name="X-API-Key",
                                                 **{"in": "header"}))
        self.assertEqual((schemes["Bearer"]["type"], schemes["Bearer"]["scheme"]),
                         ("http", "bearer"))

    def test_openapi_lists_every_route_of_the_server(self):
        """The contract's paths and methods are exactly those of the route tables in src/."""
        doc = set()
        for path, item in self.api.doc["paths"].items():
            doc.update((path, m) for m in item if m in contracts.METHODS)
        src = source_routes()
        self.assertTrue(len(src) > 20, src)
        self.assertEqual(sorted(src - doc), [], "routes the contract does not list")
        self.assertEqual(sorted(doc - src), [], "operations the server does not have")

    def test_error_codes_are_the_servers(self):
        enum = set(self.api.doc["components"]["schemas"]["ErrorCode"]["enum"])
        src = source_codes()
        self.assertEqual(sorted(src - enum), [], "codes the server sends, missing from ErrorCode")
        self.assertEqual(sorted(enum - src), [], "codes in ErrorCode the server never sends")

    def test_every_operation_documents_its_refusals(self):
        doc = self.api.doc
        for path, item in doc["paths"].items():
            for m, op in item.items():
                if m not in contracts.METHODS:
                    continue
                with self.subTest(op="%s %s" % (m.upper(), path)):
                    self.assertTrue(any(s.startswith("2") for s in op["responses"]), op)
                    if op.get("security"):
                        for st in ("401", "403", "429", "503"):
                            self.assertIn(st, op["responses"])
                    for st, r in op["responses"].items():
                        r = self.api.deref(r)
                        self.assertIn("X-Request-Id", r.get("headers", {}), (st, r))
                        if st == "429":
                            self.assertIn("Retry-After", r["headers"])

    # ---- WSDL -------------------------------------------------------------------------------
    def test_wsdl_is_valid_wsdl_1_1(self):
        for xsd in ("wsdl-1.1.xsd", "wsdl-1.1-with-soap.xsd"):
            cp = xmllint(os.path.join(CONTRACT_DIR, xsd), contracts.WSDL_PATH)
            with self.subTest(schema=xsd):
                self.assertEqual(cp.returncode, 0, cp.stderr)
                self.assertIn("validates", cp.stderr)

    def test_wsdl11_schema_is_not_a_pushover(self):
        """The vendored schema refuses a broken WSDL: it is really checking."""
        text = read(contracts.WSDL_PATH).decode()
        d = make_temp_dir("tskey-contract-")
        for what, bad in (
                ("an unknown WSDL element", text.replace("wsdl:portType", "wsdl:portTipe")),
                ("an operation without a name",
                 text.replace('<wsdl:operation name="Login">', "<wsdl:operation>", 1)),
                ("a soap:body use that is neither literal nor encoded",
                 text.replace('<soap:body use="literal"/>', '<soap:body use="plain"/>', 1))):
            path = os.path.join(d, "bad.wsdl")
            with open(path, "w") as f:
                f.write(bad)
            cp = xmllint(os.path.join(CONTRACT_DIR, "wsdl-1.1-with-soap.xsd"), path)
            with self.subTest(broken=what):
                self.assertNotEqual(cp.returncode, 0, cp.stderr)
                self.assertIn("fails to validate", cp.stderr)

    def test_wsdl_embedded_schema_compiles(self):
        """The <s:schema> in <wsdl:types> compiles (lxml and xmllint) and accepts the service's
        own messages."""
        from lxml import etree
        schema = contracts.wsdl_schema()
        ok = ('<CreditRemainingResponse xmlns="%s"><CreditRemainingResult><Credit>5</Credit>'
              '<Errors/><Status>None</Status></CreditRemainingResult></CreditRemainingResponse>'
              % TR_NS)
        self.assertTrue(schema.validate(etree.ElementTree(etree.fromstring(ok))),
                        schema.error_log)
        bad = ok.replace("<Status>None</Status>", "<Status>Fine</Status>")
        self.assertFalse(schema.validate(etree.ElementTree(etree.fromstring(bad))))
        # The same schema, standalone, through xmllint.
        defs = etree.parse(contracts.WSDL_PATH).getroot()
        src = defs.find("{%s}types/{%s}schema" % (contracts.WSDL_NS, contracts.XSD_NS))
        root = etree.Element(src.tag, attrib=dict(src.attrib), nsmap=dict(defs.nsmap, **src.nsmap))
        root.extend(etree.fromstring(etree.tostring(c)) for c in src)
        d = make_temp_dir("tskey-contract-")
        xsd, inst = os.path.join(d, "embedded.xsd"), os.path.join(d, "credit.xml")
        etree.ElementTree(root).write(xsd)
        with open(inst, "w") as f:
            f.write(ok)
        cp = xmllint(xsd, inst)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertIn("validates", cp.stderr)
        af = ('<AuthFault xmlns="%s"><Code>RATE_LIMITED</Code><Status>429</Status>'
              '<RequestId>0123456789abcdef</RequestId><RetryAfter>3</RetryAfter></AuthFault>' % TR_NS)
        self.assertTrue(schema.validate(etree.ElementTree(etree.fromstring(af))),
                        schema.error_log)


UNAUTHORIZED = {"www-authenticate": 'Bearer realm="tskey"', "x-tskey-code": "MISSING"}


def ok_headers(**extra):
    h = {"x-request-id": "0123456789abcdef", "content-type": "application/json; charset=utf-8"}
    h.update(extra)
    return h


def soap_env(body, ns=contracts.SOAP11_NS, header=""):
    return ('<?xml version="1.0" encoding="UTF-8"?><S:Envelope xmlns:S="%s" xmlns:tr="%s">%s'
            '<S:Body>%s</S:Body></S:Envelope>' % (ns, TR_NS, header, body)).encode()


class HookTeethTest(unittest.TestCase):
    """contracts.check on made-up responses: what fits passes, and what does not is caught."""

    B = "http://127.0.0.1:1"

    def problems(self, method, path, status, headers, body):
        return contracts.check(method, self.B + path, status, headers, body)

    def assertFits(self, *a):
        self.assertEqual(self.problems(*a), [])

    def assertCaught(self, pattern, *a):
        probs = self.problems(*a)
        self.assertTrue(probs, "not caught: %r" % (a,))
        self.assertRegex("\n".join(probs), pattern)

    def test_rest_json(self):
        good = b'{"Credit":4,"Errors":[],"Status":0}'
        self.assertFits("POST", "/rest/credit", 200, ok_headers(), good)
        self.assertFits("POST", "/REST/Credit", 200, ok_headers(), good)
        self.assertCaught("Additional properties", "POST", "/rest/credit", 200, ok_headers(),
                          b'{"Credit":4,"Errors":[],"Status":0,"Key":"x"}')
        self.assertCaught("'Credit' is a required", "POST", "/rest/credit", 200, ok_headers(),
                          b'{"Errors":[],"Status":0}')
        self.assertCaught("X-Request-Id is required", "POST", "/rest/credit", 200,
                          {"content-type": "application/json"}, good)
        self.assertCaught("Content-Type", "POST", "/rest/credit", 200,
                          ok_headers(**{"content-type": "text/plain"}), good)
        self.assertCaught("not a documented response", "POST", "/rest/credit", 404,
                          ok_headers(), good)

    def test_rest_errors(self):
        err = b'{"message":"m","code":"MISSING","requestId":"0123456789abcdef"}'
        h401 = ok_headers(**UNAUTHORIZED)
        self.assertFits("GET", "/rest/me", 401, h401, err)
        self.assertCaught("WWW-Authenticate is required", "GET", "/rest/me", 401,
                          ok_headers(**{"x-tskey-code": "MISSING"}), err)
        self.assertCaught("X-Tskey-Code", "GET", "/rest/me", 401,
                          dict(h401, **{"x-tskey-code": "INVALID"}), err)
        self.assertCaught("is not one of", "GET", "/rest/me", 403,
                          ok_headers(**{"x-tskey-code": "MISSING"}), err)
        self.assertCaught("requestId", "GET", "/rest/me", 401,
                          dict(h401, **{"x-request-id": "fedcba9876543210"}), err)
        limited = b'{"message":"m","code":"RATE_LIMITED","requestId":"0123456789abcdef"}'
        h429 = ok_headers(**{"x-tskey-code": "RATE_LIMITED"})
        self.assertCaught("Retry-After is required", "GET", "/rest/me", 429, h429, limited)
        self.assertFits("GET", "/rest/me", 429, dict(h429, **{"retry-after": "3"}), limited)
        self.assertCaught("Retry-After", "GET", "/rest/me", 429,
                          dict(h429, **{"retry-after": "soon"}), limited)

    def test_unlisted_paths_and_methods(self):
        nf = b'{"message":"m","code":"NOT_FOUND","requestId":"0123456789abcdef"}'
        na = b'{"message":"m","code":"METHOD_NOT_ALLOWED","requestId":"0123456789abcdef"}'
        self.assertFits("GET", "/no/such/thing", 404, ok_headers(), nf)
        self.assertCaught("not 404", "GET", "/no/such/thing", 200, ok_headers(), nf)
        self.assertFits("GET", "/rest/credit", 405, ok_headers(allow="POST"), na)
        self.assertCaught("Allow", "GET", "/rest/credit", 405, ok_headers(allow="GET, POST"), na)
        self.assertCaught("not 405", "GET", "/rest/credit", 200, ok_headers(),
                          b'{"Credit":4,"Errors":[],"Status":0}')
        self.assertFits("PUT", "/TrackService.asmx", 405, ok_headers(allow="GET, POST"), na)
        # Under /admin/v1/ the key is checked before routing.
        miss = b'{"message":"m","code":"MISSING","requestId":"0123456789abcdef"}'
        self.assertFits("GET", "/admin/v1/nothing", 401, ok_headers(**UNAUTHORIZED), miss)
        self.assertCaught("not 404", "GET", "/rest/nothing", 401, ok_headers(**UNAUTHORIZED),
                          miss)

    def test_templates(self):
        key = json.dumps({
            "id": 3, "account": "acme", "name": "", "prefix": "tsk_live_AbC1",
            "environment": "live", "status": "active", "scopes": ["credit:read"],
            "ipAllow": [], "rateLimits": {"perMinute": 0, "perDay": 0}, "platform": False,
            "useCount": 0, "createdAt": "2026-01-01T00:00:00Z", "expiresAt": None,
            "lastUsedAt": None, "rotatedFrom": None}).encode()
        self.assertFits("GET", "/admin/v1/keys/3", 200, ok_headers(), key)
        self.assertCaught("deleted", "GET", "/admin/v1/keys/3", 200, ok_headers(),
                          b'{"deleted":3}')
        self.assertFits("DELETE", "/admin/v1/keys/3", 200, ok_headers(), b'{"deleted":3}')
        self.assertCaught("status", "GET", "/admin/v1/keys/3", 200, ok_headers(),
                          key.replace(b'"active"', b'"revoked"'))

    def test_rest_xml(self):
        xh = ok_headers(**{"content-type": "application/xml; charset=utf-8"})
        good = (b'<?xml version="1.0" encoding="UTF-8"?>\n<CreditResult><Errors></Errors>'
                b'<Status>None</Status><Credit>42</Credit></CreditResult>')
        self.assertFits("POST", "/rest/credit", 200, xh, good)
        self.assertCaught("is not one of", "POST", "/rest/credit", 200, xh,
                          good.replace(b"None", b"Fine"))
        self.assertCaught("integer", "POST", "/rest/credit", 200, xh,
                          good.replace(b"42", b"lots"))
        self.assertCaught("root <Credit>", "POST", "/rest/credit", 200, xh,
                          good.replace(b"CreditResult", b"Credit"))
        self.assertCaught("Additional properties", "POST", "/rest/credit", 200, xh,
                          good.replace(b"<Credit>", b"<Key>x</Key><Credit>"))
        err = (b'<Error><Message>m</Message><Code>MISSING</Code>'
               b'<RequestId>0123456789abcdef</RequestId></Error>')
        xh401 = dict(xh, **UNAUTHORIZED)
        self.assertFits("POST", "/rest/credit", 401, xh401, err)
        self.assertCaught("RequestId", "POST", "/rest/credit", 401,
                          dict(xh401, **{"x-request-id": "fedcba9876543210"}), err)
        self.assertCaught("X-Tskey-Code", "POST", "/rest/credit", 401,
                          dict(xh401, **{"x-tskey-code": "INVALID"}), err)

    def test_head_has_no_body(self):
        hdrs = ok_headers(**{"x-tskey-account": "a", "x-tskey-key-id": "1",
                             "x-tskey-scopes": "credit:read"})
        self.assertFits("HEAD", "/rest/verify", 200, hdrs, b"")
        self.assertCaught("HEAD", "HEAD", "/rest/verify", 200, hdrs, b'{"account":"a"}')
        self.assertCaught("X-Tskey-Key-Id", "GET", "/rest/verify", 200,
                          dict(hdrs, **{"x-tskey-key-id": "one"}),
                          b'{"account":"a","keyId":1,"scopes":[],"credit":0}')

    def test_soap(self):
        sh = ok_headers(**{"content-type": "text/xml; charset=utf-8"})
        credit = ("<tr:CreditRemainingResponse><tr:CreditRemainingResult><tr:Credit>5</tr:Credit>"
                  "<tr:Errors/><tr:Status>None</tr:Status></tr:CreditRemainingResult>"
                  "</tr:CreditRemainingResponse>")
        self.assertFits("POST", "/TrackService.asmx", 200, sh, soap_env(credit))
        self.assertCaught("Credit", "POST", "/TrackService.asmx", 200, sh,
                          soap_env(credit.replace("<tr:Credit>5</tr:Credit>", "")))
        self.assertCaught("Status", "POST", "/TrackService.asmx", 200, sh,
                          soap_env(credit.replace(">None<", ">Good<")))
        self.assertCaught("Envelope", "POST", "/TrackService.asmx", 200, sh,
                          soap_env(credit, ns=contracts.SOAP12_NS))
        self.assertCaught("not an operation's output", "POST", "/TrackService.asmx", 200, sh,
                          soap_env("<tr:Login/>"))
        hdr = ("<S:Header><tr:SessionIDHeader><tr:SessionID>k</tr:SessionID><tr:Extra/>"
               "</tr:SessionIDHeader></S:Header>")
        self.assertCaught("SessionIDHeader", "POST", "/TrackService.asmx", 200, sh,
                          soap_env(credit, header=hdr))
        fault = ('<S:Fault><faultcode>S:Client</faultcode><faultstring>Unauthorized: x'
                 '</faultstring><detail><AuthFault xmlns="%s"><Code>MISSING</Code>'
                 '<Status>401</Status><RequestId>0123456789abcdef</RequestId></AuthFault>'
                 '</detail></S:Fault>' % TR_NS)
        self.assertFits("POST", "/TrackService.asmx", 500, sh, soap_env(fault))
        self.assertCaught("AuthFault", "POST", "/TrackService.asmx", 500, sh,
                          soap_env(fault.replace("<Status>401</Status>", "")))
        self.assertCaught("RequestId", "POST", "/TrackService.asmx", 500,
                          dict(sh, **{"x-request-id": "fedcba9876543210"}), soap_env(fault))
        self.assertCaught("RetryAfter", "POST", "/TrackService.asmx", 500, sh,
                          soap_env(fault.replace("MISSING", "RATE_LIMITED")))

    def test_harness_raises_for_its_servers_only(self):
        """The hook in harness.py fails the calling test with method, path, status and error;
        responses of other servers (nginx in test_nginx) are not its business."""
        class Fake:
            port = 1
        harness._live_servers.append(Fake)
        try:
            with self.assertRaises(contracts.ContractError) as cm:
                harness._contract_check("POST", self.B + "/rest/credit?x=1", 200, ok_headers(),
                                        b'{"Credit":"4"}')
            msg = str(cm.exception)
            for part in ("POST /rest/credit?x=1 -> 200", "'4' is not of type 'integer'"):
                self.assertIn(part, msg)
        finally:
            harness._live_servers.remove(Fake)
        harness._contract_check("POST", self.B + "/rest/credit", 200, ok_headers(), b"{}")


class LiveContractTest(unittest.TestCase):
    """A live server against the contract: every documented operation is answered as the
    contract says (the harness's hook validates each response), and the contracts it serves are
    the files'."""

    @classmethod
    def setUpClass(cls):
        cls.srv = s = Server("contracts")
        s.account_create("ops")
        cls.platform = s.cli("key", "create", "ops", "--scopes", "keys:admin credit:read",
                             "--platform").stdout.splitlines()[0]
        s.account_create("acme", credit=50)
        cls.key = s.key_create("acme", name="main")
        s.user_create("acme", "carol", "carol's password")
        s.start("--login-deprecated", "2026-01-01", "--login-sunset", "2027-06-30")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def admin(self, method, path, body=None):
        return self.srv.rest(method, path, key=self.platform,
                             headers=["Content-Type: application/json"] if body is not None
                             else [], body=json.dumps(body) if body is not None else None)

    def test_served_openapi_is_the_file(self):
        r = self.srv.rest("GET", "/openapi.json")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("content-type", "").split(";")[0], "application/json")
        self.assertEqual(r.body, read(contracts.OPENAPI_PATH),
                         "GET /openapi.json is not wsdl/openapi.json (rebuild the binary)")

    def test_served_wsdl_validates_and_is_the_file(self):
        r = self.srv.rest("GET", "/TrackService.asmx?WSDL")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("content-type", "").split(";")[0], "text/xml")
        d = make_temp_dir("tskey-contract-")
        path = os.path.join(d, "served.wsdl")
        with open(path, "wb") as f:
            f.write(r.body)
        for xsd in ("wsdl-1.1.xsd", "wsdl-1.1-with-soap.xsd"):
            cp = xmllint(os.path.join(CONTRACT_DIR, xsd), path)
            with self.subTest(schema=xsd):
                self.assertEqual(cp.returncode, 0, cp.stderr)
        want = read(contracts.WSDL_PATH).replace(
            b"http://localhost:8080/TrackService.asmx",
            ("%s/TrackService.asmx" % self.srv.base).encode())
        self.assertEqual(r.body, want, "the served WSDL is the file, addresses aside")

    def test_every_operation_answers_as_documented(self):
        """Each documented operation (HEAD aside: see the report) once, with a request that
        should succeed; the hook has checked each response against the contract."""
        s = self.srv
        seen = set()

        def call(method, template, path=None, want=None, **kw):
            r = (kw.pop("fn", None) or s.rest)(method, path or template, **kw)
            op = contracts.openapi().doc["paths"][template][method.lower()]
            ok = [int(st) for st in op["responses"] if st.startswith("2")]
            self.assertIn(r.status, [want] if want else ok, (method, template, r))
            seen.add((template, method.lower()))
            return r

        k = self.key
        call("POST", "/rest/credit", key=k)
        call("POST", "/rest/credit", key=k, headers=["Accept: application/xml"])
        call("GET", "/rest/me", key=k)
        for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            call(m, "/rest/verify", key=k)
        login = call("POST", "/rest/login", headers=["Content-Type: application/json"],
                     body=json.dumps({"UserName": "carol", "Password": "carol's password"}))
        self.assertIn("deprecation", login.headers)
        self.assertIn("sunset", login.headers)
        session = login.json()["Key"]
        call("GET", "/rest/me", bearer=session)
        call("GET", "/rest/verify", key=session)
        call("POST", "/rest/logout", key=session)
        call("GET", "/openapi.json")
        for path in ("/console", "/console/", "/console/console.css", "/console/console.js"):
            call("GET", path)
        call("GET", "/TrackService.asmx", "/TrackService.asmx?wsdl")
        call("GET", "/metrics")
        call("GET", "/healthz")
        call("GET", "/readyz")
        resp, res = s.soap("CreditRemaining", session_id=k)
        self.assertEqual((resp.status, res.credit), (200, 50 - 7), res)   # 7 verify calls
        seen.add(("/TrackService.asmx", "post"))
        a = "/admin/v1"
        call("GET", a + "/accounts", fn=self.admin)
        call("POST", a + "/accounts", fn=self.admin,
             body={"name": "walk", "credit": 5, "monthlyAllowance": 1})
        call("GET", a + "/accounts/{name}", a + "/accounts/walk", fn=self.admin)
        call("POST", a + "/accounts/{name}/credit", a + "/accounts/walk/credit", fn=self.admin,
             body={"add": 2})
        call("POST", a + "/accounts/{name}/allowance", a + "/accounts/walk/allowance",
             fn=self.admin, body={"monthlyAllowance": 3})
        made = call("POST", a + "/accounts/{name}/keys", a + "/accounts/walk/keys",
                    fn=self.admin, body={"name": "w", "scopes": ["credit:read"],
                                         "ipAllow": ["127.0.0.1", "::1"],
                                         "rateLimits": {"perMinute": 5, "perDay": 50},
                                         "expiresAt": "2099-01-01"}).json()
        call("GET", a + "/accounts/{name}/keys", a + "/accounts/walk/keys", fn=self.admin)
        call("POST", a + "/accounts/{name}/keys/import", a + "/accounts/walk/keys/import",
             fn=self.admin, body={"key": "6F9619FF-8B86-D011-B42D-00CF4FC964FF"})
        call("GET", a + "/accounts/{name}/users", a + "/accounts/walk/users", fn=self.admin)
        call("POST", a + "/accounts/{name}/users", a + "/accounts/walk/users", fn=self.admin,
             body={"name": "walker", "password": "walk pw 123", "api": True})
        kid = made["id"]
        call("GET", a + "/keys/{id}", "%s/keys/%d" % (a, kid), fn=self.admin)
        rot = call("POST", a + "/keys/{id}/rotate", "%s/keys/%d/rotate" % (a, kid),
                   fn=self.admin, body={"grace": 60}).json()
        self.assertEqual(rot["rotatedFrom"], kid)
        call("POST", a + "/keys/{id}/deactivate", "%s/keys/%d/deactivate" % (a, rot["id"]),
             fn=self.admin)
        call("POST", a + "/keys/{id}/reactivate", "%s/keys/%d/reactivate" % (a, rot["id"]),
             fn=self.admin)
        call("POST", a + "/keys/{id}/deactivate", "%s/keys/%d/deactivate" % (a, rot["id"]),
             fn=self.admin)
        call("DELETE", a + "/keys/{id}", "%s/keys/%d" % (a, rot["id"]), fn=self.admin)
        call("GET", a + "/audit", a + "/audit?account=walk&limit=5", fn=self.admin)
        call("GET", a + "/report/migration", a + "/report/migration?since=30", fn=self.admin)
        documented = {(p, m) for p, item in contracts.openapi().doc["paths"].items()
                      for m in item if m in contracts.METHODS and m != "head"}
        self.assertEqual(sorted(documented - seen), [], "operations the walk did not call")

    def test_refusals_answer_as_documented(self):
        """404 for what is not listed, 405 with Allow for what a path does not take, and the
        codes of a few refusals; the hook checks each."""
        s = self.srv
        for path in ("/nothing", "/rest", "/rest/credit/", "/openapi.json/x"):
            with self.subTest(path=path):
                self.assertEqual(s.rest("GET", path).status, 404)
        doc = contracts.openapi().doc["paths"]
        for template, item in doc.items():
            wrong = [m for m in ("PUT", "PATCH", "DELETE", "GET") if m.lower() not in item]
            if not wrong:
                continue        # /rest/verify takes every method
            wrong = wrong[0]
            path = template.replace("{name}", "acme").replace("{id}", "1")
            r = s.rest(wrong, path, key=self.platform)
            with self.subTest(op="%s %s" % (wrong, path)):
                self.assertEqual(r.status, 405, r)
        self.assertEqual(s.rest("POST", "/TrackService.asmx", body="x").status, 415)
        self.assertEqual(s.rest("GET", "/TrackService.asmx").status, 404)
        self.assertEqual(s.rest("POST", "/rest/login", body="{").status, 400)
        self.assertEqual(s.rest_login("carol", "wrong").status, 401)
        self.assertEqual(self.admin("GET", "/admin/v1/keys/0").status, 400)
        self.assertEqual(self.admin("GET", "/admin/v1/accounts/none-such").status, 404)
        self.assertEqual(self.admin("POST", "/admin/v1/accounts", {"name": "acme"}).status, 409)
        tenant = s.key_create("acme", scopes="keys:admin")
        r = s.rest("GET", "/admin/v1/accounts/ops", key=tenant)
        self.assertEqual((r.status, r.json()["code"]), (403, "FORBIDDEN"))


if __name__ == "__main__":
    unittest.main()
