"""Helpers of the install tests: installing into a staging folder, and running an installed
program where it expects its files, in a mount namespace of its own (unshare) in which the staged
share/ folder lies over the real one (overlayfs), so that nothing on the machine changes."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402


def cache_value(build, name):
    """A value of build/CMakeCache.txt."""
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split("=", 1)[1].strip()
    raise AssertionError("%s not in %s/CMakeCache.txt" % (name, build))


def overlay_program(upper_share, share, program):
    """The command that runs program (a list) with the folder upper_share laid over share."""
    script = 'mount -t overlay overlay -o "lowerdir=$1:$2" "$2" && shift 2 && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
            upper_share, share] + list(program)


def overlay_problem(upper_share, share):
    """Why overlay_program cannot run here (None when it can): it needs root, unshare and
    overlayfs, which a container may not grant."""
    if os.geteuid() != 0:
        return "not root"
    if not shutil.which("unshare"):
        return "unshare missing"
    if not os.path.isdir(share):
        return "%s does not exist on this machine" % share
    done = subprocess.run(overlay_program(upper_share, share, ["true"]), capture_output=True,
                          text=True, timeout=60)
    if done.returncode != 0:
        return "mount namespace with overlayfs refused: %s" % done.stderr.strip()
    return None


def read(path):
    with open(path, "rb") as f:
        return f.read()


def tree(folder):
    """{relative path: bytes} of every file below folder."""
    files = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            files[os.path.relpath(path, folder)] = read(path)
    return files


def serve_installed(test, program):
    """Starts an installed admitd (program: the command that runs it) for a harness
    ServerTestCase, without --templates: it must find them by itself. Checks that it serves an
    event page, its registration form and a static file byte for byte as in the source tree."""
    server = harness.Admitd(test.work, test.db.dsn, test.keys, program=program)
    test.addCleanup(test._stop_cleanly, server)
    event = harness.create_event(test.db.dsn)
    browser = harness.Browser(server)
    harness.open_form(browser, event.slug)
    r = server.get("/static/style.css")
    test.assertEqual(r.status, 200)
    test.assertEqual(r.body, read(os.path.join(harness.SOURCE_DIR, "templates", "static",
                                               "style.css")))
    return server
