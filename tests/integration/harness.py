"""Integration-test harness for tskey: a real server on 127.0.0.1 with a temp database, the CLI,
and real clients (curl for REST and raw SOAP, raw sockets for keep-alive, zeep in test_zeep).

Standard library only (zeep is imported by test_zeep alone). Every wait is bounded: subprocesses
have timeouts, curl has --max-time, sockets have timeouts, thread joins have timeouts.
"""
import atexit
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

TSKEY_BIN = os.environ.get("TSKEY_BIN", "/work/main/tskey")
# A command the server (not the CLI) runs under, e.g. valgrind: see `make test-valgrind`.
SERVE_WRAP = shlex.split(os.environ.get("TSKEY_SERVE_WRAP", ""))
CURL = shutil.which("curl") or "/usr/bin/curl"

CLI_TIMEOUT = 15        # seconds for one CLI command
_SLOW = 4 if SERVE_WRAP else 1     # a server under valgrind starts and stops slowly
START_TIMEOUT = 10 * _SLOW      # seconds until the "listening on" line
STOP_TIMEOUT = 10 * _SLOW       # seconds from SIGTERM to exit (valgrind's leak check included)
HTTP_TIMEOUT = 10       # seconds for one HTTP exchange

TR_NS = "http://TrackService.TrackRoad.com/"
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
WSDL_SOAP11_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
WSDL_SOAP12_NS = "http://schemas.xmlsoap.org/wsdl/soap12/"
ACTION = TR_NS + "{}"

KEY_RE = re.compile(r"^tsk_live_[0-9A-Za-z]{28}$")
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
LISTEN_RE = re.compile(r"^tskey: listening on 127\.0\.0\.1:(\d+) \(database .*\)$")
# Any listening address ("::1", "0.0.0.0", "::"): for servers started with listen=...
LISTEN_ANY_RE = re.compile(r"^tskey: listening on (.+):(\d+) \(database .*\)$")
TEST_KEY_RE = re.compile(r"^tsk_test_[0-9A-Za-z]{28}$")

_live_servers = []      # Server objects still running: killed at exit if a test left one behind
_temp_dirs = []


def _cleanup():
    for srv in list(_live_servers):
        srv.kill()
    if not os.environ.get("TSKEY_KEEP_TMP"):
        for d in _temp_dirs:
            shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)


def make_temp_dir(tag="tskey-it-"):
    d = tempfile.mkdtemp(prefix=tag)
    _temp_dirs.append(d)
    return d


def rfc3339(t):
    """Seconds since the epoch -> 'YYYY-MM-DDTHH:MM:SSZ' (UTC)."""
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def flip_char(key, index=None):
    """The key with one base62 character changed (by default one in the random body)."""
    i = len(key) // 2 if index is None else index
    c = key[i]
    repl = "B" if c != "B" else "C"
    return key[:i] + repl + key[i + 1:]


class CliError(AssertionError):
    pass


class Server:
    """A temp directory and database, the CLI against it, and (after start()) a serving tskey."""

    def __init__(self, name="srv"):
        self.dir = make_temp_dir("tskey-it-%s-" % name)
        self.db = os.path.join(self.dir, "tskey.db")
        self.log_path = os.path.join(self.dir, "server.log")
        self.proc = None
        self.port = None
        self.stdout_lines = []
        self._stdout_lock = threading.Lock()
        self._ready = threading.Event()
        self._reader = None
        self._log_file = None
        self.starts = 0

    # ---- the CLI -------------------------------------------------------------------------
    def cli(self, *args, input=None, check=True, timeout=CLI_TIMEOUT, global_opts=()):
        """Run `tskey --db DB [GLOBAL_OPTS] ARGS...`; returns CompletedProcess (text).
        check: exit 0 required. global_opts go before the command (e.g. ("--max-keys", 2))."""
        cmd = ([TSKEY_BIN, "--db", self.db] + [str(a) for a in global_opts]
               + [str(a) for a in args])
        cp = subprocess.run(cmd, input=input if input is not None else "",
                            capture_output=True, text=True, timeout=timeout)
        if check and cp.returncode != 0:
            raise CliError("%r exited %d\nstdout: %s\nstderr: %s"
                           % (cmd[1:], cp.returncode, cp.stdout, cp.stderr))
        return cp

    def account_create(self, name, credit=0, allowance=None):
        args = ["account", "create", name, "--credit", credit]
        if allowance is not None:
            args += ["--allowance", allowance]
        return self.cli(*args)

    @staticmethod
    def key_options(name=None, expires=None, scopes=None, ip=None, rate_minute=None,
                    rate_day=None, test=False, platform=False):
        """The `key create` options for these settings (None / False: the option is left out)."""
        args = []
        for opt, val in (("--name", name), ("--expires", expires), ("--scopes", scopes),
                         ("--ip", ip), ("--rate-minute", rate_minute), ("--rate-day", rate_day)):
            if val is not None:
                args += [opt, val]
        if test:
            args.append("--test")
        if platform:
            args.append("--platform")
        return args

    def key_create_id(self, account, global_opts=(), **opts):
        """Create a key with key_options(**opts); returns (key, key id). The id is read from
        the "created key N" line on stderr; stdout must hold the key alone."""
        cp = self.cli("key", "create", account, *self.key_options(**opts),
                      global_opts=global_opts)
        lines = cp.stdout.splitlines()
        if len(lines) != 1 or not lines[0]:
            raise CliError("key create printed %r on stdout (want the key alone)" % cp.stdout)
        m = re.search(r"created key (\d+)", cp.stderr)
        if not m:
            raise CliError("key create: no key id on stderr: %r" % cp.stderr)
        return lines[0], m.group(1)

    def key_create(self, account, name=None, expires=None, **opts):
        """Create a key; returns the key (stdout line 1). opts: see key_options."""
        args = ["key", "create", account] + self.key_options(name=name, expires=expires, **opts)
        cp = self.cli(*args)
        lines = cp.stdout.splitlines()
        if not lines:
            raise CliError("key create printed nothing on stdout")
        return lines[0]

    def key_list(self, account=None):
        """Rows of `key list` as dicts keyed by the header names; plus the raw text."""
        args = ["key", "list"] + ([account] if account else [])
        cp = self.cli(*args)
        lines = cp.stdout.splitlines()
        header = lines[0].split("\t")
        rows = [dict(zip(header, ln.split("\t"))) for ln in lines[1:] if ln]
        return rows, cp.stdout

    def key_id(self, key):
        """The ID of a key, found by its prefix in `key list`."""
        rows, _ = self.key_list()
        ids = [r["ID"] for r in rows if key.startswith(r["PREFIX"])]
        if len(ids) != 1:
            raise CliError("cannot identify key by prefix: %r" % ids)
        return ids[0]

    def key_row(self, key_id):
        """The `key list` row of key_id, or None when it is not listed."""
        rows, _ = self.key_list()
        for r in rows:
            if r["ID"] == str(key_id):
                return r
        return None

    def key_show(self, key_id):
        """`key show KEY_ID` as a dict (field -> value)."""
        cp = self.cli("key", "show", key_id)
        out = {}
        for ln in cp.stdout.splitlines():
            k, _, v = ln.partition("\t")
            out[k] = v
        return out

    def key_revoke(self, key_id):
        return self.cli("key", "revoke", key_id)

    def key_deactivate(self, key_id, check=True):
        return self.cli("key", "deactivate", key_id, check=check)

    def key_reactivate(self, key_id, check=True):
        return self.cli("key", "reactivate", key_id, check=check)

    def key_delete(self, key_id, check=True):
        return self.cli("key", "delete", key_id, check=check)

    def key_rotate(self, key_id, grace=None):
        """Rotate; returns the new key (stdout, alone on its line)."""
        args = ["key", "rotate", key_id] + (["--grace", grace] if grace is not None else [])
        cp = self.cli(*args)
        lines = cp.stdout.splitlines()
        if len(lines) != 1 or not lines[0]:
            raise CliError("key rotate printed %r on stdout (want the key alone)" % cp.stdout)
        return lines[0]

    def key_import(self, account, legacy, hash=False, check=True, extra=()):
        """`key import ACCOUNT [--hash]` with legacy on stdin; returns the CompletedProcess."""
        args = ["key", "import", account] + (["--hash"] if hash else []) + list(extra)
        return self.cli(*args, input=legacy + "\n", check=check)

    def user_create(self, account, user, password, api=False):
        args = ["user", "create", account, user, "--password-stdin"] + (["--api"] if api else [])
        return self.cli(*args, input=password + "\n")

    def credit_set(self, account, n):
        return self.cli("credit", "set", account, n)

    def credit_add(self, account, n):
        return self.cli("credit", "add", account, n)

    def allowance_set(self, account, n):
        return self.cli("account", "allowance", account, n)

    def account_credit(self, name):
        """The CREDIT column of `account list` for account name, as an int."""
        cp = self.cli("account", "list")
        for ln in cp.stdout.splitlines()[1:]:
            f = ln.split("\t")
            if len(f) > 2 and f[1] == name:
                return int(f[2])
        raise CliError("account %r not in `account list`: %r" % (name, cp.stdout))

    def audit(self, account=None, limit=None):
        """Rows of `audit` (newest first) as dicts keyed by the header names; plus the text."""
        args = ["audit"]
        if account is not None:
            args += ["--account", account]
        if limit is not None:
            args += ["--limit", limit]
        cp = self.cli(*args)
        lines = cp.stdout.splitlines()
        header = lines[0].split("\t")
        rows = [dict(zip(header, ln.split("\t"))) for ln in lines[1:] if ln]
        return rows, cp.stdout + cp.stderr

    # ---- the server ----------------------------------------------------------------------
    @property
    def base(self):
        h = self.connect_host
        return "http://%s:%d" % ("[%s]" % h if ":" in h else h, self.port)

    def base_via(self, host):
        """The base URL through another address of the same server (e.g. "::1" on "::")."""
        return "http://%s:%d" % ("[%s]" % host if ":" in host else host, self.port)

    @property
    def soap_url(self):
        return self.base + "/TrackService.asmx"

    def _read_stdout(self, stream):
        for line in stream:
            line = line.rstrip("\n")
            with self._stdout_lock:
                self.stdout_lines.append(line)
            m = (LISTEN_RE if self.listen_host == "127.0.0.1" else LISTEN_ANY_RE).match(line)
            if m and not self._ready.is_set():
                self.port = int(m.group(m.lastindex))
                self._ready.set()
        stream.close()

    listen_host = "127.0.0.1"       # the address the server listens on (see start)
    connect_host = "127.0.0.1"      # the address clients connect to

    def start(self, *extra, demo=False, global_opts=(), listen=None, connect=None, wrap=()):
        """Start `serve`; returns the stdout lines printed before the listening line.
        global_opts go before `serve` (e.g. ("--max-keys", 2)). listen: a host other than
        127.0.0.1 (e.g. "::1", "::"), port 0 always; connect: the address clients then use.
        wrap: a command that execs its arguments (the server keeps the process's pid), such as
        a private mount namespace for test_logs' syslog."""
        assert self.proc is None, "server already running"
        self.listen_host = listen or "127.0.0.1"
        wildcard = self.listen_host in ("::", "0.0.0.0")
        self.connect_host = connect or ("127.0.0.1" if wildcard else self.listen_host)
        lhost = "[%s]" % self.listen_host if ":" in self.listen_host else self.listen_host
        cmd = (list(wrap) + SERVE_WRAP + [TSKEY_BIN, "--db", self.db]
               + [str(g) for g in global_opts]
               + ["serve", "--listen", "%s:0" % lhost])
        if not demo:
            cmd.append("--no-demo")
        cmd += [str(e) for e in extra]
        with self._stdout_lock:
            self.stdout_lines = []
        self._ready.clear()
        self.port = None
        self._log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._log_file, text=True, bufsize=1)
        _live_servers.append(self)
        self.starts += 1
        self._reader = threading.Thread(target=self._read_stdout, args=(self.proc.stdout,),
                                        daemon=True)
        self._reader.start()
        if not self._ready.wait(START_TIMEOUT):
            self.kill()
            raise AssertionError("server did not print its listening line within %ds; "
                                 "stdout: %r; log: %r" % (START_TIMEOUT, self.stdout_lines,
                                                         self.log_text()))
        with self._stdout_lock:
            return list(self.stdout_lines)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM and wait; asserts a clean exit (status 0) within timeout. Returns seconds taken."""
        assert self.proc is not None, "server not running"
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("server did not exit within %ds of SIGTERM" % timeout)
        elapsed = time.monotonic() - t0
        self._finish()
        if rc != 0:
            raise AssertionError("server exited %d after SIGTERM (want 0); log tail: %s"
                                 % (rc, self.log_text()[-2000:]))
        return elapsed

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        if self.proc is not None:
            self._finish()

    def _finish(self):
        if self._reader is not None:
            self._reader.join(5)
            self._reader = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self in _live_servers:
            _live_servers.remove(self)
        self.proc = None

    def all_stdout(self):
        with self._stdout_lock:
            return list(self.stdout_lines)

    def log_bytes(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def log_text(self):
        return self.log_bytes().decode("utf-8", "replace")

    def wait_log(self, text, timeout=3.0):
        """The log once it holds text (or after timeout): a request's line is written just after
        its response is sent, so a test that reads the log at once can miss it."""
        deadline = time.time() + timeout
        log = self.log_text()
        while text not in log and time.time() < deadline:
            time.sleep(0.05)
            log = self.log_text()
        return log

    def db_files(self):
        """The database file and its -wal / -shm / -journal companions that exist now."""
        out = {}
        for suffix in ("", "-wal", "-shm", "-journal"):
            p = self.db + suffix
            if os.path.exists(p):
                with open(p, "rb") as f:
                    out[os.path.basename(p)] = f.read()
        return out

    # ---- clients -------------------------------------------------------------------------
    def curl(self, method, path, headers=(), body=None, host_url=None, timeout=HTTP_TIMEOUT):
        return curl(method, (host_url or self.base) + path, headers=headers, body=body,
                    timeout=timeout, tmpdir=self.dir)

    def rest(self, method, path, key=None, headers=(), body=None, bearer=None, host_url=None):
        hdrs = list(headers)
        if key is not None:
            hdrs.append("X-API-Key: " + key)
        if bearer is not None:
            hdrs.append("Authorization: Bearer " + bearer)
        return self.curl(method, path, headers=hdrs, body=body, host_url=host_url)

    def credit(self, key=None, **kw):
        return self.rest("POST", "/rest/credit", key=key, **kw)

    def rest_login(self, user, password):
        return self.rest("POST", "/rest/login", headers=["Content-Type: application/json"],
                         body=json.dumps({"UserName": user, "Password": password}))

    def soap(self, op, session_id=None, version="1.1", body_xml=None, header_xml=None,
             host_url=None):
        """POST a SOAP envelope for op; returns (HttpResponse, SoapResult)."""
        env = envelope(op, session_id=session_id, version=version, body_xml=body_xml,
                       header_xml=header_xml)
        resp = self.curl("POST", "/TrackService.asmx", headers=soap_headers(op, version),
                         body=env, host_url=host_url)
        return resp, parse_soap(resp.body)

    def soap_login(self, user, password, version="1.1"):
        body = ('<Login xmlns="%s"><userName>%s</userName><password>%s</password></Login>'
                % (TR_NS, xml_escape(user), xml_escape(password)))
        return self.soap("Login", version=version, body_xml=body)

    def raw(self, timeout=HTTP_TIMEOUT):
        """A raw keep-alive HTTP connection to the server."""
        return RawConn(self.port, timeout=timeout, host=self.connect_host)


def rss_bytes(pid):
    """The resident memory of process pid, in bytes (VmRSS)."""
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1]) * 1024
    raise AssertionError("no VmRSS for pid %d" % pid)

# ---- curl ------------------------------------------------------------------------------------
class HttpResponse:
    def __init__(self, status, headers, body, curl_rc, stderr, raw_headers):
        self.status = status            # 0 when no response arrived
        self.headers = headers          # lower-case name -> value (the last one wins)
        self.body = body                # bytes
        self.curl_rc = curl_rc
        self.stderr = stderr
        self.raw_headers = raw_headers  # bytes, as received

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def xml(self):
        return ET.fromstring(self.body)

    def everything(self):
        """Status line, headers and body as bytes: what a secret must never appear in."""
        return self.raw_headers + b"\r\n" + self.body

    def __repr__(self):
        return "<HTTP %d curl_rc=%d headers=%r body=%r>" % (
            self.status, self.curl_rc, self.headers, self.body[:600])


_curl_seq = [0]
_curl_lock = threading.Lock()


def curl(method, url, headers=(), body=None, timeout=HTTP_TIMEOUT, tmpdir=None):
    """One request through the curl binary: curl -s -o BODY -D HEADERS -w '%{http_code}'."""
    with _curl_lock:
        _curl_seq[0] += 1
        n = _curl_seq[0]
    tmpdir = tmpdir or tempfile.gettempdir()
    # The pid too: other test runs on the machine share /tmp and count from 1 as well.
    bfile = os.path.join(tmpdir, "curl-%d-%d.body" % (os.getpid(), n))
    hfile = os.path.join(tmpdir, "curl-%d-%d.hdr" % (os.getpid(), n))
    cmd = [CURL, "-s", "-o", bfile, "-D", hfile, "-w", "%{http_code}",
           "--max-time", str(timeout), "--connect-timeout", "5", "-X", method,
           "-H", "Expect:"]
    for h in headers:
        cmd += ["-H", h]
    stdin = None
    if body is not None:
        cmd += ["--data-binary", "@-"]
        stdin = body.encode("utf-8") if isinstance(body, str) else body
    cmd.append(url)
    try:
        cp = subprocess.run(cmd, input=stdin if stdin is not None else b"", capture_output=True,
                            timeout=timeout + 5)
        try:
            with open(bfile, "rb") as f:
                rbody = f.read()
        except FileNotFoundError:
            rbody = b""
        try:
            with open(hfile, "rb") as f:
                rhdr = f.read()
        except FileNotFoundError:
            rhdr = b""
    finally:
        for p in (bfile, hfile):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
    code = cp.stdout.decode().strip()
    status = int(code) if code.isdigit() else 0
    # With 1xx interim responses there are several header blocks: keep the last.
    blocks = [b for b in rhdr.split(b"\r\n\r\n") if b.strip()]
    last = blocks[-1] if blocks else b""
    hdrs = {}
    for line in last.split(b"\r\n")[1:]:
        if b":" in line:
            k, v = line.split(b":", 1)
            hdrs[k.decode("latin-1").strip().lower()] = v.decode("latin-1").strip()
    _contract_check(method, url, status, hdrs, rbody)
    return HttpResponse(status, hdrs, rbody, cp.returncode, cp.stderr.decode("utf-8", "replace"),
                        last)


def _contract_check(method, url, status, headers, body):
    """Every response of a tskey server started here must fit wsdl/openapi.json and the WSDL's
    schema (contracts.py): a mismatch fails the test that made the call (ContractError)."""
    import contracts
    from urllib.parse import urlsplit
    port = urlsplit(url).port
    if any(srv.port == port for srv in list(_live_servers)):     # not nginx and the like
        contracts.check_response(method, url, status, headers, body)


# ---- SOAP ------------------------------------------------------------------------------------
def xml_escape(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def session_header(session_id):
    return ('<SessionIDHeader xmlns="%s"><SessionID>%s</SessionID></SessionIDHeader>'
            % (TR_NS, xml_escape(session_id)))


def envelope(op, session_id=None, version="1.1", body_xml=None, header_xml=None):
    """A document/literal envelope for op. session_id None: no SessionIDHeader at all."""
    ns = SOAP11_NS if version == "1.1" else SOAP12_NS
    if header_xml is None and session_id is not None:
        header_xml = session_header(session_id)
    hdr = "<soap:Header>%s</soap:Header>" % header_xml if header_xml else ""
    if body_xml is None:
        body_xml = '<%s xmlns="%s"/>' % (op, TR_NS)
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<soap:Envelope xmlns:soap="%s" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema">%s<soap:Body>%s</soap:Body>'
            '</soap:Envelope>' % (ns, hdr, body_xml))


def soap_headers(op, version="1.1"):
    if version == "1.1":
        return ["Content-Type: text/xml; charset=utf-8", 'SOAPAction: "%s"' % ACTION.format(op)]
    return ['Content-Type: application/soap+xml; charset=utf-8; action="%s"' % ACTION.format(op)]


def xml_namespaces(data):
    """Every prefix -> namespace declared in the document (the last declaration wins)."""
    import io
    out = {}
    for _event, (prefix, uri) in ET.iterparse(io.BytesIO(data), events=("start-ns",)):
        out[prefix] = uri
    return out


def resolve_qname(qname, nsmap):
    """'pfx:Local' -> '{uri}Local' using nsmap; unprefixed stays as it is."""
    if ":" in qname:
        pfx, local = qname.split(":", 1)
        return "{%s}%s" % (nsmap.get(pfx, "?" + pfx), local)
    return qname


class SoapResult:
    """What a SOAP response said: the envelope namespace, a fault or the operation's result."""

    def __init__(self):
        self.parsed = False
        self.env_ns = None
        self.fault = False
        self.fault_code = None        # resolved '{ns}Client' / '{ns}Sender' ...
        self.fault_code_raw = None
        self.fault_string = None
        self.detail_code = None       # AuthFault/Code
        self.detail_status = None
        self.detail_request_id = None
        self.detail_retry_after = None  # AuthFault/RetryAfter (RATE_LIMITED), as text
        self.body_child = None        # the Body's first element
        self.header = None            # the Header element or None
        self.credit = None
        self.login = None             # dict Message/Status/Key for LoginResult
        self.header_session_id = None
        self.error = None

    def __repr__(self):
        return "<SoapResult %r>" % {k: v for k, v in self.__dict__.items()
                                    if k not in ("body_child", "header")}


def parse_soap(data):
    r = SoapResult()
    try:
        root = ET.fromstring(data)
        nsmap = xml_namespaces(data)
    except ET.ParseError as e:
        r.error = "not XML: %s" % e
        return r
    r.parsed = True
    if not root.tag.endswith("}Envelope"):
        r.error = "root is %s" % root.tag
        return r
    env_ns = root.tag[1:].split("}")[0]
    r.env_ns = env_ns
    r.header = root.find("{%s}Header" % env_ns)
    if r.header is not None:
        sid = r.header.find("{%s}SessionIDHeader/{%s}SessionID" % (TR_NS, TR_NS))
        if sid is not None:
            r.header_session_id = sid.text or ""
    body = root.find("{%s}Body" % env_ns)
    if body is None or len(body) == 0:
        r.error = "no Body content"
        return r
    child = body[0]
    r.body_child = child
    if child.tag == "{%s}Fault" % env_ns:
        r.fault = True
        if env_ns == SOAP11_NS:
            fc = child.find("faultcode")
            fs = child.find("faultstring")
            detail = child.find("detail")
        else:
            fc = child.find("{%s}Code/{%s}Value" % (env_ns, env_ns))
            fs = child.find("{%s}Reason/{%s}Text" % (env_ns, env_ns))
            detail = child.find("{%s}Detail" % env_ns)
        if fc is not None and fc.text:
            r.fault_code_raw = fc.text.strip()
            r.fault_code = resolve_qname(r.fault_code_raw, nsmap)
        r.fault_string = fs.text if fs is not None else None
        if detail is not None:
            af = detail.find("{%s}AuthFault" % TR_NS)
            if af is not None:
                r.detail_code = af.findtext("{%s}Code" % TR_NS)
                r.detail_status = af.findtext("{%s}Status" % TR_NS)
                r.detail_request_id = af.findtext("{%s}RequestId" % TR_NS)
                r.detail_retry_after = af.findtext("{%s}RetryAfter" % TR_NS)
        return r
    if child.tag == "{%s}CreditRemainingResponse" % TR_NS:
        c = child.findtext("{%s}CreditRemainingResult/{%s}Credit" % (TR_NS, TR_NS))
        r.credit = int(c) if c is not None else None
    elif child.tag == "{%s}LoginResponse" % TR_NS:
        lr = child.find("{%s}LoginResult" % TR_NS)
        if lr is not None:
            r.login = {}
            for f in ("Message", "Status", "Key"):
                el = lr.find("{%s}%s" % (TR_NS, f))
                if el is not None:
                    r.login[f] = el.text or ""
    return r


# ---- raw HTTP over one socket (keep-alive) ----------------------------------------------------
class RawConn:
    """One TCP connection; requests are written by hand and responses read by Content-Length."""

    def __init__(self, port, timeout=HTTP_TIMEOUT, host="127.0.0.1"):
        self.port = port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send(self, method, path, headers=(), body=b"", version="HTTP/1.1", host=True):
        if isinstance(body, str):
            body = body.encode("utf-8")
        lines = ["%s %s %s" % (method, path, version)]
        if host:
            lines.append("Host: 127.0.0.1:%d" % self.port)
        lines += list(headers)
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append("Content-Length: %d" % len(body))
        req = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        self.sock.sendall(req)

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise ConnectionError("connection closed by the server (have %r)" % self.buf[:200])
        self.buf += d

    def read_response(self):
        """(status, headers dict lower-case, body bytes); ConnectionError on EOF."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(b":")
            hdrs[k.decode("latin-1").strip().lower()] = v.decode("latin-1").strip()
        n = int(hdrs.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, hdrs, body

    def request(self, method, path, headers=(), body=b"", **kw):
        self.send(method, path, headers, body, **kw)
        status, hdrs, rbody = self.read_response()
        _contract_check(method, "http://127.0.0.1:%d%s" % (self.port, path), status, hdrs, rbody)
        return status, hdrs, rbody

    def at_eof(self, timeout=5.0):
        """True when the server closes the connection within timeout (no bytes arrive)."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def rest_verdict(resp):
    """REST response -> verdict code: OK on 200, else the JSON body's code (or HTTP_<status>)."""
    if resp.status == 200:
        return "OK"
    try:
        return resp.json().get("code", "HTTP_%d" % resp.status)
    except ValueError:
        return "HTTP_%d" % resp.status


def soap_verdict(resp, res):
    """SOAP CreditRemaining -> verdict code: OK with a Credit, else the fault's AuthFault Code."""
    if resp.status == 200 and not res.fault and res.credit is not None:
        return "OK"
    if res.fault:
        return res.detail_code or "FAULT_WITHOUT_CODE"
    return "HTTP_%d" % resp.status


def avoid_window_edge(period, margin):
    """Rate limits count in fixed windows aligned to the epoch (minutes, UTC days). When fewer
    than margin seconds of the current period-long window are left, wait for the next one, so
    that a test's requests all fall in one window. margin must be under 30."""
    left = period - time.time() % period
    if left < margin:
        wait_until(time.time() + left + 0.05)


def wait_until(t):
    """Sleep until time.time() >= t (bounded: never more than 30 s)."""
    delay = t - time.time()
    if delay > 30:
        raise AssertionError("refusing to sleep %.1fs" % delay)
    if delay > 0:
        time.sleep(delay)
