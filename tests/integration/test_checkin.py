#!/usr/bin/env python3
"""The check-in API, black box (issue 4): device tokens, every verdict, batches and nonces,
offline uploads and their reconciliation, the sync cursor, a token's view limited to its own
event, bad requests, and many doors at once. The scanner itself is test_scan.py.

Each test gets a fresh database with events made by `admit event create`, attendees registered
through admit_register (the form's SQL function), tickets signed in-process by
harness.TicketSigner (checked against `admit ticket` once), devices from `admit device add`, and
its own admitd. What is stored is checked through psql.
"""

import json
import os
import random
import threading

import harness
from harness import (ServerTestCase, TicketSigner, add_device, api_call, checkin_event,
                     new_nonce, psql, register_sql, run_admit)

CHECKINS = "/api/v1/checkins"


class CheckinCase(ServerTestCase):
    """Event "conf" (Day 1, Day 2, Cluster session), attendees on Day 1 only, a device "Gate A",
    and admitd."""

    def setUp(self):
        super().setUp()
        self.dsn = self.db.dsn
        self.event_id, self.lists = checkin_event(self.dsn, "conf")
        self.signer = TicketSigner(self.keys)
        self.token = add_device(self.dsn, "conf", "Gate A")
        self.server = self.start_admitd("--threads", "4")

    def ticket(self, registration_id, reissue=0, event_id=None):
        return self.signer.ticket(event_id or self.event_id, registration_id, reissue)

    def scan(self, payload, list_name="Day 1", token=None, **fields):
        body = {"payload": payload, "list": list_name, "nonce": fields.pop("nonce", new_nonce())}
        body.update(fields)
        r, answer = api_call(self.server, "POST", CHECKINS, token or self.token, body)
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertEqual(r.header("Cache-Control"), "no-store")
        return answer

    def batch(self, scans, token=None):
        r, answer = api_call(self.server, "POST", CHECKINS, token or self.token, {"scans": scans})
        self.assertEqual(r.status, 200, r.text)
        return answer["results"]

    def count(self, sql):
        return int(psql(self.dsn, sql).strip())


class Devices(CheckinCase):

    def test_token_shown_once_and_only_its_hash_stored(self):
        token = add_device(self.dsn, "conf", "Gate B")
        row = psql(self.dsn, "SELECT encode(token_hash, 'hex') = encode(sha256('%s'), 'hex'), "
                             "position('%s' IN d::text) FROM devices d WHERE name = 'Gate B'"
                   % (token, token)).strip()
        self.assertEqual(row, "t|0")  # the SHA-256 matches; the token itself is nowhere
        listed = run_admit("device", "list", "--db", self.dsn, "--event", "conf").stdout
        self.assertIn("Gate B", listed)
        self.assertNotIn(token, listed)
        as_json = json.loads(run_admit("device", "list", "--db", self.dsn, "--event", "conf",
                                       "--json").stdout)
        self.assertEqual(sorted(d["name"] for d in as_json), ["Gate A", "Gate B"])
        self.assertNotIn(token, json.dumps(as_json))

    def test_device_commands_refuse_bad_input(self):
        cases = [
            (["device", "add", "--db", self.dsn, "--event", "conf", "--name", "Gate A"],
             "already has a device called"),
            (["device", "add", "--db", self.dsn, "--event", "nope", "--name", "Gate Z"],
             "no event has the slug"),
            (["device", "add", "--db", self.dsn, "--event", "Bad Slug", "--name", "Gate Z"],
             "is not an event slug"),
            (["device", "add", "--db", self.dsn, "--event", "conf", "--name", ""],
             "cannot be empty"),
            (["device", "add", "--db", self.dsn, "--event", "conf", "--name", "x" * 101],
             "at most 100 characters"),
            (["device", "add", "--db", self.dsn, "--event", "conf", "--name", "a\nb"],
             "one line"),
            (["device", "revoke", "--db", self.dsn, "--event", "conf", "--name", "Gate Z"],
             "has no working device"),
            (["device", "list", "--db", self.dsn, "--event", "nope"], "no event has the slug"),
            (["device", "add", "--db", self.dsn, "--event", "conf"], "--name is required"),
        ]
        for args, message in cases:
            done = run_admit(*args, check=False)
            self.assertEqual(done.returncode, 2, (args, done.stderr))
            self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
            self.assertIn(message, done.stderr)
            self.assertEqual(done.stdout, "")
        self.assertEqual(self.count("SELECT count(*) FROM devices"), 1)

    def test_revoked_token_is_refused_at_once(self):
        reg = register_sql(self.dsn, "conf", 1, [self.lists["Day 1"]])[0]
        self.assertEqual(self.scan(self.ticket(reg))["verdict"], "valid")
        out = run_admit("device", "revoke", "--db", self.dsn, "--event", "conf", "--name",
                        "Gate A").stdout
        self.assertIn("revoked", out)
        for method, path, body in [("POST", CHECKINS, {"payload": "x", "list": "Day 1",
                                                       "nonce": new_nonce()}),
                                   ("GET", "/api/v1/events/conf/sync", None),
                                   ("GET", "/api/v1/device", None)]:
            r, answer = api_call(self.server, method, path, self.token, body)
            self.assertEqual(r.status, 401, path)
            self.assertEqual(answer["error"]["code"], "unauthorized")
            self.assertEqual(r.header("WWW-Authenticate"), 'Bearer realm="admit"')
        # A new device may take the revoked one's name.
        add_device(self.dsn, "conf", "Gate A")

    def test_missing_or_malformed_authorization(self):
        for headers in [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"},
                        {"Authorization": "Bearer " + self.token + "x"},
                        {"Authorization": "Bearer " + "A" * 22},  # well-formed, unknown
                        {"Authorization": "bearer  " + self.token[:-1] + "!"}]:
            r, answer = api_call(self.server, "GET", "/api/v1/device", headers=headers)
            self.assertEqual(r.status, 401, headers)
            self.assertEqual(answer["error"]["code"], "unauthorized")
        r, answer = api_call(self.server, "GET", "/api/v1/device",
                             headers={"Authorization": "bearer   " + self.token})
        self.assertEqual(r.status, 200)
        self.assertEqual(answer["device"]["name"], "Gate A")
        self.assertEqual(answer["event"]["slug"], "conf")
        self.assertEqual([l["name"] for l in answer["lists"]],
                         ["Day 1", "Day 2", "Cluster session"])

    def test_tokens_never_reach_the_log(self):
        reg = register_sql(self.dsn, "conf", 1, [self.lists["Day 1"]])[0]
        self.scan(self.ticket(reg))
        api_call(self.server, "GET", "/api/v1/events/conf/sync", self.token)
        api_call(self.server, "GET", "/api/v1/device", "B" * 22)
        self.server.wait_request_lines(lambda line: line["route"] == "/api/v1/device", 1)
        log = self.server.log_text()
        self.assertNotIn(self.token, log)
        self.assertNotIn("B" * 22, log)
        self.assertIn("route=/api/v1/checkins status=200", log)


class Verdicts(CheckinCase):

    def test_signer_matches_admit_ticket(self):
        made = run_admit("ticket", "--key", os.path.join(self.keys, "ticket-signing.key"),
                         "--event", "7", "--attendee", "42", "--reissue", "3").stdout.strip()
        self.assertEqual(self.signer.ticket(7, 42, 3), made)

    def test_every_verdict(self):
        day1, day2 = self.lists["Day 1"], self.lists["Day 2"]
        ada, grace, cancelled, reissued = register_sql(self.dsn, "conf", 4, [day1])
        both = register_sql(self.dsn, "conf", 1, [day1, day2])[0]
        psql(self.dsn, "SELECT admit_cancel(token) FROM registrations WHERE id = %d" % cancelled)
        psql(self.dsn, "UPDATE registrations SET reissue = 2 WHERE id = %d" % reissued)
        psql(self.dsn, "UPDATE registrations SET given_name = 'Ada', family_name = 'Lovelace', "
                       "organisation = 'Analytical Engines' WHERE id = %d" % ada)
        # Someone on the waiting list: an event of one seat, taken.
        other_id, other_lists = checkin_event(self.dsn, "small", capacity=1)
        register_sql(self.dsn, "small", 1, [other_lists["Day 1"]])
        waiting = register_sql(self.dsn, "small", 1, [other_lists["Day 1"]])[0]
        small_token = add_device(self.dsn, "small", "Door")

        first = self.scan(self.ticket(ada), gate="North door")
        self.assertEqual(first["verdict"], "valid")
        self.assertEqual(first["name"], "Ada Lovelace")
        self.assertEqual(first["organisation"], "Analytical Engines")
        self.assertEqual(first["registration_id"], ada)
        self.assertFalse(first["flagged"])
        again = self.scan(self.ticket(ada))
        self.assertEqual(again["verdict"], "already_checked_in")
        self.assertEqual(again["first_gate"], "North door")
        stored = psql(self.dsn, "SELECT admit_api_time(first_at) FROM admissions "
                                "WHERE registration_id = %d" % ada).strip()
        self.assertEqual(again["first_at"], stored)
        self.assertEqual(again["name"], "Ada Lovelace")
        # The default gate is the device's name.
        self.assertEqual(self.scan(self.ticket(grace))["verdict"], "valid")
        self.assertEqual(self.scan(self.ticket(grace))["first_gate"], "Gate A")

        r = self.scan(self.ticket(cancelled))
        self.assertEqual((r["verdict"], r["reason"]), ("revoked", "cancelled"))
        r = self.scan(self.ticket(reissued, reissue=1))
        self.assertEqual((r["verdict"], r["reason"]), ("revoked", "reissued"))
        r = self.scan(self.ticket(reissued, reissue=2))
        self.assertEqual(r["verdict"], "valid")
        r = self.scan(self.ticket(reissued, reissue=3))
        self.assertEqual((r["verdict"], r["reason"]), ("invalid", "unknown_reissue"))
        r = self.scan(self.signer.ticket(other_id, waiting), token=small_token)
        self.assertEqual(r["verdict"], "waitlisted")
        # A day-1-only ticket at the day-2 door; a two-day ticket there is fine.
        r = self.scan(self.ticket(grace), list_name="Day 2")
        self.assertEqual(r["verdict"], "not_on_list")
        self.assertEqual(r["list"], "Day 2")
        self.assertEqual(self.scan(self.ticket(both), list_name="Day 2")["verdict"], "valid")
        # Another event's ticket (signed with the same key).
        r = self.scan(self.signer.ticket(other_id, waiting))
        self.assertEqual(r["verdict"], "wrong_event")
        self.assertNotIn("name", r)  # nothing about another event's attendee
        self.assertNotIn("registration_id", r)

        good = self.ticket(ada)
        bad_signature = good[:-5] + ("0" if good[-5] != "0" else "1") + good[-4:]
        foreign = os.path.join(self.work, "foreign")
        run_admit("keygen", "--dir", foreign)
        invalid = {
            bad_signature: "bad_signature",
            TicketSigner(foreign).ticket(self.event_id, ada): "unknown_key",
            "hello": "not_a_ticket",
            "AD2:" + good[4:]: "unknown_version",
            good[:-3]: "wrong_length",
            "X" * 5000: "wrong_length",
            good[:10] + "#" + good[11:]: "malformed",
            self.ticket(99999): "unknown_attendee",
        }
        for payload, reason in invalid.items():
            r = self.scan(payload)
            self.assertEqual((r["verdict"], r["reason"]), ("invalid", reason), payload[:20])
        r = self.scan(self.ticket(grace), list_name="Day 9")
        self.assertEqual((r["verdict"], r["reason"]), ("invalid", "unknown_list"))
        # What a keyboard wedge types: CR LF, spaces, lower case.
        r = self.scan("  " + self.ticket(both).lower() + "\r\n", list_name="Cluster session")
        self.assertEqual(r["verdict"], "not_on_list")  # read correctly: both is not on it

        verdicts = psql(self.dsn, "SELECT verdict, count(*) FROM scans GROUP BY 1 ORDER BY 1")
        counts = dict(line.split("|") for line in verdicts.split())
        self.assertEqual(counts["valid"], "4")
        self.assertEqual(self.count("SELECT count(*) FROM admissions"), 4)

    def test_exit_and_re_entry(self):
        reg = register_sql(self.dsn, "conf", 1, [self.lists["Day 1"]])[0]
        t = self.ticket(reg)
        r = self.scan(t, direction="exit")
        self.assertEqual((r["verdict"], r["reason"], r["direction"]), ("valid", "not_inside",
                                                                      "exit"))
        self.assertEqual(self.scan(t)["verdict"], "valid")
        self.assertEqual(self.scan(t)["verdict"], "already_checked_in")
        self.assertEqual(self.scan(t, direction="exit")["reason"], "")
        self.assertEqual(psql(self.dsn, "SELECT inside FROM admissions").strip(), "f")
        # Back in: valid again, at two doors at once only one of them.
        results = []
        threads = [threading.Thread(target=lambda: results.append(self.scan(t)["verdict"]))
                   for _ in range(6)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        self.assertEqual(sorted(results), ["already_checked_in"] * 5 + ["valid"])
        self.assertEqual(self.scan(t)["verdict"], "already_checked_in")
        # An exit scanned earlier than the last entry, uploaded late, does not let them out.
        r = self.scan(t, direction="exit", scanned_at="2000-01-01T10:00:00Z", offline=True)
        self.assertEqual(r["reason"], "not_inside")
        self.assertEqual(psql(self.dsn, "SELECT inside FROM admissions").strip(), "t")


class BatchesAndNonces(CheckinCase):

    def test_same_nonce_twice_is_one_scan(self):
        reg = register_sql(self.dsn, "conf", 1, [self.lists["Day 1"]])[0]
        nonce = new_nonce()
        first = self.scan(self.ticket(reg), nonce=nonce)
        second = self.scan(self.ticket(reg), nonce=nonce)
        self.assertEqual(first["verdict"], "valid")
        self.assertFalse(first["replayed"])
        self.assertEqual(second["verdict"], "valid")  # the same answer, not a duplicate
        self.assertTrue(second["replayed"])
        self.assertEqual(self.count("SELECT count(*) FROM scans"), 1)
        # The same nonce from another device is another scan.
        other = add_device(self.dsn, "conf", "Gate B")
        self.assertEqual(self.scan(self.ticket(reg), nonce=nonce, token=other)["verdict"],
                         "already_checked_in")
        # Many copies of one nonce at once (a retry storm) still make one scan.
        nonce = new_nonce()
        reg2 = register_sql(self.dsn, "conf", 1, [self.lists["Day 1"]])[0]
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(
            self.scan(self.ticket(reg2), nonce=nonce)["verdict"])) for _ in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        self.assertEqual(answers, ["valid"] * 8)
        self.assertEqual(self.count("SELECT count(*) FROM scans WHERE client_nonce = '%s'"
                                    % nonce), 1)

    def test_nonce_reused_for_another_scan_is_409(self):
        """Issue 14, item 5: the same nonce with another ticket, list or direction was answered
        with the earlier scan (the door would show the wrong person). Now 409 nonce_reused,
        nothing stored; an honest retry of the same scan is still replayed."""
        ada, bob = register_sql(self.dsn, "conf", 2, [self.lists["Day 1"]])
        nonce = new_nonce()
        first = self.scan(self.ticket(ada), nonce=nonce)
        self.assertEqual(first["verdict"], "valid")
        name = first["name"]
        for other in [dict(payload=self.ticket(bob)), dict(list="Day 2"),
                      dict(direction="exit"), dict(payload=self.ticket(ada, reissue=1)),
                      dict(payload="NOT A TICKET", offline=True)]:
            body = {"payload": self.ticket(ada), "list": "Day 1", "nonce": nonce}
            body.update(other)
            r, answer = api_call(self.server, "POST", CHECKINS, self.token, body)
            self.assertEqual(r.status, 409, (other, r.text))
            self.assertEqual(r.header("Content-Type"), "application/json")
            self.assertEqual(set(answer), {"nonce", "error"})
            self.assertEqual(answer["nonce"], nonce)
            self.assertEqual(answer["error"]["status"], 409)
            self.assertEqual(answer["error"]["code"], "nonce_reused")
            self.assertIn("nonce of its own", answer["error"]["message"])
            self.assertNotIn(name, r.text)
        self.assertEqual(self.count("SELECT count(*) FROM scans"), 1)
        self.assertEqual(self.count("SELECT count(*) FROM admissions WHERE registration_id = %d"
                                    % bob), 0)
        # In a batch, that scan alone is refused.
        fresh = {"payload": self.ticket(bob), "list": "Day 1", "nonce": new_nonce()}
        results = self.batch([fresh, {"payload": self.ticket(bob), "list": "Day 1",
                                      "nonce": nonce}])
        self.assertEqual(results[0]["verdict"], "valid")
        self.assertEqual(results[1], {"nonce": nonce, "error": {
            "status": 409, "code": "nonce_reused", "message": results[1]["error"]["message"]}})
        self.assertIn("scan 2", results[1]["error"]["message"])
        # The same scan again, alone, in a batch, or uploaded as offline: replayed.
        again = self.scan(self.ticket(ada), nonce=nonce)
        self.assertEqual((again["verdict"], again["replayed"], again["name"]),
                         ("valid", True, name))
        self.assertTrue(self.batch([{"payload": self.ticket(ada), "list": "Day 1",
                                     "nonce": nonce, "offline": True}])[0]["replayed"])
        self.assertEqual(self.count("SELECT count(*) FROM scans"), 2)
        self.assertIn("note=scan-refused", self.server.log_text())

    def test_batch_reconciled_in_scan_time_order(self):
        reg = register_sql(self.dsn, "conf", 1, [self.lists["Day 1"]])[0]
        t = self.ticket(reg)
        scans = [{"payload": t, "list": "Day 1", "nonce": new_nonce(), "scanned_at": at,
                  "gate": gate}
                 for at, gate in [("2030-05-01T10:00:03Z", "late"),
                                  ("2030-05-01T09:59:58+00:00", "early"),
                                  ("2030-05-01T12:00:01+02:00", "middle")]]
        results = self.batch(scans)
        self.assertEqual([r["nonce"] for r in results], [s["nonce"] for s in scans])
        self.assertEqual([r["verdict"] for r in results],
                         ["already_checked_in", "valid", "already_checked_in"])
        self.assertEqual(results[0]["first_gate"], "early")
        self.assertEqual(results[0]["first_at"], "2030-05-01T09:59:58.000Z")
        # A single scan without scanned_at is stamped with the server's clock.
        reg2 = register_sql(self.dsn, "conf", 1, [self.lists["Day 1"]])[0]
        self.assertEqual(self.scan(self.ticket(reg2))["verdict"], "valid")
        self.assertEqual(psql(self.dsn, "SELECT abs(extract(epoch FROM now() - first_at)) < 60 "
                                        "FROM admissions WHERE registration_id = %d" % reg2)
                         .strip(), "t")

    def test_batch_of_many(self):
        regs = register_sql(self.dsn, "conf", 250, [self.lists["Day 1"]])
        scans = [{"payload": self.ticket(r), "list": "Day 1", "nonce": new_nonce()}
                 for r in regs + regs[:50]]
        results = []
        for i in range(0, len(scans), 100):
            results += self.batch(scans[i:i + 100])
        verdicts = [r["verdict"] for r in results]
        self.assertEqual(verdicts.count("valid"), 250)
        self.assertEqual(verdicts.count("already_checked_in"), 50)


class OfflineUploads(CheckinCase):

    def test_earliest_entry_wins_and_conflicts_are_flagged(self):
        reg, late = register_sql(self.dsn, "conf", 2, [self.lists["Day 1"]])
        t = self.ticket(reg)
        other = add_device(self.dsn, "conf", "Gate B")
        online = self.scan(t, scanned_at="2030-05-01T10:00:00Z")
        self.assertEqual(online["verdict"], "valid")
        # Gate B was offline and let the same person in at 09:58: that was the first entry.
        r = self.scan(t, token=other, scanned_at="2030-05-01T09:58:00Z", offline=True,
                      door_verdict="valid")
        self.assertEqual(r["verdict"], "valid")
        row = psql(self.dsn, "SELECT first_gate, admit_api_time(first_at) FROM admissions "
                             "WHERE registration_id = %d" % reg).strip()
        self.assertEqual(row, "Gate B|2030-05-01T09:58:00.000Z")
        flagged = psql(self.dsn, "SELECT gate, verdict, reason FROM scans WHERE flagged").strip()
        self.assertEqual(flagged, "Gate A|already_checked_in|offline_conflict")
        # A later offline entry that the door let in is a duplicate: stored, flagged.
        r = self.scan(t, token=other, scanned_at="2030-05-01T11:00:00Z", offline=True,
                      door_verdict="valid")
        self.assertEqual((r["verdict"], r["flagged"]), ("already_checked_in", True))
        self.assertEqual(r["first_gate"], "Gate B")
        self.assertEqual(self.count("SELECT count(*) FROM scans WHERE flagged"), 2)
        # An offline scan the door refused admits nobody and is not flagged.
        r = self.scan(self.ticket(late), token=other, offline=True,
                      door_verdict="already_checked_in")
        self.assertEqual((r["verdict"], r["reason"], r["flagged"]),
                         ("already_checked_in", "refused_offline", False))
        self.assertEqual(self.count("SELECT count(*) FROM admissions WHERE registration_id = %d"
                                    % late), 0)
        # A cancelled ticket let in offline: refused on upload, flagged for the organisers.
        psql(self.dsn, "SELECT admit_cancel(token) FROM registrations WHERE id = %d" % late)
        r = self.scan(self.ticket(late), token=other, offline=True)
        self.assertEqual((r["verdict"], r["reason"], r["flagged"]), ("revoked", "cancelled",
                                                                     True))
        self.assertEqual(self.count("SELECT count(*) FROM scans WHERE flagged"), 3)

    def test_online_attempt_lost_then_uploaded_offline(self):
        # The answer to an online try never reached the door, which then let the person in
        # offline and uploads the same nonce: the server keeps its first answer and flags it.
        reg = register_sql(self.dsn, "conf", 1, [self.lists["Day 1"]])[0]
        t = self.ticket(reg)
        self.assertEqual(self.scan(t)["verdict"], "valid")
        nonce = new_nonce()
        self.assertEqual(self.scan(t, nonce=nonce)["verdict"], "already_checked_in")
        r = self.scan(t, nonce=nonce, offline=True, door_verdict="valid")
        self.assertEqual((r["verdict"], r["flagged"], r["replayed"]),
                         ("already_checked_in", True, True))
        self.assertEqual(self.count("SELECT count(*) FROM scans"), 2)


class Sync(CheckinCase):

    def sync(self, since=None, token=None, slug="conf"):
        path = "/api/v1/events/%s/sync" % slug
        if since is not None:
            from urllib.parse import quote
            path += "?since=" + quote(since)
        r, body = api_call(self.server, "GET", path, token or self.token)
        return r, body

    def test_full_then_incremental(self):
        day1 = self.lists["Day 1"]
        regs = register_sql(self.dsn, "conf", 3, [day1])
        self.scan(self.ticket(regs[0]))
        r, full = self.sync()
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertTrue(full["full"])
        self.assertEqual(full["event"]["slug"], "conf")
        self.assertEqual(full["device"]["name"], "Gate A")
        pub = open(os.path.join(self.keys, "ticket-signing.pub")).read().split()[1]
        self.assertEqual([k["public_key"] for k in full["keys"]], [pub])
        self.assertEqual(full["keys"][0]["key_id"], self.signer.key_id.hex())
        self.assertEqual([l["name"] for l in full["lists"]], ["Day 1", "Day 2",
                                                               "Cluster session"])
        self.assertEqual([x["id"] for x in full["registrations"]], regs)
        self.assertEqual(full["registrations"][1]["lists"], [day1])
        self.assertEqual(full["registrations"][1]["status"], "confirmed")
        self.assertTrue(full["registrations"][1]["name"].startswith("Guest Number"))
        self.assertEqual([(a["registration_id"], a["first_gate"], a["inside"])
                          for a in full["admissions"]], [(regs[0], "Gate A", True)])

        r, same = self.sync(full["cursor"])
        self.assertFalse(same["full"])
        self.assertEqual((same["registrations"], same["admissions"]), ([], []))
        # Changes since: a cancellation, a reissue, a new registration, an admission, a new list
        # for someone (the trigger on registration_lists), a renamed attendee.
        psql(self.dsn, "SELECT admit_cancel(token) FROM registrations WHERE id = %d" % regs[1])
        psql(self.dsn, "UPDATE registrations SET reissue = 1 WHERE id = %d" % regs[2])
        new = register_sql(self.dsn, "conf", 1, [day1])[0]
        self.scan(self.ticket(regs[2], reissue=1))
        r, delta = self.sync(full["cursor"])
        self.assertEqual(sorted(x["id"] for x in delta["registrations"]),
                         sorted([regs[1], regs[2], new]))
        changed = {x["id"]: x for x in delta["registrations"]}
        self.assertEqual(changed[regs[1]]["status"], "cancelled")
        self.assertEqual(changed[regs[2]]["reissue"], 1)
        self.assertEqual([a["registration_id"] for a in delta["admissions"]], [regs[2]])
        psql(self.dsn, "INSERT INTO registration_lists VALUES (%d, %d)"
                       % (regs[0], self.lists["Day 2"]))
        r, delta2 = self.sync(delta["cursor"])
        self.assertEqual([(x["id"], x["lists"]) for x in delta2["registrations"]],
                         [(regs[0], sorted([day1, self.lists["Day 2"]]))])
        # An exit changes an admission.
        self.scan(self.ticket(regs[0]), direction="exit")
        r, delta3 = self.sync(delta2["cursor"])
        self.assertEqual([(a["registration_id"], a["inside"]) for a in delta3["admissions"]],
                         [(regs[0], False)])

    def test_cursor_misses_no_commit_out_of_order(self):
        # A transaction that stamps its change first but commits after a later one must still
        # reach a device that synced in between (a max-number cursor would skip it).
        reg = register_sql(self.dsn, "conf", 2, [self.lists["Day 1"]])
        import subprocess
        slow = subprocess.Popen(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.dsn],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        slow.stdin.write("BEGIN;\nSELECT admit_cancel(token) FROM registrations WHERE id = %d;\n"
                         "SELECT pg_sleep(3);\nCOMMIT;\n" % reg[0])
        slow.stdin.flush()
        harness.wait_until(lambda: psql(self.dsn, "SELECT count(*) FROM pg_stat_activity "
                                                  "WHERE query LIKE '%%pg_sleep%%' AND state = "
                                                  "'active' AND pid <> pg_backend_pid()")
                           .strip() == "1", timeout=20)
        psql(self.dsn, "UPDATE registrations SET reissue = 1 WHERE id = %d" % reg[1])
        r, first = self.sync()
        self.assertEqual({x["id"]: x["status"] for x in first["registrations"]}[reg[0]],
                         "confirmed")  # the slow cancellation has not committed yet
        slow.stdin.close()
        self.assertEqual(slow.wait(timeout=60), 0, slow.stderr.read())
        r, second = self.sync(first["cursor"])
        self.assertEqual([(x["id"], x["status"]) for x in second["registrations"]],
                         [(reg[0], "cancelled")])

    def test_other_events_and_bad_cursors(self):
        checkin_event(self.dsn, "other")
        other_token = add_device(self.dsn, "other", "Door")
        for slug in ["other", "nope", "BAD_SLUG"]:
            r, body = self.sync(slug=slug)
            self.assertEqual(r.status, 404, slug)
            self.assertEqual(body["error"]["code"], "not_found")
            self.assertNotIn("other", json.dumps(body).replace('"not_found"', ""))
        r, body = self.sync(slug="other", token=other_token)
        self.assertEqual(r.status, 200)
        self.assertEqual(body["registrations"], [])
        for cursor in ["abc", "1:2", "1:2:3,", "::", "5:3:", "1:2:3:4", "1" * 9000]:
            r, body = self.sync(cursor)
            self.assertEqual(r.status, 400, cursor[:20])
            self.assertEqual(body["error"]["code"], "bad_cursor")
        r, body = self.sync("")  # an empty cursor: everything
        self.assertTrue(body["full"])
        # A cursor from another database (ahead of this one) gets everything.
        r, body = self.sync("999999999:999999999:")
        self.assertTrue(body["full"])
        r, body = api_call(self.server, "GET", "/api/v1/events/conf/sync")
        self.assertEqual(r.status, 401)

    def test_a_token_sees_only_its_event(self):
        other_id, other_lists = checkin_event(self.dsn, "other")
        secret = register_sql(self.dsn, "other", 1, [other_lists["Day 1"]])[0]
        psql(self.dsn, "UPDATE registrations SET given_name = 'Secret' WHERE id = %d" % secret)
        r = self.scan(self.signer.ticket(other_id, secret), list_name="Day 1")
        self.assertEqual(r["verdict"], "wrong_event")
        self.assertNotIn("Secret", json.dumps(r))
        r, body = self.sync()
        self.assertNotIn("Secret", json.dumps(body))
        self.assertEqual(self.count("SELECT count(*) FROM admissions"), 0)


class BadRequests(CheckinCase):

    def post(self, body, content_type="application/json", token=None):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        r, answer = api_call(self.server, "POST", CHECKINS, token or self.token, data,
                             headers={"Content-Type": content_type})
        return r, answer

    def test_refused_with_stable_codes_and_nothing_stored(self):
        good = {"payload": "x", "list": "Day 1", "nonce": new_nonce()}
        cases = [
            ("{", 400, "invalid_json"),
            ('{"payload": "x", "payload": "y", "list": "Day 1", "nonce": "abcdefgh"}', 400,
             "invalid_json"),
            ('"just a string"', 400, "invalid_json"),
            ("[]", 400, "not_an_object"),
            ("", 400, "invalid_json"),
            (b'{"payload": "\xff", "list": "Day 1", "nonce": "abcdefgh"}', 400, "invalid_json"),
            ('{"payload": "a\\u0000b", "list": "Day 1", "nonce": "abcdefgh"}', 400,
             "invalid_json"),
            (dict(good, payload=12), 400, "wrong_type"),
            (dict(good, list=None), 400, "wrong_type"),
            (dict(good, offline="yes"), 400, "wrong_type"),
            (dict(good, gate=["A"]), 400, "wrong_type"),
            (dict(good, colour="red"), 400, "unknown_field"),
            ({"payload": "x", "list": "Day 1"}, 400, "missing_field"),
            ({"list": "Day 1", "nonce": "abcdefgh"}, 400, "missing_field"),
            (dict(good, nonce="short"), 400, "invalid_value"),
            (dict(good, nonce="has spaces in it"), 400, "invalid_value"),
            (dict(good, nonce="n" * 65), 400, "invalid_value"),
            (dict(good, direction="sideways"), 400, "invalid_value"),
            (dict(good, scanned_at="yesterday"), 400, "invalid_value"),
            (dict(good, scanned_at="2030-02-30T10:00:00Z"), 400, "invalid_value"),
            (dict(good, scanned_at="2030-01-01T24:00:00Z"), 400, "invalid_value"),
            (dict(good, scanned_at="2030-01-01T10:00:00"), 400, "invalid_value"),
            (dict(good, door_verdict="maybe"), 400, "invalid_value"),
            (dict(good, list=""), 400, "invalid_value"),
            (dict(good, list="L" * 101), 400, "invalid_value"),
            (dict(good, list="Day\n1"), 400, "invalid_value"),
            (dict(good, gate="G" * 101), 400, "invalid_value"),
            ({"scans": []}, 400, "empty_batch"),
            ({"scans": {}}, 400, "wrong_type"),
            ({"scans": [good], "extra": 1}, 400, "unknown_field"),
            ({"scans": [dict(good, nonce=new_nonce()) for _ in range(501)]}, 413,
             "too_many_scans"),
        ]
        for body, status, code in cases:
            r, answer = self.post(body)
            self.assertEqual(r.status, status, (body if len(str(body)) < 200 else code, r.text))
            self.assertEqual(r.header("Content-Type"), "application/json")
            self.assertEqual(answer["error"]["code"], code, body)
            self.assertEqual(answer["error"]["status"], status)
            self.assertTrue(answer["error"]["message"])
        r, answer = self.post(json.dumps(good), content_type="text/plain")
        self.assertEqual((r.status, answer["error"]["code"]), (415, "unsupported_media_type"))
        # Over the body limit (64 KiB by default): 413 from the framework, still JSON.
        r, answer = self.post({"scans": [dict(good, payload="P" * 70000)]})
        self.assertEqual((r.status, answer["error"]["code"]), (413, "too_large"))
        self.assertEqual(self.count("SELECT count(*) FROM scans"), 0)
        # And the server answers as before.
        reg = register_sql(self.dsn, "conf", 1, [self.lists["Day 1"]])[0]
        self.assertEqual(self.scan(self.ticket(reg))["verdict"], "valid")
        r, _ = api_call(self.server, "GET", CHECKINS, self.token)
        self.assertEqual(r.status, 405)


    def test_scanned_at_offset_beyond_what_postgresql_takes(self):
        """Issue 14, item 6: PostgreSQL takes UTC offsets up to 15:59; beyond, a scan was a 500
        (and failed its whole batch). Now 400 invalid_value for that scan, nothing stored."""
        reg = register_sql(self.dsn, "conf", 1, [self.lists["Day 1"]])[0]
        for at in ["2030-05-01T10:00:00+16:00", "2030-05-01T10:00:00-16:00",
                   "2030-05-01T10:00:00+23:59", "2030-05-01T10:00:00.5-23:00"]:
            r, answer = self.post({"payload": self.ticket(reg), "list": "Day 1",
                                   "nonce": new_nonce(), "scanned_at": at})
            self.assertEqual(r.status, 400, (at, r.text))
            self.assertEqual(answer["error"]["code"], "invalid_value")
            self.assertIn("15:59", answer["error"]["message"])
        self.assertEqual(self.count("SELECT count(*) FROM scans"), 0)
        # The widest offsets PostgreSQL takes are times like any other.
        answer = self.scan(self.ticket(reg), scanned_at="2030-05-01T10:00:00+15:59")
        self.assertEqual(answer["verdict"], "valid")
        self.assertEqual(psql(self.dsn, "SELECT first_at = '2030-04-30T18:01:00Z' FROM admissions")
                         .strip(), "t")

    def test_a_bad_scan_in_a_batch_is_answered_alone(self):
        """A batch is answered scan by scan: a scan the server cannot take gets an error object
        in its place ({"nonce", "error": {"status", "code", "message"}}), the others their
        verdicts, in the same transaction; only the batch's envelope is refused whole."""
        regs = register_sql(self.dsn, "conf", 3, [self.lists["Day 1"]])
        scans = [{"payload": self.ticket(r), "list": "Day 1", "nonce": new_nonce()} for r in regs]
        scans[1]["scanned_at"] = "2030-05-01T10:00:00+16:00"
        bad_nonce = dict(scans[2], nonce="bad nonce")
        results = self.batch([scans[0], scans[1], bad_nonce, 5,
                              dict(scans[2], colour="red"), scans[2]])
        self.assertEqual(len(results), 6)
        self.assertEqual((results[0]["nonce"], results[0]["verdict"]),
                         (scans[0]["nonce"], "valid"))
        self.assertEqual(results[1]["nonce"], scans[1]["nonce"])
        self.assertNotIn("verdict", results[1])
        self.assertEqual(results[1]["error"]["status"], 400)
        self.assertEqual(results[1]["error"]["code"], "invalid_value")
        self.assertIn("\"scanned_at\" of scan 2", results[1]["error"]["message"])
        # A nonce that is not one is not echoed; a scan that is not an object has none.
        self.assertEqual((results[2]["error"]["code"], "nonce" in results[2]),
                         ("invalid_value", False))
        self.assertEqual(results[3]["error"]["code"], "not_an_object")
        self.assertEqual((results[4]["error"]["code"], results[4]["nonce"]),
                         ("unknown_field", scans[2]["nonce"]))
        self.assertEqual(results[5]["verdict"], "valid")
        self.assertEqual(self.count("SELECT count(*) FROM scans"), 2)
        self.assertEqual(self.count("SELECT count(*) FROM admissions"), 2)
        # The refused scan sent again, mended, with its nonce: checked in.
        mended = dict(scans[1], scanned_at="2030-05-01T10:00:00+02:00")
        self.assertEqual(self.batch([mended])[0]["verdict"], "valid")
        # A batch of nothing but refusals is still answered scan by scan, for a known token.
        results = self.batch([dict(scans[0], direction="sideways")])
        self.assertEqual(results[0]["error"]["code"], "invalid_value")
        r, answer = api_call(self.server, "POST", CHECKINS, "x" * 22,
                             {"scans": [dict(scans[0], direction="sideways")]})
        self.assertEqual(r.status, 401)


class ManyDoors(CheckinCase):

    def test_eight_doors_same_tickets(self):
        regs = register_sql(self.dsn, "conf", 300, [self.lists["Day 1"]])
        tickets = [self.ticket(r) for r in regs]
        tokens = [self.token] + [add_device(self.dsn, "conf", "Gate %d" % i) for i in range(7)]
        verdicts = []
        lock = threading.Lock()

        def door(token):
            order = tickets[:]
            random.shuffle(order)
            mine = []
            for i in range(0, len(order), 25):  # small batches, as an uploading door sends
                scans = [{"payload": t, "list": "Day 1", "nonce": new_nonce()}
                         for t in order[i:i + 25]]
                r, answer = api_call(self.server, "POST", CHECKINS, token, {"scans": scans},
                                     timeout=120)
                assert r.status == 200, r.text
                mine += [x["verdict"] for x in answer["results"]]
            with lock:
                verdicts.extend(mine)

        threads = [threading.Thread(target=door, args=(t,)) for t in tokens]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        self.assertEqual(verdicts.count("valid"), 300)
        self.assertEqual(verdicts.count("already_checked_in"), 7 * 300)
        self.assertEqual(self.count("SELECT count(*) FROM admissions"), 300)
        self.assertEqual(self.count("SELECT count(*) FROM scans"), 8 * 300)


class DoorScansInGroups(CheckinCase):
    """Single online entries are decided on admitd's check-in worker, in groups (one statement,
    one transaction for the scans of all doors waiting), while the HTTP threads go on serving."""

    private_cluster = True

    def door_loop(self, token, tickets, answers, stop=None, lost=None):
        """Scans tickets one by one, one request each, until done or stop is set; appends
        (status, verdict or None) per request; a refused or broken connection ends it (the scan
        it was sending goes to lost, as (token, body): its answer never came)."""
        for t in tickets:
            if stop is not None and stop.is_set():
                return
            body = {"payload": t, "list": "Day 1", "nonce": new_nonce()}
            try:
                r, answer = api_call(self.server, "POST", CHECKINS, token, body, timeout=30)
            except OSError:
                if lost is not None:
                    lost.append((token, body))
                return
            answers.append((r.status, answer.get("verdict") if r.status == 200 else None))

    def test_many_doors_one_by_one(self):
        regs = register_sql(self.dsn, "conf", 200, [self.lists["Day 1"]])
        tickets = [self.ticket(r) for r in regs]
        tokens = [self.token] + [add_device(self.dsn, "conf", "Gate %d" % i) for i in range(7)]
        results = [[] for _ in tokens]
        threads = [threading.Thread(target=self.door_loop,
                                    args=(tok, random.sample(tickets, len(tickets)), results[i]))
                   for i, tok in enumerate(tokens)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        verdicts = [v for door in results for (status, v) in door]
        self.assertEqual(len(verdicts), 8 * 200)
        self.assertEqual(verdicts.count("valid"), 200)
        self.assertEqual(verdicts.count("already_checked_in"), 7 * 200)
        self.assertEqual(self.count("SELECT count(*) FROM admissions"), 200)
        self.assertEqual(self.count("SELECT count(*) FROM scans"), 8 * 200)
        self.assertEqual(self.server.stop(), 0)
        # Every scan went through the worker: the scans the group statement decided, in groups.
        m = self.server.wait_log(r"door scans: (\d+) in (\d+) groups")
        self.assertIsNotNone(m, self.server.log_text())
        self.assertGreaterEqual(int(m.group(1)), 200)  # the first of each ticket at least
        self.assertLessEqual(int(m.group(2)), int(m.group(1)))

    def test_database_lost_and_back(self):
        reg = register_sql(self.dsn, "conf", 2, [self.lists["Day 1"]])
        self.assertEqual(self.scan(self.ticket(reg[0]))["verdict"], "valid")
        self.cluster.stop()
        r, answer = api_call(self.server, "POST", CHECKINS, self.token,
                             {"payload": self.ticket(reg[1]), "list": "Day 1",
                              "nonce": new_nonce()})
        self.assertEqual(r.status, 503, r.text)
        self.assertEqual(r.header("Retry-After"), "5")
        self.assertEqual(answer["error"]["code"], "unavailable")
        self.cluster.start()
        # The worker reconnects by itself (after its back-off), without a restart of admitd.
        def back():
            r, answer = api_call(self.server, "POST", CHECKINS, self.token,
                                 {"payload": self.ticket(reg[1]), "list": "Day 1",
                                  "nonce": new_nonce()})
            return r.status == 200 and answer["verdict"] == "valid"
        self.assertTrue(harness.wait_until(back, timeout=20), self.server.log_text())
        self.assertEqual(self.count("SELECT count(*) FROM admissions"), 2)

    def test_sigterm_while_doors_scan(self):
        regs = register_sql(self.dsn, "conf", 400, [self.lists["Day 1"]])
        tickets = [self.ticket(r) for r in regs]
        tokens = [self.token] + [add_device(self.dsn, "conf", "Gate %d" % i) for i in range(3)]
        stop = threading.Event()
        results = [[] for _ in tokens]
        lost = []
        threads = [threading.Thread(target=self.door_loop,
                                    args=(tok, tickets[i::4], results[i], stop, lost))
                   for i, tok in enumerate(tokens)]
        for th in threads:
            th.start()
        self.assertTrue(harness.wait_until(lambda: sum(map(len, results)) >= 40, timeout=30))
        status = self.server.stop()
        stop.set()
        for th in threads:
            th.join()
        self.assertEqual(status, 0, self.server.log_text())
        # Draining lets the scans in the worker's hands finish and reach their doors: each scan
        # answered was stored. A scan whose answer was lost (a door's last request, sent as the
        # server went) may have been stored or not; the door sends it again with its nonce
        # when the server is back, and it then counts once.
        answered = [v for door in results for (code, v) in door]
        self.assertTrue(all(v == "valid" for v in answered), answered)
        self.assertLessEqual(len(lost), len(tokens))
        stored = self.count("SELECT count(*) FROM scans")
        self.assertGreaterEqual(stored, len(answered))
        self.assertLessEqual(stored, len(answered) + len(lost))
        self.server = self.start_admitd("--threads", "4")
        for token, body in lost:
            for _ in range(2):  # and a retry of the retry answers the same
                r, answer = api_call(self.server, "POST", CHECKINS, token, body)
                self.assertEqual(r.status, 200, r.text)
                self.assertEqual(answer["verdict"], "valid")
        self.assertEqual(self.count("SELECT count(*) FROM scans"), len(answered) + len(lost))
        self.assertEqual(self.count("SELECT count(*) FROM admissions"), len(answered) + len(lost))

if __name__ == "__main__":
    harness.main()
