"""Runs a command on a pseudo-terminal (its controlling terminal, so /dev/tty is it) and
answers one prompt, as a person at a terminal would.

    pty_run.py PROMPT ANSWER -- COMMAND [ARGS...]

Prints everything the command wrote to the terminal and exits with its exit code. Gives up
after 60 seconds.
"""
import os
import pty
import select
import sys
import time


def main(argv):
    if "--" not in argv or argv.index("--") != 2:
        print(__doc__, file=sys.stderr)
        return 2
    prompt, answer, cmd = argv[0].encode(), argv[1].encode(), argv[3:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    out, answered, deadline = b"", False, time.time() + 60
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if not answered and prompt in out:
            os.write(fd, answer + b"\n")
            answered = True
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace"))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
