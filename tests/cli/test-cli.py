#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The cli suite: runs the built `dermaroll` against temporary histories.

Usage: test-cli.py DERMAROLL CLI_FIXTURE  (prints TAP)

Every test gets its own folder for XDG_DATA_HOME, XDG_CONFIG_HOME and HOME,
so nothing touches the real home.  The clock is pinned with
DERMAROLL_TEST_NOW, the time zone is Europe/Berlin and the locale C.UTF-8,
so the expected lines below are exact.  cli-fixture writes the history the
expected output describes (see cli-fixture.c).
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import traceback

DERMAROLL = os.path.abspath(sys.argv[1])
FIXTURE = os.path.abspath(sys.argv[2])
NOW = "2026-12-12T11:00:00Z"          # Sat 12 Dec 2026 12:00 in Berlin

ZONES = ("forehead, left-cheek, right-cheek, nose, chin, upper-lip, neck, "
         "decolletage, hands, scalp")


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def equal(got, want, what="output"):
    if got != want:
        raise Failure("%s differs:\n--- want\n%s\n--- got\n%s" % (what, want, got))


class Sandbox:
    """A home, a data folder and a config folder of our own."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="dermaroll-cli-")
        self.home = os.path.join(self.root, "home")
        self.data = os.path.join(self.root, "data")
        self.config = os.path.join(self.root, "config")
        for d in (self.home, self.data, self.config):
            os.mkdir(d)
        self.db = os.path.join(self.root, "history.db")

    def fixture(self, path=None):
        path = path or self.db
        subprocess.run([FIXTURE, path], check=True, env=self.env())
        return path

    def env(self, now=NOW):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.home,
            "XDG_DATA_HOME": self.data,
            "XDG_CONFIG_HOME": self.config,
            "TZ": "Europe/Berlin",
            "LC_ALL": "C.UTF-8",
            "DERMAROLL_TEST_NOW": now,
        }
        if "DERMAROLL_DATA_DIR" in os.environ:
            env["DERMAROLL_DATA_DIR"] = os.environ["DERMAROLL_DATA_DIR"]
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        return env

    def run(self, *args, db=True, now=NOW, status=0):
        argv = [DERMAROLL] + list(args)
        if db:
            argv += ["--database", self.db if db is True else db]
        p = subprocess.run(argv, env=self.env(now), capture_output=True,
                           text=True, timeout=60)
        if p.returncode != status:
            raise Failure("%s: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s"
                          % (" ".join(args), p.returncode, status, p.stdout,
                             p.stderr))
        return p

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


def lines(text):
    return text.splitlines()


def snapshot(path):
    """The file's bytes and which companions exist beside it."""
    with open(path, "rb") as f:
        data = f.read()
    return (data, os.path.exists(path + "-wal"), os.path.exists(path + "-shm"),
            oct(os.stat(path).st_mode & 0o777))


# ---- Expected output for the fixture at NOW ----

STATUS = """\
Now: Sat 12 Dec 2026 12:00

Roller Bathroom roller (DR-SIM-0001)
  Head H-0042, 0.5 mm, fitted Mon 9 Nov 2026: 2 of 10 sessions, 33 of 42 days: fine.
  Zone         Next allowed           Last treated           Interval
  Forehead     Mon 14 Dec 2026 19:10  Mon 23 Nov 2026 19:10  21 days (heads up to 0.5 mm)
  Left cheek   Mon 14 Dec 2026 19:15  Mon 23 Nov 2026 19:15  21 days (heads up to 0.5 mm)
  Right cheek  now                    never                  21 days (heads up to 0.5 mm)
  Nose         now                    never                  21 days (heads up to 0.5 mm)
  Chin         now                    never                  21 days (heads up to 0.5 mm)
  Upper lip    now                    never                  21 days (heads up to 0.5 mm)
  Neck         now                    never                  21 days (heads up to 0.5 mm)
  Décolletage  now                    never                  21 days (heads up to 0.5 mm)
  Hands        now                    never                  21 days (heads up to 0.5 mm)
  Scalp        Thu 17 Dec 2026 19:10  Thu 10 Dec 2026 19:10  7 days (scalp)

Roller DR-SIM-0002
  No head recorded: record the one fitted with 'dermaroll rollers new-head DR-SIM-0002 --needle-mm MM --head-serial SERIAL'.

Reminders
  - No retinoids, acids or vitamin C for 72 hours (until Sun 13 Dec 2026 19:10).
  - Sanitise the head before the next session: soak it in 70% isopropyl alcohol for 20 to 30 minutes first.
"""

SESSION_1 = """\
2026-11-23T19:05:00+01:00  Mon 23 Nov 2026  completed
  Roller: Bathroom roller (DR-SIM-0001), firmware 1.0.0
  Head: H-0042, 0.5 mm, its session 1
  Zone        Horizontal  Vertical  Diagonal    Mean    Peak  Over warn
  Forehead             4         4         4  2.50 N  4.10 N      0.0 s
  Left cheek           4         5         4  2.20 N  5.40 N      1.2 s

"""

SESSION_2 = """\
2026-12-10T19:00:00+01:00  Thu 10 Dec 2026  completed  OVERRIDDEN
  Roller: Bathroom roller (DR-SIM-0001), firmware 1.0.0
  Head: H-0042, 0.5 mm, its session 2
  Plan: Dr. A. Example, 2026-11-20
  Zone   Horizontal  Vertical  Diagonal    Mean    Peak  Over warn
  Scalp           4         4         4  3.00 N  4.50 N      0.0 s
  OVERRIDE of the passes limit on the scalp, Thu 10 Dec 2026 19:05: "my dermatologist asked for five passes here"

"""

UNASSIGNED = """\
Unassigned passes: 1 (rolled outside any session: kept, counted for no zone)
  Roller       Seq  Time                       Zone  Direction     Mean    Peak  Over warn
  DR-SIM-0001    7  2026-12-11T08:30:00+01:00  none  horizontal  1.80 N  2.60 N      0.0 s
"""

NO_UNASSIGNED = ("Unassigned passes: 0 (rolled outside any session: kept, "
                 "counted for no zone)\n")

ROLLERS = """\
Serial       Name             Firmware  Head    Needle  Uses  Fitted          Last seen
DR-SIM-0001  Bathroom roller  1.0.0     H-0042  0.5 mm     2  Mon 9 Nov 2026  Mon 9 Nov 2026
DR-SIM-0002  DR-SIM-0002      1.0.0     none                                  Tue 1 Dec 2026
"""

JOURNAL = """\
When                   Zone      Redness  Swelling  Note
Tue 24 Nov 2026 08:00  Forehead        1         0  slight redness, gone by noon
"""

# ---- The program and its help ----


def test_help_lists_commands(sb):
    p = sb.run("--help", db=False)
    text = p.stdout
    check("Usage:\n  dermaroll [OPTION" in text, "usage line: " + text)
    check("\nCommands:\n"
          "  status   Next allowed date per zone, head wear and the reminders due\n"
          "  history  Sessions and their passes, filtered by date, zone or roller\n"
          "  rollers  List rollers; rename, forget, or record a new head\n"
          "  journal  Log a skin reaction, or list the reactions logged\n"
          "  session  Run a whole routine without the screens, from a routine file\n"
          in text, "command list: " + text)
    check("--simulate" in text and "--socket=PATH" in text, "live options kept")


def test_every_command_has_help(sb):
    for cmd in (["status"], ["history"], ["rollers"], ["rollers", "rename"],
                ["rollers", "forget"], ["rollers", "new-head"], ["journal"],
                ["journal", "list"], ["session"]):
        p = sb.run(*cmd, "--help", db=False)
        check(p.stdout.startswith("Usage:\n  dermaroll %s [OPTION" % " ".join(cmd)),
              "%s --help: %s" % (cmd, p.stdout))
        check("--database=PATH" in p.stdout, "%s --help has --database" % cmd)


def test_unknown_command(sb):
    p = sb.run("frobnicate", db=False, status=2)
    equal(p.stderr, "dermaroll: 'frobnicate' is not a command; the commands are "
          "status, history, rollers, journal, session, scan, pair.\n"
          "Run 'dermaroll --help' to see the options.\n")
    equal(p.stdout, "")


def test_unknown_option(sb):
    p = sb.run("status", "--colour", db=False, status=2)
    equal(p.stderr, "dermaroll status: Unknown option --colour.\n"
          "Run 'dermaroll status --help' to see the options.\n")


def test_live_options_unchanged(sb):
    p = sb.run("--speed", "500", "--simulate", db=False, status=2)
    equal(p.stderr, "dermaroll: --speed must be between 0.1 and 100.\n")
    p = sb.run("--version", db=False)
    check(p.stdout.startswith("dermaroll "), p.stdout)


# ---- status ----


def test_status(sb):
    sb.fixture()
    p = sb.run("status")
    equal(p.stdout, STATUS)
    equal(p.stderr, "")


def test_status_clock_moved_back(sb):
    sb.fixture()
    # The fixture has seen 2026-12-10T18:30Z; a clock set back to 1 Dec
    # must not open anything early.
    p = sb.run("status", now="2026-12-01T00:00:00Z")
    out = lines(p.stdout)
    equal(out[0], "Now: Thu 10 Dec 2026 19:30")
    equal(out[1], "The clock shows Tue 1 Dec 2026 01:00, earlier than a time "
          "dermaroll has already seen: dates count from Thu 10 Dec 2026 19:30.")
    check("  Forehead     Mon 14 Dec 2026 19:10  Mon 23 Nov 2026 19:10  21 days (heads up to 0.5 mm)"
          in out, p.stdout)


def test_status_plan(sb):
    sb.fixture()
    plan = os.path.join(sb.root, "plan.conf")
    with open(plan, "w") as f:
        f.write("[plan]\nformat = 1\ndermatologist = Dr. A. Example\n"
                "signed = 2026-11-20\n\n[rule forehead]\nzone = forehead\n"
                "needle_mm = 0.5\ninterval_days = 14\n")
    p = sb.run("status", "--plan", plan)
    out = lines(p.stdout)
    equal(out[1], "Plan: signed by Dr. A. Example on 2026-11-20.")
    check("  Forehead     now                    Mon 23 Nov 2026 19:10  14 days (dermatologist's plan)"
          in out, p.stdout)
    check("  Left cheek   Mon 14 Dec 2026 19:15  Mon 23 Nov 2026 19:15  21 days (heads up to 0.5 mm)"
          in out, p.stdout)


def test_status_head_worn(sb):
    sb.fixture()
    # 9 Nov + 42 days = 21 Dec 10:00: the head is refused from then on.
    p = sb.run("status", now="2026-12-21T09:00:00Z")
    check("  Head H-0042, 0.5 mm, fitted Mon 9 Nov 2026: 2 of 10 sessions, "
          "42 of 42 days: worn out, fit a new head." in lines(p.stdout), p.stdout)
    check("  Forehead     new head first  Mon 23 Nov 2026 19:10  21 days (heads up to 0.5 mm)"
          in lines(p.stdout), p.stdout)
    check("  - Bathroom roller (DR-SIM-0001): the head was fitted 42 days ago, "
          "the most allowed is 42; fit a new head before the next session."
          in lines(p.stdout), p.stdout)
    check("No retinoids" not in p.stdout, "aftercare over after 72 hours")


def test_status_no_history_yet(sb):
    p = sb.run("status", db=False, status=1)
    folder = os.path.join(sb.data, "dermaroll")
    equal(p.stderr, "dermaroll status: There is no history yet: the folder %s "
          "does not exist. Start a session with dermaroll to create it, or "
          "give the path of an existing history.\n" % folder)
    check(not os.path.exists(folder), "status created the folder")


def test_status_extra_argument(sb):
    p = sb.run("status", "now", db=False, status=2)
    equal(p.stderr, "dermaroll status: unexpected argument 'now'.\n"
          "Run 'dermaroll status --help' to see the options.\n")


# ---- history ----


def test_history(sb):
    sb.fixture()
    p = sb.run("history")
    equal(p.stdout, SESSION_1 + SESSION_2 + UNASSIGNED)


def test_history_filters(sb):
    sb.fixture()
    equal(sb.run("history", "--zone", "Scalp").stdout, SESSION_2 + NO_UNASSIGNED)
    equal(sb.run("history", "--from", "2026-12-01").stdout, SESSION_2 + UNASSIGNED)
    equal(sb.run("history", "--to", "2026-11-30").stdout, SESSION_1 + NO_UNASSIGNED)
    # Both ends are whole local days: the 10 Dec session starts 19:00.
    equal(sb.run("history", "--from", "2026-12-10", "--to", "2026-12-10").stdout,
          SESSION_2 + NO_UNASSIGNED)
    equal(sb.run("history", "--roller", "bathroom ROLLER", "--zone", "left cheek").stdout,
          SESSION_1 + NO_UNASSIGNED)
    equal(sb.run("history", "--roller", "DR-SIM-0002").stdout,
          "No sessions match.\n\n" + NO_UNASSIGNED)


def test_history_unknown_zone(sb):
    sb.fixture()
    before = snapshot(sb.db)
    p = sb.run("history", "--zone", "eyelids", status=2)
    equal(p.stderr, "dermaroll history: 'eyelids' is not a zone; the zones are "
          "%s.\nRun 'dermaroll history --help' to see the options.\n" % ZONES)
    equal(p.stdout, "")
    equal(snapshot(sb.db), before, "history file")


def test_history_bad_date(sb):
    sb.fixture()
    for opt, value in (("--from", "2026-13-01"), ("--to", "2026-02-30"),
                       ("--from", "14.12.2026"), ("--to", "2026-1-01")):
        p = sb.run("history", opt, value, status=2)
        equal(p.stderr, "dermaroll history: %s '%s' is not a date; write it as "
              "YYYY-MM-DD, for example 2026-12-14.\n"
              "Run 'dermaroll history --help' to see the options.\n" % (opt, value))
        equal(p.stdout, "")
    p = sb.run("history", "--from", "2026-12-02", "--to", "2026-12-01", status=2)
    equal(lines(p.stderr)[0], "dermaroll history: --from 2026-12-02 is after --to 2026-12-01.")


def test_history_unknown_roller(sb):
    sb.fixture()
    p = sb.run("history", "--roller", "Kitchen", status=1)
    equal(p.stderr, "dermaroll history: No roller is called 'Kitchen'; the rollers "
          "are DR-SIM-0003, Bathroom roller (DR-SIM-0001), DR-SIM-0002.\n")


def test_history_empty(sb):
    # A history that exists but holds nothing (journal creates it).
    sb.run("journal", "--redness", "0", "--swelling", "0")
    equal(sb.run("history").stdout, "No sessions yet.\n\n" + NO_UNASSIGNED)


# ---- rollers ----


def test_rollers_list(sb):
    sb.fixture()
    equal(sb.run("rollers").stdout, ROLLERS)
    equal(sb.run("rollers", "list").stdout, ROLLERS)
    out = sb.run("rollers", "--all").stdout
    equal(lines(out)[1], "DR-SIM-0003  DR-SIM-0003 (forgotten)  0.9.0     none"
          "                                  Thu 1 Oct 2026")
    equal(len(lines(out)), 4, "rows")


def test_rollers_rename(sb):
    sb.fixture()
    p = sb.run("rollers", "rename", "DR-SIM-0002", "  Travel roller ")
    equal(p.stdout, "Renamed DR-SIM-0002 to 'Travel roller'.\n")
    check("DR-SIM-0002  Travel roller    1.0.0     none" in sb.run("rollers").stdout,
          "renamed in the list")
    # By its name too.
    p = sb.run("rollers", "rename", "travel roller", "Gym bag")
    equal(p.stdout, "Renamed Travel roller (DR-SIM-0002) to 'Gym bag'.\n")


def test_rollers_rename_bad(sb):
    sb.fixture()
    before = snapshot(sb.db)
    p = sb.run("rollers", "rename", "DR-SIM-0002", "bathroom roller", status=1)
    equal(p.stderr, "dermaroll rollers rename: Another roller, DR-SIM-0001, is "
          "already called 'bathroom roller'; choose another name.\n")
    p = sb.run("rollers", "rename", "DR-SIM-0002", "   ", status=2)
    equal(lines(p.stderr)[0], "dermaroll rollers rename: a roller's name needs 1 "
          "to 64 bytes of text on one line.")
    p = sb.run("rollers", "rename", "DR-SIM-0002", status=2)
    equal(lines(p.stderr)[0], "dermaroll rollers rename: give the roller's serial "
          "and its new name, as in: dermaroll rollers rename DR-SIM-0001 "
          "\"Bathroom roller\".")
    p = sb.run("rollers", "rename", "DR-SIM-0009", "Spare", status=1)
    check(p.stderr.startswith("dermaroll rollers rename: No roller is called 'DR-SIM-0009'; "),
          p.stderr)
    equal(snapshot(sb.db), before, "history file")


def test_rollers_forget_keeps_history(sb):
    sb.fixture()
    p = sb.run("rollers", "forget", "DR-SIM-0001")
    equal(p.stdout, "Forgot roller Bathroom roller (DR-SIM-0001). Its history is "
          "kept, and it comes back if it connects again.\n")
    equal(sb.run("rollers").stdout,
          "Serial       Name         Firmware  Head  Needle  Uses  Fitted  Last seen\n"
          "DR-SIM-0002  DR-SIM-0002  1.0.0     none                        Tue 1 Dec 2026\n")
    equal(sb.run("history").stdout, SESSION_1 + SESSION_2 + UNASSIGNED)
    p = sb.run("rollers", "forget", "DR-SIM-0001")
    equal(p.stdout, "Roller Bathroom roller (DR-SIM-0001) was already forgotten; "
          "its history is kept.\n")
    check("Roller Bathroom roller" not in sb.run("status").stdout,
          "a forgotten roller is not in status")


def test_rollers_new_head(sb):
    sb.fixture()
    p = sb.run("rollers", "new-head", "DR-SIM-0001", "--needle-mm", "0.25",
               "--head-serial", "H-0100")
    equal(p.stdout, "Head H-0100 (0.25 mm) is now fitted on Bathroom roller "
          "(DR-SIM-0001): its wear starts from 0 sessions today.\n")
    out = lines(sb.run("status").stdout)
    check("  Head H-0100, 0.25 mm, fitted Sat 12 Dec 2026: 0 of 10 sessions, "
          "0 of 42 days: fine." in out, "\n".join(out))
    # A 0.25 mm head takes the 72 h row; the scalp keeps its own 7 days.
    check("  Forehead     now                    Mon 23 Nov 2026 19:10  72 hours (heads up to 0.3 mm)"
          in out, "\n".join(out))
    check("  Scalp        Thu 17 Dec 2026 19:10  Thu 10 Dec 2026 19:10  7 days (scalp)"
          in out, "\n".join(out))
    check("DR-SIM-0001  Bathroom roller  1.0.0     H-0100  0.25 mm     0  Sat 12 Dec 2026"
          in sb.run("rollers").stdout, "rollers list")


def test_rollers_new_head_clinic_only(sb):
    sb.fixture()
    p = sb.run("rollers", "new-head", "DR-SIM-0002", "--needle-mm", "1.5",
               "--head-serial", "C-1")
    equal(lines(p.stdout)[1], "Note: needles of 1.5 mm or longer are for clinics "
          "only; dermaroll refuses every session with this head.")
    out = lines(sb.run("status").stdout)
    check("  Forehead     never         Mon 23 Nov 2026 19:10  refused: this head is for clinics only"
          in out, "\n".join(out))


def test_rollers_new_head_bad(sb):
    sb.fixture()
    before = snapshot(sb.db)
    p = sb.run("rollers", "new-head", "DR-SIM-0001", "--needle-mm", "0.5",
               "--head-serial", "H-0042", status=1)
    equal(p.stderr, "dermaroll rollers new-head: Head H-0042 is already the head "
          "fitted on Bathroom roller (DR-SIM-0001); give the serial of the new head.\n")
    for mm in ("abc", "0", "3.5", "0.0005", ".5", "1,5"):
        p = sb.run("rollers", "new-head", "DR-SIM-0001", "--needle-mm", mm,
                   "--head-serial", "H-1", status=2)
        equal(lines(p.stderr)[0], "dermaroll rollers new-head: --needle-mm '%s' is "
              "not a needle length; write millimetres from 0.001 to 3, for "
              "example 0.5." % mm)
    p = sb.run("rollers", "new-head", "DR-SIM-0001", "--needle-mm", "0.5", status=2)
    equal(lines(p.stderr)[0], "dermaroll rollers new-head: give both --needle-mm "
          "and --head-serial of the new head.")
    p = sb.run("rollers", "new-head", "DR-SIM-0001", "--needle-mm", "0.5",
               "--head-serial", "a-very-long-head-serial", status=2)
    equal(lines(p.stderr)[0], "dermaroll rollers new-head: --head-serial needs 1 "
          "to 16 printable ASCII characters.")
    equal(snapshot(sb.db), before, "history file")


def test_rollers_unknown_action(sb):
    p = sb.run("rollers", "polish", db=False, status=2)
    equal(lines(p.stderr)[0], "dermaroll rollers: 'polish' is not an action; the "
          "actions are list, rename, forget and new-head.")


# ---- journal ----


def test_journal(sb):
    sb.fixture()
    p = sb.run("journal", "--zone", "décolletage", "--redness", "2",
               "--swelling", "1", "--note", "itchy in the evening")
    equal(p.stdout, "Logged on Sat 12 Dec 2026 12:00: décolletage, redness 2, "
          "swelling 1, \"itchy in the evening\".\n")
    p = sb.run("journal", "add", "--redness", "3", "--swelling", "0")
    equal(p.stdout, "Logged on Sat 12 Dec 2026 12:00: no zone in particular, "
          "redness 3, swelling 0.\nStrong redness or swelling, or any sign of "
          "infection: please see a doctor.\n")
    equal(sb.run("journal", "list").stdout,
          "When                   Zone         Redness  Swelling  Note\n"
          "Tue 24 Nov 2026 08:00  Forehead           1         0  slight redness, gone by noon\n"
          "Sat 12 Dec 2026 12:00  Décolletage        2         1  itchy in the evening\n"
          "Sat 12 Dec 2026 12:00  -                  3         0\n")
    equal(sb.run("journal", "list", "--to", "2026-11-30").stdout, JOURNAL)
    equal(sb.run("journal", "list", "--from", "2026-12-13").stdout,
          "No reactions logged then.\n")


def test_journal_bad_input(sb):
    sb.fixture()
    before = snapshot(sb.db)
    p = sb.run("journal", "--zone", "lips", "--redness", "1", "--swelling", "1",
               status=2)
    equal(p.stderr, "dermaroll journal: 'lips' is not a zone; the zones are %s.\n"
          "Run 'dermaroll journal --help' to see the options.\n" % ZONES)
    p = sb.run("journal", "--redness", "4", "--swelling", "0", status=2)
    equal(lines(p.stderr)[0], "dermaroll journal: --redness and --swelling go from "
          "0 (none) to 3 (strong).")
    p = sb.run("journal", "--redness", "1", status=2)
    equal(lines(p.stderr)[0], "dermaroll journal: give both --redness and "
          "--swelling, each from 0 to 3.")
    p = sb.run("journal", "--redness", "x", "--swelling", "0", status=2)
    check(lines(p.stderr)[0].startswith("dermaroll journal: Cannot parse integer value"),
          p.stderr)
    p = sb.run("journal", "--redness", "1", "--swelling", "0", "--note",
               "two\nlines", status=2)
    equal(lines(p.stderr)[0], "dermaroll journal: --note must be text on one line, "
          "at most 4096 bytes.")
    p = sb.run("journal", "list", "--from", "2026-13-01", status=2)
    equal(lines(p.stderr)[0], "dermaroll journal list: --from '2026-13-01' is not a "
          "date; write it as YYYY-MM-DD, for example 2026-12-14.")
    equal(snapshot(sb.db), before, "history file")


def test_journal_creates_default_history(sb):
    p = sb.run("journal", "--redness", "1", "--swelling", "1", db=False)
    path = os.path.join(sb.data, "dermaroll", "history.db")
    check(os.path.exists(path), "journal created the default history")
    equal(oct(os.stat(path).st_mode & 0o777), "0o600", "history mode")
    equal(oct(os.stat(os.path.dirname(path)).st_mode & 0o777), "0o700", "folder mode")
    p = sb.run("status", db=False)
    equal(p.stdout, "Now: Sat 12 Dec 2026 12:00\n\nNo rollers yet: pair one, or "
          "try 'dermaroll session --simulate'.\n\nNo reminders are due.\n")


# ---- Faults: nothing changes, a clear sentence, exit status 1 ----


def test_missing_database_folder(sb):
    missing = os.path.join(sb.root, "no-such-folder", "history.db")
    folder = os.path.dirname(missing)
    for cmd in (["status"], ["history"], ["rollers"], ["journal", "list"]):
        p = sb.run(*cmd, db=missing, status=1)
        equal(p.stderr, "dermaroll %s: There is no history yet: the folder %s "
              "does not exist. Start a session with dermaroll to create it, or "
              "give the path of an existing history.\n" % (" ".join(cmd), folder))
    p = sb.run("journal", "--redness", "1", "--swelling", "0", db=missing, status=1)
    equal(p.stderr, "dermaroll journal: The folder %s for the history does not "
          "exist. Create it first, or give another --database path.\n" % folder)
    check(not os.path.exists(folder), "a folder was created")


# Holds the write lock the way another program would, in its own process:
# closing any descriptor of the file in this process (snapshot()) would drop
# a POSIX lock held here.
LOCK_HOLDER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
con.execute("ROLLBACK")
con.close()
"""


def test_locked_database(sb):
    sb.fixture()
    before = snapshot(sb.db)
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, sb.db],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        equal(holder.stdout.readline(), "locked\n", "lock holder")
        msg = ("another dermaroll program is writing to the history file %s "
               "right now. Close the other dermaroll, or wait a moment, and try "
               "again.\n" % sb.db)
        p = sb.run("journal", "--redness", "1", "--swelling", "0", status=1)
        equal(p.stderr, "dermaroll journal: Could not save the journal entry: " + msg)
        p = sb.run("rollers", "rename", "DR-SIM-0002", "Spare", status=1)
        equal(p.stderr, "dermaroll rollers rename: Could not rename the roller: " + msg)
        p = sb.run("rollers", "new-head", "DR-SIM-0002", "--needle-mm", "0.5",
                   "--head-serial", "H-9", status=1)
        check(p.stderr.startswith("dermaroll rollers new-head: Could not ")
              and p.stderr.endswith(msg), p.stderr)
        p = sb.run("rollers", "forget", "DR-SIM-0002", status=1)
        check(p.stderr.startswith("dermaroll rollers forget: Could not ")
              and p.stderr.endswith(msg), p.stderr)
        # Readers never wait for a writer.
        equal(sb.run("status").stdout, STATUS)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    equal(holder.returncode, 0, "lock holder exit status")
    equal(snapshot(sb.db), before, "history file")
    equal(sb.run("journal", "list").stdout, JOURNAL)
    equal(sb.run("rollers").stdout, ROLLERS)


def bad_files(sb):
    """(name, bytes, the phrase the message must hold) for each bad file."""
    good = sb.fixture(os.path.join(sb.root, "good.db"))
    with open(good, "rb") as f:
        data = f.read()
    page = int.from_bytes(data[16:18], "big")
    future = os.path.join(sb.root, "future.db")
    shutil.copy(good, future)
    con = sqlite3.connect(future)
    con.execute("PRAGMA user_version = 999")
    con.commit()
    con.close()
    with open(future, "rb") as f:
        future_data = f.read()
    damaged = bytearray(data)
    damaged[100:page] = b"\xa5" * (page - 100)    # page 1's b-tree: the schema
    return [
        ("empty-header", data[:50], "is cut short: it ends inside its own header"),
        ("truncated", data[:2 * page], "is cut short: it is smaller than its header says"),
        ("not-sqlite", b"dermaroll? no, a text file\n" * 100,
         "is not a dermaroll history: it is not an SQLite database at all"),
        ("damaged", bytes(damaged), "is damaged"),
        ("future", future_data, "was written by a newer version of dermaroll"),
    ]


def test_bad_database_files(sb):
    commands = [
        ["status"], ["history"], ["rollers"], ["journal", "list"],
        ["journal", "--redness", "1", "--swelling", "0"],
        ["rollers", "rename", "DR-SIM-0002", "Spare"],
        ["rollers", "new-head", "DR-SIM-0002", "--needle-mm", "0.5", "--head-serial", "H-9"],
    ]
    for name, data, phrase in bad_files(sb):
        path = os.path.join(sb.root, name + ".db")
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o600)
        before = snapshot(path)
        for cmd in commands:
            p = sb.run(*cmd, db=path, status=1)
            prefix = "dermaroll %s: " % " ".join(
                c for c in cmd[:2] if not c.startswith("-"))
            check(p.stderr.startswith(prefix), "%s %s: %s" % (name, cmd, p.stderr))
            check(phrase in p.stderr, "%s %s: want '%s' in: %s" % (name, cmd, phrase, p.stderr))
            check(path in p.stderr, "%s: the message names the file" % name)
            check(p.stderr.count("\n") == 1, "%s: one line: %s" % (name, p.stderr))
            equal(p.stdout, "", "%s %s stdout" % (name, cmd))
            equal(snapshot(path), before, "%s %s: the file" % (name, cmd))


# ---- session: a whole routine against the in-process virtual roller ----
# These need the session engine (host/engine.c); they come last.

CHECKLIST_NO = """
[checklist]
skin = no
sunburn = no
flare = no
scars = no
isotretinoin = no
bleeding = no
pregnancy = no
sanitised = yes
"""

AFTERCARE = """\
Aftercare
  - No retinoids, acids or vitamin C for 72 hours.
  - Stay in the shade today, and use a broad-spectrum sunscreen from tomorrow.
  - No make-up for 24 hours.
  - Mild redness and swelling usually pass within a few days; signs of infection mean see a doctor.
"""

FORCE = r"\d+\.\d\d N"


def routine(sb, name="routine.conf", zones="forehead;left-cheek", needle="0.5",
            checklist=CHECKLIST_NO, extra=""):
    path = os.path.join(sb.root, name)
    with open(path, "w") as f:
        f.write("[routine]\nformat = 1\nzones = %s\nneedle_mm = %s\n%s%s"
                % (zones, needle, checklist, extra))
    return path


def session(sb, path, now=NOW, status=0):
    return sb.run("session", "--simulate", "--speed", "100", "--plan", path,
                  now=now, status=status)


def match_lines(got, patterns):
    import re
    got_lines = lines(got)
    if len(got_lines) != len(patterns):
        raise Failure("want %d lines, got %d:\n%s" % (len(patterns), len(got_lines), got))
    for g, p in zip(got_lines, patterns):
        if not re.fullmatch(p, g):
            raise Failure("line %r does not match %r\n%s" % (g, p, got))


def esc(text):
    import re
    return re.escape(text)


def test_session(sb):
    path = routine(sb)
    p = session(sb, path)
    match_lines(p.stdout, [
        esc("Routine of Sat 12 Dec 2026 12:00 with the virtual roller DR-SIM-0001, head HEAD-SIM-01 (0.5 mm)"),
        esc("  Zone        Status  Horizontal  Vertical  Diagonal    Mean    Peak  Over warn"),
        esc("  Forehead    done             4         4         4  ") + FORCE + "  " + FORCE + r"  +\d+\.\d s",
        esc("  Left cheek  done             4         4         4  ") + FORCE + "  " + FORCE + r"  +\d+\.\d s",
        r"(Warnings|No warnings\.)",
    ] + [r"  - .*"] * (len(lines(p.stdout)) - 12) + [
        esc("Stored in %s: 1 session, 24 passes, 8 checklist answers, 0 overrides." % sb.db),
        esc("The roller was acked up to record 24 after each commit (24 new passes, 0 duplicates)."),
    ] + [esc(l) for l in lines(AFTERCARE)])
    equal(p.stderr, "")
    # What was stored is what history and status show.
    out = lines(sb.run("history").stdout)
    equal(out[0], "2026-12-12T12:00:00+01:00  Sat 12 Dec 2026  completed")
    equal(out[1], "  Roller: DR-SIM-0001, firmware sim-0.1.0")
    equal(out[2], "  Head: HEAD-SIM-01, 0.5 mm, its session 1")
    check(out[4].startswith("  Forehead             4         4         4  "), out[4])
    check(out[5].startswith("  Left cheek           4         4         4  "), out[5])
    out = lines(sb.run("status").stdout)
    check(any(l.startswith("  Forehead     Sat 2 Jan 2027 12:00  Sat 12 Dec 2026 12:00  21 days")
              for l in out), "\n".join(out))


def test_session_interval_lock_and_override(sb):
    path = routine(sb)
    session(sb, path)
    # At once, both zones are locked too, although the virtual roller's
    # clock ran ahead of ours (speed 100): its passes still count.
    out = lines(session(sb, path).stdout)
    check(out[2].startswith("  Forehead    skipped "), "\n".join(out))
    check(out[3].startswith("  Left cheek  skipped "), "\n".join(out))
    # An hour later both zones are locked: skipped, warned, nothing rolled.
    p = session(sb, path, now="2026-12-12T12:00:00Z")
    match_lines(p.stdout, [
        esc("Routine of Sat 12 Dec 2026 13:00 with the virtual roller DR-SIM-0003, head HEAD-SIM-01 (0.5 mm)"),
        esc("  Zone        Status   Horizontal  Vertical  Diagonal  Mean  Peak  Over warn"),
        esc("  Forehead    skipped           0         0         0     -     -          -"),
        esc("  Left cheek  skipped           0         0         0     -     -          -"),
        esc("Warnings"),
        esc("  - Your forehead can be treated again on 2 January 2027 at 12:00 (0.5 mm heads need 21 days between sessions)."),
        esc("  - Your left cheek can be treated again on 2 January 2027 at 12:00 (0.5 mm heads need 21 days between sessions)."),
        esc("Stored in %s: 1 session, 0 passes, 8 checklist answers, 0 overrides." % sb.db),
    ] + [esc(l) for l in lines(AFTERCARE)])
    # With a reason typed in full the forehead is treated, and flagged.
    path = routine(sb, extra="\n[overrides]\nforehead = My dermatologist checked the skin and allowed it today\n")
    p = session(sb, path, now="2026-12-12T13:00:00Z")
    out = lines(p.stdout)
    check(out[2].startswith("  Forehead    done, OVERRIDDEN           4         4         4  "), p.stdout)
    equal(out[3], "  Left cheek  skipped                    0         0         0       -       -          -")
    check("Stored in %s: 1 session, 12 passes, 8 checklist answers, 1 override." % sb.db
          in out, p.stdout)
    check('  OVERRIDE on the forehead: "My dermatologist checked the skin and allowed it today"'
          in out, p.stdout)
    hist = sb.run("history", "--from", "2026-12-12").stdout
    check('  OVERRIDE of the interval limit on the forehead, Sat 12 Dec 2026 14:00: '
          '"My dermatologist checked the skin and allowed it today"' in lines(hist), hist)
    check("2026-12-12T14:00:00+01:00  Sat 12 Dec 2026  completed  OVERRIDDEN" in lines(hist), hist)


def test_session_checklist_refuses(sb):
    path = routine(sb, zones="nose", checklist=CHECKLIST_NO.replace("sunburn = no", "sunburn = yes"))
    p = session(sb, path)
    out = lines(p.stdout)
    equal(out[2], "  Nose  skipped           0         0         0     -     -          -")
    equal(out[4], "  - Your nose cannot be treated now because of sunburn in the area; "
          "please ask a dermatologist.")


def test_session_clinic_only_head(sb):
    path = routine(sb, zones="chin", needle="1.5",
                   extra="\n[overrides]\nchin = My dermatologist checked the skin and allowed it today\n")
    p = session(sb, path)
    out = lines(p.stdout)
    equal(out[2], "  Chin  skipped           0         0         0     -     -          -")
    check("  - This 1.5 mm head is for clinics only: needles of 1.5 mm or longer are "
          "never used at home, even with an override." in out, p.stdout)
    check(any(l.startswith("  The override for the chin was refused: ") for l in out), p.stdout)
    check("Stored in %s: 1 session, 0 passes, 8 checklist answers, 0 overrides." % sb.db in out,
          p.stdout)


def test_session_bad_routine(sb):
    cases = [
        (dict(checklist=CHECKLIST_NO.replace("pregnancy = no\n", "").replace("skin = no\n", "")),
         "does not answer every checklist question: add skin, pregnancy to [checklist], each yes or no."),
        (dict(checklist=CHECKLIST_NO.replace("flare = no", "flare = maybe")),
         "answers flare = maybe in [checklist]; answer yes or no."),
        (dict(zones="forehead;eyelids"),
         "names 'eyelids', which is not a zone; the zones are %s." % ZONES),
        (dict(needle="half"),
         "gives needle_mm = half; write millimetres from 0.1 to 3, for example 0.5."),
        (dict(extra="\n[overrides]\nforehead = ok\n"),
         "gives a reason for the forehead that will not do: An override needs its reason "
         "typed in full: at least 15 characters and 3 different words."),
        (dict(extra="\n[extras]\nx = 1\n"),
         "has an unknown group [extras]; it may have [routine], [checklist] and [overrides]."),
    ]
    for kwargs, msg in cases:
        path = routine(sb, **kwargs)
        p = session(sb, path, status=2)
        equal(p.stderr, "dermaroll session: The routine file %s %s\n"
              "Run 'dermaroll session --help' to see the options.\n" % (path, msg))
        equal(p.stdout, "")
    check(not os.path.exists(sb.db), "a bad routine file created the history")
    p = sb.run("session", "--plan", path, status=2)
    equal(lines(p.stderr)[0], "dermaroll session: give the roller: --simulate, "
          "--roller ADDRESS or --socket PATH (one of them).")
    p = sb.run("session", "--simulate", "--roller", "AA:BB:CC:DD:EE:FF", "--plan", path,
               status=2)
    equal(lines(p.stderr)[0], "dermaroll session: give the roller: --simulate, "
          "--roller ADDRESS or --socket PATH (one of them).")
    p = sb.run("session", "--roller", "AA:BB:CC:DD:EE", "--plan", path, status=2)
    equal(lines(p.stderr)[0], "dermaroll session: 'AA:BB:CC:DD:EE' is not a Bluetooth "
          "address (it looks like AA:BB:CC:DD:EE:FF).")
    p = sb.run("session", "--socket", "/nonexistent", "--speed", "5", "--plan", path,
               status=2)
    equal(lines(p.stderr)[0], "dermaroll session: --speed is for the virtual roller of "
          "--simulate only.")
    p = sb.run("session", "--socket", "/nonexistent", "--adapter", "hci0", "--plan", path,
               status=2)
    equal(lines(p.stderr)[0], "dermaroll session: --adapter goes with --roller.")
    # An address the history does not know: refused before any Bluetooth.
    good = routine(sb, name="good.conf")
    p = sb.run("session", "--roller", "aa:bb:cc:dd:ee:ff", "--plan", good, status=1)
    equal(p.stderr, "dermaroll session: The roller AA:BB:CC:DD:EE:FF is not in the history, "
          "and dermaroll runs sessions only with rollers it has paired. Pair it first: hold "
          "its button until the light blinks, then run 'dermaroll pair AA:BB:CC:DD:EE:FF'.\n")
    equal(p.stdout, "")
    p = sb.run("session", "--simulate", status=2)
    equal(lines(p.stderr)[0], "dermaroll session: give the routine file with --plan FILE.")
    missing = os.path.join(sb.root, "nope.conf")
    p = session(sb, missing, status=2)
    check(lines(p.stderr)[0].startswith("dermaroll session: Could not read the routine file %s: "
                                        % missing), p.stderr)


def test_session_faults(sb):
    path = routine(sb)
    missing = os.path.join(sb.root, "no-such-folder", "history.db")
    p = sb.run("session", "--simulate", "--plan", path, db=missing, status=1)
    equal(p.stderr, "dermaroll session: The folder %s for the history does not exist. "
          "Create it first, or give another --database path.\n" % os.path.dirname(missing))
    for name, data, phrase in bad_files(sb):
        bad = os.path.join(sb.root, name + ".db")
        with open(bad, "wb") as f:
            f.write(data)
        before = snapshot(bad)
        p = sb.run("session", "--simulate", "--plan", path, db=bad, status=1)
        check(phrase in p.stderr, "%s: %s" % (name, p.stderr))
        equal(p.stdout, "", name)
        equal(snapshot(bad), before, name)
    # Another program writing: refused before the roller rolls, nothing stored.
    sb.fixture()
    before = snapshot(sb.db)
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, sb.db],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        equal(holder.stdout.readline(), "locked\n", "lock holder")
        p = session(sb, path, status=1)
        check(p.stderr.startswith("dermaroll session: Could not ") and
              p.stderr.endswith("another dermaroll program is writing to the history file "
                                "%s right now. Close the other dermaroll, or wait a moment, "
                                "and try again.\n" % sb.db), p.stderr)
        equal(p.stdout, "")
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    equal(snapshot(sb.db), before, "history file")
    equal(sb.run("history").stdout, SESSION_1 + SESSION_2 + UNASSIGNED)


# CLI_TESTS=name,name runs only those (for debugging one case).
TESTS = [(name, fn) for name, fn in list(globals().items())
         if name.startswith("test_") and callable(fn) and
         (not os.environ.get("CLI_TESTS") or name in os.environ["CLI_TESTS"].split(","))]


def main():
    failed = 0
    for i, (name, fn) in enumerate(TESTS, 1):
        sb = Sandbox()
        try:
            fn(sb)
            print("ok %d - %s" % (i, name))
        except Exception as e:
            failed += 1
            print("not ok %d - %s" % (i, name))
            detail = str(e) if isinstance(e, Failure) else traceback.format_exc()
            for line in detail.splitlines():
                print("# " + line)
        finally:
            sb.cleanup()
        sys.stdout.flush()
    print("1..%d" % len(TESTS))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
