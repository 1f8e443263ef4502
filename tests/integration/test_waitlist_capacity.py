#!/usr/bin/env python3
"""The waiting list is served whenever seats appear (issue 16), from the command line and while
people are registering: `admit event capacity` raising a full event's capacity gives the new
seats to the first people waiting, in order, in its own transaction, and nobody registering at
the same moment jumps the queue. (The admin form's path: test_admin_pages.py.)

Each round: capacity 6, full, 3 waiting; then 16 people register concurrently over HTTP while
the capacity is raised to 8. Whatever the interleaving, the first two waiting are confirmed and
told by email, the third still waits, and every newcomer waits behind them.
"""

import threading

import harness
from harness import ServerTestCase, create_event, register, run_admit, run_threads, seat_counts

ROUNDS = 3
NEWCOMERS = 16


class RaiseCapacity(ServerTestCase):

    def statuses(self, ids):
        rows = self.db.sql("SELECT status FROM registrations WHERE id IN (%s) ORDER BY id"
                           % ",".join(ids))
        return rows.split()

    def run_round(self, server, number):
        event = create_event(self.db.dsn, capacity=6, name="Cluster Workshop %d" % number)
        for i in range(9):
            register(server, event.slug, email="r%d.p%d@example.org" % (number, i))
        waiting = self.db.sql("SELECT id FROM registrations WHERE event_id = %d AND status = "
                              "'waitlisted' ORDER BY id" % event.id).split()
        self.assertEqual(len(waiting), 3)
        before = set(self.db.sql("SELECT id FROM registrations WHERE event_id = %d"
                                 % event.id).split())

        start = threading.Barrier(NEWCOMERS + 1)
        outcome = {}

        def raise_capacity():
            start.wait()
            outcome["cli"] = run_admit("event", "capacity", "--db", self.db.dsn, "--event",
                                       event.slug, "--capacity", "8")

        def newcomer(i):
            start.wait()
            _, _, response = register(server, event.slug,
                                      email="r%d.new%d@example.org" % (number, i))
            self.assertEqual(response.status, 303, response.text[:300])

        raiser = threading.Thread(target=raise_capacity)
        raiser.start()
        run_threads(newcomer, range(NEWCOMERS), NEWCOMERS)
        raiser.join(timeout=120)
        self.assertIn("%s: 8 seats, 8 confirmed" % event.slug, outcome["cli"].stdout)

        self.assertEqual(self.statuses(waiting), ["confirmed", "confirmed", "waitlisted"])
        newcomers = set(self.db.sql("SELECT id FROM registrations WHERE event_id = %d"
                                    % event.id).split()) - before
        self.assertEqual(len(newcomers), NEWCOMERS)
        self.assertEqual(set(self.statuses(sorted(newcomers))), {"waitlisted"},
                         "someone registering at the same time took a seat ahead of the queue")
        told = self.db.sql("SELECT registration_id FROM mail_outbox WHERE kind = 'promoted' AND "
                           "registration_id IN (%s) ORDER BY registration_id"
                           % ",".join(waiting)).split()
        self.assertEqual(told, waiting[:2])
        self.assertEqual(seat_counts(self.db, event.id), (8, 1 + NEWCOMERS, 0, 0, 8))

    def test_raising_the_capacity_while_people_register(self):
        server = self.start_admitd("--threads", "8")
        for number in range(ROUNDS):
            self.run_round(server, number)

    def test_what_the_command_refuses(self):
        event = create_event(self.db.dsn, capacity=3, name="Dinner")
        server = self.start_admitd()
        for i in range(3):
            register(server, event.slug, email="d%d@example.org" % i)
        cases = [
            (["--event", event.slug, "--capacity", "2"], "fewer than the people already confirmed"),
            (["--event", "no-such-event", "--capacity", "9"], 'no event "no-such-event"'),
            (["--event", event.slug, "--capacity", "-1"], "--capacity"),
            (["--event", event.slug, "--capacity", "many"], "--capacity"),
            (["--event", event.slug], "--capacity"),
        ]
        for args, message in cases:
            done = run_admit("event", "capacity", "--db", self.db.dsn, *args, check=False)
            self.assertEqual(done.returncode, 2, (args, done.stderr))
            self.assertIn(message, done.stderr)
            self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
            self.assertEqual(done.stdout, "")
        self.assertEqual(seat_counts(self.db, event.id), (3, 0, 0, 0, 3))
        # Lowering to what is confirmed, then raising with nobody waiting: free seats.
        self.assertIn(": 3 seats, 3 confirmed, 0 waiting",
                      run_admit("event", "capacity", "--db", self.db.dsn, "--event", event.slug,
                                "--capacity", "3").stdout)
        run_admit("event", "capacity", "--db", self.db.dsn, "--event", event.slug,
                  "--capacity", "5")
        self.assertEqual(seat_counts(self.db, event.id), (3, 0, 0, 2, 5))


if __name__ == "__main__":
    harness.main()
