#!/usr/bin/env python3
"""Key rotation, as README.md ("Operations") tells an operator to do it: the old public key
stays in the keys folder under another name, the old secret key leaves it, `admit keygen`
makes the new pair, admitd restarts. Then new tickets carry the new key; tickets issued before
(printed, e-mailed, on a phone) are still accepted, online and by a door checking offline once
it has synced; and once the old public key is removed too, they are not.
"""

import os
import re
import shutil

import harness
from harness import (Browser, ServerTestCase, add_device, create_event, decode_qr_png,
                     open_form, run_admit, run_scan, scan_answers, ticket_token)


def key_id(keys_folder, payload, pub="ticket-signing.pub"):
    """The key id admit verify reads in a valid payload."""
    done = run_admit("verify", "--pub", os.path.join(keys_folder, pub), payload, check=False)
    m = re.search(r"\bkey=([0-9a-f]{8})\b", done.stdout)
    if not m:
        raise AssertionError("admit verify: %s %s" % (done.stdout, done.stderr))
    return m.group(1)


class KeyRotation(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.event = create_event(self.db.dsn, lists=["Day 1"])
        self.device = add_device(self.db.dsn, self.event.slug, "Gate A")
        self.state = os.path.join(self.work, "door")
        self.server = self.start_admitd()
        self.port = self.server.port

    def restart(self):
        self.assertEqual(self.server.stop(), 0)
        self.server = self.start_admitd("--listen", "127.0.0.1:%d" % self.port)

    def ticket(self, name):
        """Registers someone through the form; returns the payload of their ticket's QR code."""
        browser = Browser(self.server)
        form = open_form(browser, self.event.slug).fields(given_name=name)
        token = ticket_token(browser.post("/events/%s/register" % self.event.slug, form))
        payload = decode_qr_png(self.server.get("/tickets/%s/qr.png" % token).body, self.work)
        self.assertTrue(payload and payload.startswith("AD1:"), payload)
        return token, payload

    def scan(self, *payloads, timeout="3000"):
        done = run_scan(["--server", self.server.url, "--list", "Day 1", "--json", "--token",
                         self.device, "--timeout", timeout], payloads, state=self.state)
        return [(a["verdict"], a["offline"]) for a in scan_answers(done.stdout)]

    def sync_keys(self):
        r, body = harness.api_call(self.server, "GET", "/api/v1/events/%s/sync" % self.event.slug,
                                   token=self.device)
        self.assertEqual(r.status, 200, r.text)
        return sorted(k["key_id"] for k in body["keys"])

    def test_old_tickets_accepted_after_rotation(self):
        keys = self.keys
        first_token, first = self.ticket("Old")
        _, second = self.ticket("Older")
        old_id = key_id(keys, first)
        self.assertEqual(self.sync_keys(), [old_id])
        self.assertEqual(self.scan(first), [("valid", False)])
        stale_form = open_form(Browser(self.server), self.event.slug)

        # The rotation.
        os.rename(os.path.join(keys, "ticket-signing.pub"),
                  os.path.join(keys, "retired-%s.pub" % old_id))
        offline_copy = os.path.join(self.work, "offline-backup")
        os.mkdir(offline_copy, 0o700)
        shutil.move(os.path.join(keys, "ticket-signing.key"), offline_copy)
        new_id = run_admit("keygen", "--dir", keys).stdout.strip()
        self.assertNotEqual(new_id, old_id)
        self.restart()

        # New tickets carry the new key; the old ticket page still shows the ticket it showed.
        _, third = self.ticket("New")
        self.assertEqual(key_id(keys, third), new_id)
        self.assertEqual(decode_qr_png(self.server.get("/tickets/%s/qr.png" % first_token).body,
                                       self.work), first)
        self.assertEqual(self.sync_keys(), sorted([old_id, new_id]))
        # Online, old and new are accepted (the first one was already in).
        self.assertEqual(self.scan(first, second, third),
                         [("already_checked_in", False), ("valid", False), ("valid", False)])
        # Offline, the door that synced since knows both keys.
        _, fourth_old = self.ticket("Fourth")
        self.assertEqual(key_id(keys, fourth_old), new_id)
        # An old ticket nobody has scanned yet (signed with the retired secret key, kept aside).
        old_signer = harness.TicketSigner(offline_copy)
        late_old = old_signer.ticket(self.event.id, int(self.db.sql(
            "SELECT id FROM registrations WHERE given_name = 'Fourth'").strip()))
        self.assertEqual(key_id(keys, late_old, "retired-%s.pub" % old_id), old_id)
        self.assertEqual(self.server.stop(), 0)
        self.assertEqual(self.scan(late_old, timeout="1000"), [("valid", True)])
        self.server = self.start_admitd("--listen", "127.0.0.1:%d" % self.port)

        # A form opened before the restart was bound to the old key (CSRF): reloading helps.
        r = Browser(self.server).post("/events/%s/register" % self.event.slug,
                                      stale_form.fields(given_name="Stale"))
        self.assertEqual(r.status, 403)

        # Without the retired public key, the old tickets are no longer tickets of this server.
        os.unlink(os.path.join(keys, "retired-%s.pub" % old_id))
        self.restart()
        self.assertEqual(self.sync_keys(), [new_id])
        r, body = harness.api_call(self.server, "POST", "/api/v1/checkins", token=self.device,
                                   body={"payload": second, "list": "Day 1",
                                         "nonce": harness.new_nonce()})
        self.assertEqual((body["verdict"], body.get("reason")), ("invalid", "unknown_key"), body)


if __name__ == "__main__":
    harness.main()
