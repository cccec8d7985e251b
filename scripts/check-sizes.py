#!/usr/bin/python3
"""Lists functions longer than 80 lines and classes longer than 300 in sim/ and models/
(parameter tables aside: brace-initialised data is not a function). A rough scanner: it
counts from the line that opens a function or class body to the line that closes it."""
import re, sys, pathlib

FUNC_LIMIT, CLASS_LIMIT = 80, 300
root = pathlib.Path(__file__).resolve().parent.parent
bad = []
for path in sorted(list(root.glob("sim/**/*.[ch]pp")) + list(root.glob("models/**/*.[ch]pp"))):
    lines = path.read_text().splitlines()
    stack = []  # (kind, start line, name)
    for no, line in enumerate(lines, 1):
        code = re.sub(r'"(\\.|[^"\\])*"', '""', line.split("//")[0])
        for ch in code:
            if ch == "{":
                head = code[: code.index("{")] if "{" in code else ""
                ctx = head.strip() or (lines[no - 2].strip() if no > 1 else "")
                if re.search(r"\b(class|struct)\s+\w+[^;=()]*$", ctx) and "(" not in ctx:
                    stack.append(("class", no, ctx))
                elif re.search(r"\)\s*(const)?\s*(override|final|noexcept)?\s*(->\s*[\w:<>]+)?\s*$", ctx) and not re.match(
                        r"\s*(if|for|while|switch|catch)\b", ctx) and not any(k == "func" for k, _, _ in stack):
                    stack.append(("func", no, ctx))
                else:
                    stack.append(("block", no, ctx))
            elif ch == "}" and stack:
                kind, start, name = stack.pop()
                n = no - start + 1
                if kind == "func" and n > FUNC_LIMIT or kind == "class" and n > CLASS_LIMIT:
                    bad.append(f"{path.relative_to(root)}:{start}: {kind} of {n} lines: {name[:70]}")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
