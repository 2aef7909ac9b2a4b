"""HTTP details: a HEAD answer has no body, so a keep-alive connection stays in step."""
import socket
import unittest

from harness import Server


def read_response(f):
    status = f.readline()
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, length


class HeadTest(unittest.TestCase):
    def test_head_has_no_body_and_keepalive_stays_in_step(self):
        srv = Server("head")
        srv.account_create("acme", credit=5)
        key = srv.key_create("acme")
        srv.start()
        try:
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
                f = s.makefile("rb")
                for path in ("/rest/verify", "/rest/me", "/nowhere", "/openapi.json"):
                    s.sendall(("HEAD %s HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\n\r\n"
                               % (path, key)).encode())
                    status, _ = read_response(f)
                    self.assertTrue(status.startswith(b"HTTP/1.1 "), status)
                # The next answer on the connection is the next response, not a stray body.
                s.sendall(("POST /rest/credit HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\n"
                           "Content-Length: 0\r\n\r\n" % key).encode())
                status, length = read_response(f)
                self.assertEqual(status, b"HTTP/1.1 200 OK\r\n")
                # HEAD /rest/verify was a verified call: it took its one credit.
                self.assertEqual(f.read(length), b'{"Credit":4,"Errors":[],"Status":0}')
        finally:
            srv.stop()


if __name__ == "__main__":
    unittest.main()
