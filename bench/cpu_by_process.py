"""CPU seconds per kind of process over a run: samples /proc every half second until SIGTERM or
Ctrl-C, then writes, for each kind (a test process, `rasa run`, an action server, PostgreSQL...),
the CPU its processes had used when last seen (Linux only).

    python bench/cpu_by_process.py out.json & SAMPLER=$!
    .venv/bin/pytest -n 3 --dist loadgroup --no-loadscope-reorder -q
    kill -TERM $SAMPLER; wait $SAMPLER

A process that ends between two samples loses up to half a second; one first seen after it ended
(a zombie) has no command line and counts as "(ended)".
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections import Counter
from typing import Dict, Tuple

TICK = os.sysconf("SC_CLK_TCK")
# The first of these found in a command line names its kind.
KINDS = ["dialogues.rasa_cli", "dialogues.action_server", "chromium", "exec(eval(sys.stdin.readline()))",
         "pytest", "microbuy", "postgres", "redis-server"]
NAMES = {"exec(eval(sys.stdin.readline()))": "test process (xdist worker)"}

seen: Dict[Tuple[str, str], Tuple[float, str]] = {}


def sample() -> None:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat, open(f"/proc/{pid}/cmdline") as cmdline:
                fields, command = stat.read().rsplit(")", 1)[1].split(), cmdline.read().replace("\0", " ")
        except OSError:
            continue
        cpu = (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
        key = (pid, fields[19])  # the pid and its start time: one process
        if cpu >= seen.get(key, (0.0, ""))[0]:
            seen[key] = (cpu, command.strip() or seen.get(key, (0.0, ""))[1])


def kind(command: str) -> str:
    if not command:
        return "(ended)"
    found = next((k for k in KINDS if k in command), command.split()[0])
    return NAMES.get(found, found)


def write(path: str) -> None:
    spent, count = Counter(), Counter()
    for cpu, command in seen.values():
        spent[kind(command)] += cpu
        count[kind(command)] += 1
    table = {name: {"cpu_s": round(cpu, 1), "processes": count[name]} for name, cpu in spent.most_common()}
    with open(path, "w") as out:
        json.dump({"total_cpu_s": round(sum(spent.values()), 1), "kinds": table}, out, indent=1)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    try:
        while not stop:
            sample()
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    write(sys.argv[1])


if __name__ == "__main__":
    main()
