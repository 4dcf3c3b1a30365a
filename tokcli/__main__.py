"""``python -m tokcli``."""

from tokcli.cli.app import run

if __name__ == "__main__":
    run()
