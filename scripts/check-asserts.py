#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# No side effects in ASSERT() or ASSERT_HOT() (issue 12, STYLE.md point 13).
#
# Both macros compile to (void)sizeof(cond) at -Dassert_level=0, and
# ASSERT_HOT() already does at the release level 1, so any work done inside
# the condition silently disappears there: `ASSERT(parse(buf, &h) == 0)`
# leaves `h` uninitialised. Work goes on its own line, the assert checks the
# result:   rc = parse(buf, &h);   ASSERT(rc == 0);
#
# This check scans the hand-written .c and .h files (protocol/gen/ is
# generated and exempt) and fails on an assert condition that contains
#   - a call to a function that is not on ALLOWED below,
#   - an assignment (=, +=, <<=, ...; ==, !=, <= and >= are comparisons),
#   - ++ or --.
# A call through a function pointer written (*fn)(x) looks like a cast and is
# not caught; fn(x) and p->fn(x) are. Exit status 1 when any assert fails.
"""Usage: check-asserts.py [REPO_ROOT]   (default: the parent of this script's folder)"""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import tidy  # noqa: E402  (its source_files(): the listing both checks walk)

SKIP_PREFIXES = (os.path.join("protocol", "gen") + os.sep,)
MACROS = ("ASSERT", "ASSERT_HOT", "assert")     # assert(): gone under NDEBUG

# Functions that may be called inside an assert condition. Each one takes
# const pointers, reads only what they point to, writes nothing, takes no
# lock and makes no syscall, so dropping the call at assert_level 0 drops
# only the check. Keep the list short: a new entry needs the same reason.
ALLOWED = {
    "strlen",               # libc: counts bytes up to the NUL
    "rbatch_crc_ok",        # common/rbatch.c: CRC of a const batch vs its stored CRC
    "conn_inflight",        # dataplane/conn.h inline: seq_next - seq_head
    "conn_can_dispatch",    # dataplane/conn.h inline: compares counters with limits
    "conn_slot_pending",    # dataplane/conn.c: reads one reply slot's state
    "frame_rx_missing",     # dataplane/frame.h inline: body_len - body_have
    "dp_core_count",        # dataplane/dp.c: returns dp->core_count
    "plog_idle",            # storage/plog.c: no write and no sync in flight
    "pstate_snapshot_size",  # storage/pstate.c: sums sizes over the producer slots
    "ctl_sched_can_take",   # control/ctl_sched.c: compares queue counts with bounds
}

# Not calls: keywords and operators that take parentheses.
NOT_CALLS = {"sizeof", "_Alignof", "__alignof__", "alignof", "typeof", "__typeof__",
             "defined", "if", "while", "for", "switch", "return"}

TOKEN = re.compile(r"""
      (?P<space>\s+)
    | (?P<comment>/\*.*?\*/|//[^\n]*)
    | (?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<number>\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.])*)
    | (?P<punct><<=|>>=|\.\.\.|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|.)
""", re.VERBOSE | re.DOTALL)

ASSIGNMENTS = {"=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="}


def source_files(root):
    """Hand-written .c/.h files, sorted: tests/tidy.py's listing (the one
    walk of the source folders) without the generated ones."""
    return (p for p in tidy.source_files(root) if not p.startswith(SKIP_PREFIXES))


def tokens(text):
    """Yield (kind, value, line) for the code tokens of text (no spaces or comments).

    Preprocessor lines are kept: the macro definitions in common/assert.h are
    skipped by the caller, and an assert inside another macro is checked."""
    line = 1
    for match in TOKEN.finditer(text):
        kind = match.lastgroup
        value = match.group()
        if kind not in ("space", "comment"):
            yield kind, value, line
        line += value.count("\n")


def asserts(toks):
    """Yield (macro, line, condition tokens) for each assert use in toks."""
    index = 0
    while index < len(toks):
        kind, value, line = toks[index]
        is_use = (kind == "ident" and value in MACROS and index + 1 < len(toks)
                  and toks[index + 1][1] == "(")
        # `#define ASSERT(cond) ...` defines the macro, it does not use it.
        if is_use and index >= 1 and toks[index - 1][1] == "define":
            is_use = False
        if not is_use:
            index += 1
            continue
        depth = 0
        end = index + 1
        while end < len(toks):
            if toks[end][1] == "(":
                depth += 1
            elif toks[end][1] == ")":
                depth -= 1
                if depth == 0:
                    break
            end += 1
        yield value, line, toks[index + 2:end]
        index = end + 1


def problems(cond):
    """Yield a description of each side effect in an assert condition."""
    for at, (kind, value, _) in enumerate(cond):
        following = cond[at + 1][1] if at + 1 < len(cond) else ""
        if kind == "ident" and following == "(" and value not in NOT_CALLS:
            if value not in ALLOWED:
                yield f"call to {value}()"
        elif kind == "punct" and value in ASSIGNMENTS:
            yield f"assignment '{value}'"
        elif kind == "punct" and value in ("++", "--"):
            yield f"'{value}'"


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))
    failures = []
    files = checked = 0
    for path in source_files(root):
        files += 1
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            toks = list(tokens(f.read()))
        for macro, line, cond in asserts(toks):
            checked += 1
            found = list(problems(cond))
            if found:
                text = " ".join(value for _, value, _ in cond)
                failures.append(f"{path}:{line}: {macro}({text}): {', '.join(found)}")
    for message in failures:
        print(f"error: {message}")
    if failures:
        print("check-asserts: move the work out of the assert "
              "(rc = f(...); ASSERT(rc == 0);), or, for a pure function, "
              "add it to ALLOWED in scripts/check-asserts.py with the reason")
    print(f"check-asserts: {files} files, {checked} asserts, {len(failures)} errors")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
