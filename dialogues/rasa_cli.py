"""`python -m dialogues.rasa_cli ARGS...`: Rasa's own command line (`rasa ARGS...`) with the skops
fix of dialogues/rasa_speedups.py installed first, which saves 5-10 s each time a process loads
or saves the intent classifier (training, `rasa test nlu`)."""
from __future__ import annotations

from dialogues import rasa_speedups


def main() -> None:
    rasa_speedups.install_skops()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
