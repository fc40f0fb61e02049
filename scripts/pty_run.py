"""Runs a command on a pseudo-terminal (its controlling terminal, so /dev/tty is it) and
answers one prompt, as a person at a terminal would.

    pty_run.py PROMPT ANSWER -- COMMAND [ARGS...]

ANSWER is typed followed by Enter; `^C` types Ctrl-C instead (the terminal sends SIGINT to the
command). Prints everything the command wrote to the terminal (the terminal's own echo of what
was typed included) and exits with its exit code (128 + N, and `killed by signal N` on stderr,
when a signal ended it). After the command ends, says on stderr whether the terminal echoes
typed characters (`echo: on` or `echo: off`). Gives up after 60 seconds.
"""
import fcntl
import os
import select
import subprocess
import sys
import termios
import time


def main(argv):
    if "--" not in argv or argv.index("--") != 2:
        print(__doc__, file=sys.stderr)
        return 2
    prompt, answer, cmd = argv[0].encode(), argv[1].encode(), argv[3:]
    master, slave = os.openpty()

    def controlling_terminal():
        # A new session (start_new_session) whose controlling terminal is the pty: its
        # process group is the terminal's foreground group, so Ctrl-C reaches it.
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    child = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                             preexec_fn=controlling_terminal)
    # The parent keeps its end of the slave open, to read the terminal's settings at the end.
    out, answered, deadline = b"", False, time.time() + 60
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if not ready:
            if child.poll() is not None:
                break
            continue
        chunk = os.read(master, 4096)
        if not chunk:
            break
        out += chunk
        if not answered and prompt in out:
            os.write(master, b"\x03" if answer == b"^C" else answer + b"\n")
            answered = True
    else:
        child.kill()
    code = child.wait()
    echo = termios.tcgetattr(slave)[3] & termios.ECHO
    sys.stdout.write(out.decode(errors="replace"))
    sys.stdout.flush()
    print("echo: " + ("on" if echo else "off"), file=sys.stderr)
    if code < 0:
        print("killed by signal %d" % -code, file=sys.stderr)
        return 128 - code
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
