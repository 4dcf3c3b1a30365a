"""Tables on a terminal fit its width and never cut a cell; in a file they use the width they need;
markdown tables stay apart. The terminal is a real pty of 80 columns."""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import sys
import termios

from rel_support import BPE, DATA, SPM, tokcli_env

COMPARE = ["compare", "-t", str(BPE), "-t", str(SPM), str(DATA / "austen.txt"), str(DATA / "parallel" / "udhr")]


def _on_a_terminal(argv: list[str], columns: int) -> str:
    """stdout of ``tokcli ARGV`` written to a pty of ``columns`` columns."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in tokcli_env().items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen([sys.executable, "-m", "tokcli", *argv], stdout=follower, stderr=subprocess.PIPE, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(leader)
    assert proc.returncode == 0
    text = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    return re.sub(r"\x1b\[[0-9;]*m", "", text)  # colours take no columns


def _numbers(table: str) -> set[str]:
    """The numeric cells of the tables in ``table`` (rich's box drawing), but for the timings, which differ
    between two runs."""
    found: set[str] = set()
    header: list[str] = []
    for line in table.splitlines():
        if "┃" in line:
            header = [c.strip() for c in line.split("┃")]
        elif "│" in line:
            for name, cell in zip(header, (c.strip() for c in line.split("│")), strict=False):
                if name != "mb_per_s" and _number(cell):
                    found.add(cell)
    return found


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_compare_table_fits_80_columns_and_cuts_nothing() -> None:
    text = _on_a_terminal([*COMPARE, "-f", "table"], 80)
    lines = text.splitlines()
    assert lines and max(map(len, lines)) <= 80, max(lines, key=len)
    assert "…" not in text
    in_file = subprocess.run([sys.executable, "-m", "tokcli", *COMPARE, "-f", "table"], capture_output=True,
                             text=True, env=tokcli_env(), timeout=120, check=True).stdout  # fmt: skip
    cells = {cell.strip() for line in lines for cell in line.split("│")}
    missing = _numbers(in_file) - cells
    assert not missing, f"numbers not shown whole: {sorted(missing)[:10]}"


def test_a_table_in_a_file_is_one_table_as_wide_as_it_needs() -> None:
    proc = subprocess.run([sys.executable, "-m", "tokcli", *COMPARE, "-f", "table"], capture_output=True, text=True,
                          env=tokcli_env(), timeout=120, check=True)  # fmt: skip
    assert "…" not in proc.stdout
    header = next(line for line in proc.stdout.splitlines() if "bytes_per_token" in line)
    assert "renyi_efficiency" in header  # all columns side by side, however wide
    assert max(map(len, proc.stdout.splitlines())) > 160


def test_markdown_tables_are_separated_by_a_blank_line() -> None:
    proc = subprocess.run([sys.executable, "-m", "tokcli", *COMPARE, "-f", "markdown"], capture_output=True,
                          text=True, env=tokcli_env(), timeout=120, check=True)  # fmt: skip
    blocks = [b for b in proc.stdout.split("\n\n") if b.strip()]
    assert len(blocks) >= 2 and all(b.lstrip().startswith("|") for b in blocks)
