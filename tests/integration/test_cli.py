"""The tskey command line: help, errors, keys, users."""
import re
import subprocess
import unittest

from harness import CLI_TIMEOUT, KEY_RE, TSKEY_BIN, Server


def run(*args, input=""):
    return subprocess.run([TSKEY_BIN] + list(args), input=input, capture_output=True, text=True,
                          timeout=CLI_TIMEOUT)


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server("cli")
        cls.srv.account_create("acme", credit=10)

    def test_help(self):
        cp = run("--help")
        self.assertEqual(cp.returncode, 0, cp)
        self.assertTrue(cp.stdout.startswith("usage: tskey"), cp.stdout)
        for word in ("serve", "account create", "key create", "key revoke", "user create",
                     "credit set", "credit add", "account allowance", "key import",
                     "key deactivate", "key reactivate", "key delete", "key rotate", "key show",
                     "user list", "audit", "--max-keys"):
            self.assertIn(word, cp.stdout)

    def test_key_help(self):
        cp = run("key", "--help")
        self.assertEqual(cp.returncode, 0, cp)
        self.assertTrue(cp.stdout.startswith("usage: tskey key"), cp.stdout)
        self.assertIn("key revoke", cp.stdout)
        self.assertIn("--expires", cp.stdout)

    def test_unknown_command(self):
        cp = self.srv.cli("frobnicate", check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        self.assertIn("unknown command", cp.stderr)
        self.assertEqual(cp.stdout, "")

    def test_no_command(self):
        cp = run()
        self.assertNotEqual(cp.returncode, 0, cp)
        self.assertTrue(cp.stderr.strip(), cp)

    def test_key_create_unknown_account(self):
        cp = self.srv.cli("key", "create", "no-such-account", check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        self.assertTrue(cp.stderr.strip(), cp)
        self.assertIn("not found", cp.stderr)
        self.assertEqual(cp.stdout, "", "no key may be printed on failure")

    def test_duplicate_account(self):
        s = self.srv
        s.account_create("dupe", credit=1)
        cp = s.cli("account", "create", "dupe", "--credit", "2", check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        self.assertTrue(cp.stderr.strip(), cp)
        accounts = s.cli("account", "list").stdout.splitlines()
        self.assertEqual(len([a for a in accounts if a.split("\t")[1:2] == ["dupe"]]), 1)

    def test_key_create_prints_one_line(self):
        cp = self.srv.cli("key", "create", "acme", "--name", "one-line")
        self.assertEqual(cp.returncode, 0, cp)
        lines = cp.stdout.split("\n")
        self.assertEqual(len(lines), 2, repr(cp.stdout))     # the key and the final newline
        self.assertEqual(lines[1], "")
        self.assertRegex(lines[0], KEY_RE)
        self.assertNotIn(lines[0], cp.stderr)

    def test_key_create_keys_differ(self):
        keys = {self.srv.key_create("acme") for _ in range(3)}
        self.assertEqual(len(keys), 3)

    def test_key_create_past_expiry_refused(self):
        cp = self.srv.cli("key", "create", "acme", "--expires", "2001-01-01", check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        self.assertEqual(cp.stdout, "")

    def test_key_list_and_revoke(self):
        s = self.srv
        s.account_create("listacct", credit=1)
        key = s.key_create("listacct", name="listed")
        rows, text = s.key_list("listacct")
        self.assertEqual(text.splitlines()[0].split("\t"),
                         ["ID", "ACCOUNT", "NAME", "PREFIX", "STATUS", "ENV", "SCOPES", "CREATED",
                          "EXPIRES", "LAST_USED"])
        self.assertEqual(len(rows), 1, text)
        for ln in text.splitlines():
            self.assertEqual(len(ln.split("\t")), 10, "every row has the header's 10 columns: %r"
                             % ln)
        row = rows[0]
        self.assertEqual(row["ACCOUNT"], "listacct")
        self.assertEqual(row["NAME"], "listed")
        self.assertEqual(row["STATUS"], "active")
        self.assertEqual(row["ENV"], "live")
        self.assertEqual(row["SCOPES"], "credit:read")     # the default scope
        self.assertRegex(row["CREATED"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(row["EXPIRES"], "never")
        self.assertEqual(row["LAST_USED"], "never")
        self.assertTrue(key.startswith(row["PREFIX"]), (row["PREFIX"], "not the key's prefix"))
        self.assertLess(len(row["PREFIX"]), len(key))
        self.assertNotIn(key, text)
        cp = s.key_revoke(row["ID"])
        self.assertEqual(cp.returncode, 0, cp)
        rows, text = s.key_list("listacct")
        self.assertEqual(len(rows), 1, text)
        self.assertEqual(rows[0]["ID"], row["ID"])
        # "revoked" is now "inactive" (a deactivated key); nothing else about the row changes.
        self.assertEqual(rows[0]["STATUS"], "inactive", text)
        self.assertEqual({k: v for k, v in rows[0].items() if k != "STATUS"},
                         {k: v for k, v in row.items() if k != "STATUS"}, text)

    def test_key_revoke_unknown_id(self):
        cp = self.srv.cli("key", "revoke", "999999", check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        self.assertTrue(cp.stderr.strip())

    def test_user_create_empty_stdin(self):
        cp = self.srv.cli("user", "create", "acme", "emptyuser", "--password-stdin", input="",
                          check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        self.assertTrue(cp.stderr.strip(), cp)
        # And the user does not exist afterwards: creating it with a password works.
        cp = self.srv.cli("user", "create", "acme", "emptyuser", "--password-stdin",
                          input="now-a-password\n")
        self.assertEqual(cp.returncode, 0, cp)

    def test_user_create_empty_line(self):
        cp = self.srv.cli("user", "create", "acme", "blankuser", "--password-stdin",
                          input="\n", check=False)
        self.assertNotEqual(cp.returncode, 0, cp)

    def test_account_list(self):
        s = self.srv
        s.account_create("listme", credit=31)
        out = s.cli("account", "list").stdout
        self.assertTrue(re.search(r"^\d+\tlistme\t31\t", out, re.M), out)

    def test_account_allowance_listed(self):
        s = self.srv
        s.account_create("allowme", credit=2, allowance=40)
        out = s.cli("account", "list").stdout
        self.assertEqual(out.splitlines()[0].split("\t"),
                         ["ID", "NAME", "CREDIT", "MONTHLY_ALLOWANCE", "CREATED"])
        self.assertTrue(re.search(r"^\d+\tallowme\t2\t40\t", out, re.M), out)
        s.allowance_set("allowme", 7)
        out = s.cli("account", "list").stdout
        self.assertTrue(re.search(r"^\d+\tallowme\t2\t7\t", out, re.M), out)
        cp = s.cli("account", "allowance", "allowme", "-1", check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        cp = s.cli("account", "allowance", "no-such-account", "3", check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        self.assertIn("not found", cp.stderr)

    def test_credit_add(self):
        s = self.srv
        s.account_create("adder", credit=5)
        s.credit_add("adder", 7)
        self.assertEqual(s.account_credit("adder"), 12)
        s.credit_add("adder", -2)
        self.assertEqual(s.account_credit("adder"), 10)
        cp = s.cli("credit", "add", "adder", "lots", check=False)
        self.assertNotEqual(cp.returncode, 0, cp)
        self.assertEqual(s.account_credit("adder"), 10)

    def test_user_list(self):
        s = self.srv
        s.account_create("users", credit=0)
        s.user_create("users", "person-u", "person-password-1")
        s.user_create("users", "api-u", "api-password-1", api=True)
        cp = s.cli("user", "list", "users")
        lines = cp.stdout.splitlines()
        self.assertEqual(lines[0].split("\t"), ["ID", "ACCOUNT_ID", "NAME", "KIND", "CREATED"])
        kinds = {f[2]: f[3] for f in (ln.split("\t") for ln in lines[1:])}
        self.assertEqual(kinds, {"person-u": "person", "api-u": "api"}, cp.stdout)
        self.assertNotIn("password", cp.stdout)
        self.assertNotIn("scrypt", cp.stdout.lower())
        everyone = s.cli("user", "list").stdout
        self.assertIn("\tperson-u\t", everyone)
        cp = s.cli("user", "list", "no-such-account", check=False)
        self.assertNotEqual(cp.returncode, 0, cp)


if __name__ == "__main__":
    unittest.main()
