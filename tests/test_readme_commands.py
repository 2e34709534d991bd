"""README.md's command lines against the commands' own ``--help``, so the docs cannot drift.

A command line is a line of a ```sh block that starts with ``attendance-``, with the indented
lines after it (its other flags). Each command runs from the venv's bin folder (the installed
console scripts) with ``--help``, and with its subcommand (``attendance-db init --help``) when the
line names one; every flag on the line must be in that help: a flag written before the
subcommand in the command's own help, one written after it in the subcommand's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from testkit.paths import REPO

BIN = Path(sys.executable).parent
FLAG = re.compile(r"^--?[A-Za-z][\w-]*$")
SUBCOMMAND = re.compile(r"^[a-z]+(-[a-z]+)*$")


@dataclass(frozen=True)
class CommandLine:
    text: str  # the README's line(s), comments removed
    program: str
    words: tuple[str, ...]  # after the program, brackets and parentheses removed


def readme_command_lines(readme: str) -> list[CommandLine]:
    commands, in_sh, current = [], False, None
    for line in readme.splitlines():
        if line.startswith("```"):
            in_sh, current = line.strip() == "```sh", None
            continue
        if not in_sh:
            continue
        code = line.split(" #", 1)[0].rstrip()
        if code.startswith("attendance-"):
            current = [code]
            commands.append(current)
        elif current is not None and code[:1].isspace() and code.strip():
            current.append(code.strip())  # the command goes on: more flags
        else:
            current = None
    result = []
    for parts in commands:
        text = " ".join(parts)
        words = [word.strip("[]()|,") for word in text.split()]
        result.append(CommandLine(text, words[0], tuple(word for word in words[1:] if word)))
    return result


def split_at_subcommand(line: CommandLine, has_subcommands: bool) -> tuple[list[str], str | None, list[str]]:
    """(flags before the subcommand, the subcommand or None, flags after it).

    For a program with subcommands, the subcommand is the first plain lowercase word
    (``init``, ``close-session``) that is not the value of the flag before it."""
    before, previous = [], None
    for i, word in enumerate(line.words):
        if FLAG.match(word):
            before.append(word)
        elif has_subcommands and SUBCOMMAND.match(word) and not (previous and FLAG.match(previous)):
            return before, word, [w for w in line.words[i + 1 :] if FLAG.match(w)]
        previous = word
    return before, None, []


@cache
def help_text(*command: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [str(BIN / command[0]), *command[1:], "--help"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def has_subcommands(program: str) -> bool:
    """Whether the program's usage has subcommands: ``{init,...}`` or a COMMAND metavar outside
    the ``[--optional ...]`` groups (``[--log-level {DEBUG,INFO}]`` is a flag's choices)."""
    usage = " ".join(help_text(program).stdout.split("\n\n")[0].split())
    while True:
        shorter = re.sub(r"\[[^\[\]]*\]", "", usage)
        if shorter == usage:
            break
        usage = shorter
    return re.search(r"\{[\w,-]+\}|\bCOMMAND\b", usage) is not None


def is_subcommand(program: str, word: str) -> bool:
    result = help_text(program, word)
    return result.returncode == 0 and f"usage: {program} {word}" in " ".join(result.stdout.split())


def has_flag(help_output: str, flag: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", help_output) is not None


README_LINES = readme_command_lines((REPO / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_a_command_list():
    programs = {line.program for line in README_LINES}
    assert {
        "attendance-db",
        "attendance-server",
        "attendance-client",
        "attendance-report",
        "attendance-desktop",
        "attendance-watch",
        "attendance-eval",
    } <= programs
    assert len(README_LINES) >= 20


@pytest.mark.parametrize("line", README_LINES, ids=[" ".join(line.text.split()[:4])[:60] for line in README_LINES])
def test_each_readme_command_and_its_flags_are_in_its_help(line: CommandLine):
    assert (BIN / line.program).is_file(), f"{line.program} is not installed in {BIN}"
    main_help = help_text(line.program)
    assert main_help.returncode == 0, main_help.stderr
    before, subcommand, after = split_at_subcommand(line, has_subcommands(line.program))
    missing = [flag for flag in before if not has_flag(main_help.stdout, flag)]
    if subcommand is not None:
        assert is_subcommand(line.program, subcommand), f"README: {line.text}\nno subcommand {subcommand}"
        sub_help = help_text(line.program, subcommand)
        missing += [f"{subcommand} {flag}" for flag in after if not has_flag(sub_help.stdout, flag)]
    assert not missing, f"README: {line.text}\nnot in the help of {line.program}: {missing}"


def test_the_parser_finds_subcommands_flags_and_continuation_lines():
    readme = "\n".join(
        [
            "```sh",
            "attendance-db --db-url URL close-session ea0017_1 [--date D] | --due   # writes the statuses",
            "attendance-server --host 0.0.0.0 --knowns knowns/ [--threshold 0.6 (the ceiling)]",
            "                  [--tls-cert PEM --tls-key PEM]",
            "make demo",
            "```",
            "attendance-db not-in-a-block",
        ]
    )
    db_line, server_line = readme_command_lines(readme)
    assert db_line.words == ("--db-url", "URL", "close-session", "ea0017_1", "--date", "D", "--due")
    assert split_at_subcommand(db_line, True) == (["--db-url"], "close-session", ["--date", "--due"])
    assert server_line.program == "attendance-server"
    assert [w for w in server_line.words if w.startswith("--")] == [
        "--host",
        "--knowns",
        "--threshold",
        "--tls-cert",
        "--tls-key",
    ]
    assert split_at_subcommand(server_line, False)[1] is None
    assert split_at_subcommand(server_line, True)[1] == "the"  # "(the ceiling)": not after a flag
    assert has_subcommands("attendance-db") and has_subcommands("attendance-client")
    assert not has_subcommands("attendance-server") and not has_subcommands("attendance-report")
    assert is_subcommand("attendance-db", "init") and not is_subcommand("attendance-db", "no-such-command")
