"""CPU seconds of a part of the local stack, read from /proc, its children included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from devstack.processes import cpu_seconds

# The child burns 0.3 s of CPU, then sleeps until killed; its parent only waits for it.
CHILD = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ntime.sleep(60)\n"
PARENT = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {CHILD!r}])"


def test_a_process_is_charged_for_its_children() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while cpu_seconds(parent.pid) < 0.3:
            assert time.monotonic() < deadline, f"only {cpu_seconds(parent.pid):.2f} CPU seconds counted"
            time.sleep(0.05)
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()


def test_a_process_that_is_gone_has_used_nothing() -> None:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()

    assert cpu_seconds(finished.pid) == 0.0
