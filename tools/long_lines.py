"""List, and with --fix wrap, code lines longer than the project's limit in notebooks' code cells.

    python tools/long_lines.py nbs/*.ipynb nbs/experiments/*.ipynb          # list them; exit 1 when any
    python tools/long_lines.py --fix nbs/08_pipeline.ipynb                  # wrap what can be wrapped safely

--fix only makes changes that leave the cell's syntax tree as it was (checked with `ast` for every cell it touches):
a trailing comment that pushes a line over goes on its own line above; `a; b` at the top of a line becomes two lines
(never after `if x:` and the like, where it would change the meaning); a long line inside brackets is broken after a
comma, the rest aligned under the bracket. What it cannot wrap is listed for a person to do. Run `nbdev_clean` and
`nbdev_export` after."""
import argparse, ast, io, json, sys, tokenize
from pathlib import Path

LIMIT = 120
_COMPOUND = ('if ', 'elif ', 'else:', 'for ', 'while ', 'with ', 'def ', 'class ', 'try:', 'except', 'finally:',
             'async ', '@')

def _tokens(line:str):
    try: return list(tokenize.generate_tokens(io.StringIO(line + '\n').readline))
    except (tokenize.TokenError, IndentationError, SyntaxError): return None

def _split_comment(line:str) -> list[str]|None:
    "`code  # comment` -> the comment on its own line above, when that makes the code fit."
    toks = _tokens(line)
    if not toks: return None
    com = [t for t in toks if t.type == tokenize.COMMENT]
    if not com or com[0].start[1] == len(line) - len(line.lstrip()): return None
    code = line[:com[0].start[1]].rstrip(); ind = ' ' * (len(line) - len(line.lstrip()))
    if len(code) > LIMIT: return None
    return [ind + com[0].string, code]

def _split_semicolons(line:str) -> list[str]|None:
    "`a; b; c` (statements at the start of a line, not a compound statement's body) -> one per line."
    stripped = line.lstrip(); ind = line[:len(line) - len(stripped)]
    if stripped.startswith(_COMPOUND) or stripped.startswith('#'): return None
    toks = _tokens(line)
    if not toks: return None
    depth, cuts = 0, []
    for t in toks:
        if t.type == tokenize.OP and t.string in '([{': depth += 1
        elif t.type == tokenize.OP and t.string in ')]}': depth -= 1
        elif t.type == tokenize.OP and t.string == ';' and depth == 0: cuts.append(t.start[1])
        elif t.type == tokenize.OP and t.string == ':' and depth == 0 and t is not toks[-1]:
            return None   # a lambda or an inline body somewhere: leave it
    if not cuts: return None
    parts, prev = [], 0
    for c in cuts: parts.append(line[prev:c].strip()); prev = c + 1
    parts.append(line[prev:].strip())
    return [ind + p for p in parts if p]

def _split_body(line:str) -> list[str]|None:
    "`if x: y` (a compound statement with its body on the line) -> the body on the next line, indented."
    stripped = line.lstrip(); ind = line[:len(line) - len(stripped)]
    if not stripped.startswith(_COMPOUND) or stripped.startswith('@'): return None
    toks = _tokens(line)
    if not toks: return None
    depth = 0
    for t in toks:
        if t.type == tokenize.OP and t.string in '([{': depth += 1
        elif t.type == tokenize.OP and t.string in ')]}': depth -= 1
        elif t.type == tokenize.NAME and t.string == 'lambda' and depth == 0: return None
        elif t.type == tokenize.OP and t.string == ':' and depth == 0:
            body = line[t.end[1]:].strip()
            if not body or body.startswith('#'): return None
            return [line[:t.end[1]], ind + '    ' + body]
    return None

def _prefix(tok:str) -> int:
    i = 0
    while i < len(tok) and tok[i] in 'rRbBfFuU': i += 1
    return i

def _string_cut(tok:str, room:int) -> int|None:
    "Where to cut string literal `tok` (a position in it): the last space within `room` characters, outside `{}`."
    i = _prefix(tok)
    if tok[i:i+3] in ('"' * 3, "'" * 3): return None
    f, depth, best, j = 'f' in tok[:i].lower(), 0, None, i + 1
    while j < len(tok) - 1:
        ch = tok[j]
        if f and tok[j:j+2] in ('{{', '}}'): j += 2; continue
        if ch == '\\': j += 2; continue
        if f and ch == '{': depth += 1
        elif f and ch == '}': depth -= 1
        elif ch == ' ' and depth == 0 and j + 1 <= room and j > i + 10: best = j + 1
        j += 1
    return best

def _bracket_splits(src:str, lineno:int) -> list[str]|None:
    "`src`'s lines, line `lineno` broken inside a bracket that runs past the limit: after a comma, or in a string."
    try: toks = list(tokenize.generate_tokens(io.StringIO(src + '\n').readline))
    except (tokenize.TokenError, IndentationError, SyntaxError): return None
    close, stack = {}, []   # index of an opening bracket token -> (line, col) where it closes
    for k, t in enumerate(toks):
        if t.type == tokenize.OP and t.string in '([{': stack.append(k)
        elif t.type == tokenize.OP and t.string in ')]}' and stack: close[stack.pop()] = t.start
    lines = src.split('\n'); line = lines[lineno - 1]; stack, best = [], None
    for k, t in enumerate(toks):
        if t.type == tokenize.OP and t.string in '([{': stack.append(k)
        elif t.type == tokenize.OP and t.string in ')]}': stack and stack.pop()
        if t.start[0] != lineno or not stack: continue
        long = close.get(stack[-1], (10**9, 0)) > (lineno, LIMIT)   # this bracket's contents run past the limit
        col = toks[stack[-1]].end[1] if toks[stack[-1]].start[0] == lineno else None
        if col is None:   # opened on an earlier line: align with what follows it there
            col = toks[stack[-1] + 1].start[1] if toks[stack[-1] + 1].start[0] == toks[stack[-1]].start[0] else None
        if col is None: continue
        if (t.type == tokenize.OP and t.string == ',' and long and t.end[1] <= LIMIT
                and line[t.end[1]:].strip()[:1] not in ('', '#')): best = (t.end[1], col)
        elif (t.type == tokenize.STRING and t.end[0] == lineno and t.end[1] > LIMIT and t.start[1] < LIMIT - 20
              and best is None):
            cut = _string_cut(t.string, LIMIT - t.start[1] - 1)
            if cut is None: return None
            i = _prefix(t.string); q = t.string[i]
            a, b = t.string[:cut] + q, t.string[:i] + q + t.string[cut:]
            return lines[:lineno - 1] + [line[:t.start[1]] + a, ' ' * t.start[1] + b + line[t.end[1]:]] + lines[lineno:]
    if best is None or best[1] >= LIMIT - 40: return None
    cut, col = best
    return lines[:lineno - 1] + [line[:cut].rstrip(), ' ' * col + line[cut:].strip()] + lines[lineno:]

def wrap_line(line:str, depth:int=0) -> list[str]:
    "`line` as lines within the limit where a safe split exists (recursively), else as it was."
    if len(line) <= LIMIT or depth > 8: return [line]
    for split in (_split_comment, _split_semicolons, _split_body):
        if (parts := split(line)) and parts != [line]:
            return [q for p in parts for q in wrap_line(p, depth + 1)]
    return [line]

def _same_tree(a:str, b:str) -> bool:
    try: return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except SyntaxError: return False

def wrap_source(src:str) -> str:
    "A cell's source with each long line wrapped where that leaves the cell's syntax tree as it was."
    lines = src.split('\n'); i = 0
    while i < len(lines):
        if len(lines[i]) <= LIMIT: i += 1; continue
        for trial in (lines[:i] + wrap_line(lines[i]) + lines[i+1:], _bracket_splits('\n'.join(lines), i + 1)):
            if trial and trial != lines and _same_tree('\n'.join(lines), '\n'.join(trial)): lines = trial; break
        else: i += 1   # nothing safe: left for a person
    return '\n'.join(lines)

def long_lines(path:Path) -> list[tuple[int, int, str]]:
    "(cell index, length, line) of every code line over the limit."
    nb = json.loads(path.read_text(encoding='utf-8'))
    return [(i, len(l), l) for i, c in enumerate(nb['cells']) if c['cell_type'] == 'code'
            for l in ''.join(c['source']).split('\n') if len(l) > LIMIT]

def fix(path:Path) -> int:
    "Wrap the long lines of a notebook's code cells in place; return how many lines were fixed."
    nb = json.loads(path.read_text(encoding='utf-8')); before = len(long_lines(path))
    for c in nb['cells']:
        if c['cell_type'] != 'code': continue
        src = ''.join(c['source']); new = wrap_source(src)
        if new != src:
            ls = new.split('\n'); c['source'] = [l + '\n' for l in ls[:-1]] + ([ls[-1]] if ls[-1] else [])
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    return before - len(long_lines(path))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('notebooks', nargs='+', type=Path); ap.add_argument('--fix', action='store_true')
    a = ap.parse_args(); left = 0
    for p in a.notebooks:
        if a.fix: print(f"{p}: {fix(p)} lines wrapped")
        for i, n, l in long_lines(p): print(f"{p} cell {i}: {n} characters: {l.strip()[:80]}..."); left += 1
    print(f"{left} lines over {LIMIT} characters left")
    sys.exit(1 if left else 0)
