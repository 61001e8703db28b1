"""A signal that arrives during an export's final step is handled after it, whichever thread
the kernel gives it to: the step is never cut in half and no staging folder is left.

A process-wide signal goes to any thread that does not block it. Masking it in the main thread
alone (``pthread_sigmask``) lets a worker thread (OpenBLAS's, or any other) take it, and Python
then runs the handler in the main thread in the middle of the moves. The script below has such
a thread, sends itself the signal during the first move, and reports what was in place when the
interrupt was finally raised.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import json, os, signal, sys, threading, time
    from pathlib import Path
    from convlab.export import transaction

    signum = int(sys.argv[2])
    if signum == signal.SIGTERM:
        def as_interrupt(_s, _f):
            raise KeyboardInterrupt
        signal.signal(signal.SIGTERM, as_interrupt)  # as `convlab export` does
    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()  # a thread to take it

    real_replace, sent = os.replace, []
    def replace_and_signal(src, dst, **dir_fds):
        real_replace(src, dst, **dir_fds)
        if not sent:
            sent.append(1)
            os.kill(os.getpid(), signum)
            time.sleep(0.3)  # time for the signal to be delivered (and, unfixed, acted on)
    transaction.os.replace = replace_and_signal

    out = Path(sys.argv[1])
    names = [f"map_{i}.png" for i in range(5)]
    state = {"interrupted_at": None}
    try:
        with transaction.Transaction(out) as tx:
            for n in names:
                (tx.staging / n).write_bytes(b"x")
            tx.commit(names)
            state["interrupted_at"] = "not at all"
    except KeyboardInterrupt:
        state["interrupted_at"] = "after" if not any(
            n.startswith(".convlab-") for n in os.listdir(out)) else "during"
    state["in_place"] = sorted(n for n in os.listdir(out) if not n.startswith("."))
    state["hidden"] = sorted(n for n in os.listdir(out) if n.startswith("."))
    print(json.dumps(state))
""")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_the_final_step_is_handled_after_it(tmp_path, signum):
    out = tmp_path / "maps"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(out), str(int(signum))],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["interrupted_at"] == "after", state  # the interrupt came, after the last move
    assert state["in_place"] == [f"map_{i}.png" for i in range(5)], state
    assert state["hidden"] == [], state


def test_the_handlers_are_put_back_after_the_final_step(tmp_path):
    from convlab.export import transaction

    before = {s: signal.getsignal(s) for s in transaction.HELD_SIGNALS}
    with transaction.Transaction(tmp_path / "out") as tx:
        (tx.staging / "a.png").write_bytes(b"x")
        tx.commit(["a.png"])
        assert all(signal.getsignal(s) is not before[s] for s in transaction.HELD_SIGNALS)
    assert {s: signal.getsignal(s) for s in transaction.HELD_SIGNALS} == before
