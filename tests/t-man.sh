#!/bin/bash
# tier: fast
# timeout: 180
# The man pages: every program in bin/ has man/PROG.1; each renders without
# a warning (groff -ww, mandoc -Tlint, man --warnings); its .TH names the
# program and the version it prints; the options under its OPTIONS are
# exactly those its --help lists, with the same arguments; and `make
# install` puts every program and page where man finds them (PREFIX,
# BINDIR, MANDIR and DESTDIR honoured), `make uninstall` removes them.
# Broken copies of a page must fail the same checks.
. "$(dirname "$0")/functions.sh"
requires groff
requires mandoc
requires man
requires python3

mandir=$top/man

# options.py help|man FILE: the options of a --help text or of a man page's
# OPTIONS section, one a line, sorted: "-o", "--output FILE", "--to DEST".
# In --help, the lines of the Options: section that start with two spaces
# and a dash, up to the first run of two spaces; in the man page, the tags
# of the .TP (and .TQ) entries of OPTIONS that are not inside .RS/.RE.
# Both are split at ", ".
cat >options.py <<'EOF'
import re, shlex, sys

def items(text):
    text = " ".join(text.split())
    return [t for t in text.split(", ") if t]

def from_help(lines):
    out, inside = [], False
    for line in lines:
        if line.rstrip() == "Options:":
            inside = True
        elif inside and not line.strip():
            break
        elif inside and re.match(r"  -", line):
            out += items(re.split(r"\s{2,}", line.strip())[0])
    return out

def unescape(s):
    s = re.sub(r"\\f(\(..|\[[^]]*\]|.)", "", s)
    s = s.replace("\\-", "-").replace("\\&", "").replace("\\|", "")
    s = s.replace("\\ ", " ").replace("\\e", "\\")
    return s

def roff_args(rest):
    # Arguments of a macro line: words, or "quoted" with "" for a quote.
    args, i = [], 0
    while i < len(rest):
        if rest[i] == " ":
            i += 1
        elif rest[i] == '"':
            j, arg = i + 1, ""
            while j < len(rest):
                if rest[j] == '"' and rest[j + 1:j + 2] == '"':
                    arg, j = arg + '"', j + 2
                elif rest[j] == '"':
                    j += 1
                    break
                else:
                    arg, j = arg + rest[j], j + 1
            args.append(arg)
            i = j
        else:
            j = rest.find(" ", i)
            j = len(rest) if j < 0 else j
            args.append(rest[i:j])
            i = j
    return args

def tag_text(line):
    m = re.match(r"\.(B|I|BI|IB|BR|RB|IR|RI|SM|SB)(?: (.*))?$", line)
    if not m:
        return unescape(line)
    args = roff_args(m.group(2) or "")
    sep = " " if m.group(1) in ("B", "I", "SM", "SB") else ""
    return unescape(sep.join(args))

def from_man(lines):
    out, inside, depth, want_tag = [], False, 0, False
    for line in lines:
        line = line.rstrip("\n")
        if line.startswith(".SH"):
            inside = line.split(None, 1)[1:] == ["OPTIONS"]
            continue
        if not inside or line.startswith('.\\"'):
            continue
        if want_tag:
            want_tag = False
            text = tag_text(line)
            if text.startswith("-"):
                out += items(text)
            continue
        if line.startswith(".RS"):
            depth += 1
        elif line.startswith(".RE"):
            depth -= 1
        elif (line.startswith(".TP") or line.startswith(".TQ")) and depth == 0:
            want_tag = True
    return out

kind, path = sys.argv[1], sys.argv[2]
with open(path) as f:
    lines = f.readlines()
opts = from_help(lines) if kind == "help" else from_man(lines)
for o in sorted(set(opts)):
    print(o)
if not opts:
    sys.exit("%s: no options found" % path)
EOF

# check_page PROG PAGE: PAGE is a good man page of bin/PROG; if not, say
# why on stderr and return 1.
check_page ()
{
  local prog=$1 page=$2 name out version th status=0

  out=$(groff -man -ww -z "$page" 2>&1) || true
  [[ -z $out ]] || { echo "$page: groff -ww: $out" >&2; status=1; }
  out=$(mandoc -Tlint "$page" 2>&1) || true
  [[ -z $out ]] || { echo "$page: mandoc -Tlint: $out" >&2; status=1; }
  out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || true
  [[ -z $out ]] || { echo "$page: man --warnings: $out" >&2; status=1; }

  # .TH PROG 1 DATE "p2vkit VERSION" ...: the version the program prints.
  version=$("$bin/$prog" --version | awk '{ print $NF }')
  th=$(grep -m1 '^\.TH ' "$page" || true)
  name=${prog^^}
  if [[ $th != ".TH ${name} 1 "*" \"p2vkit $version\""* ]]; then
    echo "$page: wanted '.TH $name 1 DATE \"p2vkit $version\" ...'," \
         "got '$th'" >&2
    status=1
  fi
  if ! grep -qx -e "$prog \\\\- .*" "$page"; then
    echo "$page: no NAME line '$prog \\- ...'" >&2
    status=1
  fi
  for section in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES \
                 "SEE ALSO"; do
    if ! grep -qx -e ".SH $section" -e ".SH \"$section\"" "$page"; then
      echo "$page: no section $section" >&2
      status=1
    fi
  done

  # The options: the same in --help and in the page, with their arguments.
  "$bin/$prog" --help >"help.$prog"
  python3 options.py help "help.$prog" >"help-options.$prog" || status=1
  python3 options.py man "$page" >"man-options.$prog" || status=1
  if ! out=$(diff "help-options.$prog" "man-options.$prog"); then
    {
      echo "$page: its OPTIONS differ from $prog --help" \
           "(<: only in --help, >: only in the page):"
      echo "$out" | grep '^[<>]'
    } >&2
    status=1
  fi
  return "$status"
}

# Every program has a good page.
programs=()
for path in "$bin"/*; do
  [[ -f $path && -x $path ]] && programs+=("${path##*/}")
done
[[ ${#programs[@]} -ge 7 ]] || fail "only ${#programs[@]} programs in $bin"
failed=0
for prog in "${programs[@]}"; do
  if [[ ! -f $mandir/$prog.1 ]]; then
    echo "FAIL: $prog: no man page $mandir/$prog.1" >&2
    failed=1
  elif ! check_page "$prog" "$mandir/$prog.1"; then
    echo "FAIL: $prog: man/$prog.1 (above)" >&2
    failed=1
  fi
done
for page in "$mandir"/*.1; do
  [[ -x $bin/$(basename "$page" .1) ]] \
    || { echo "FAIL: $page: no program bin/$(basename "$page" .1)" >&2; failed=1; }
done
[[ $failed == 0 ]] || fail "man pages (above)"

# The checks fail on a broken page: an option missing, one that --help does
# not list, an argument that differs, a roff mistake, a wrong version.
good=$mandir/p2v-send.1
grep -q '^\.B \\-\\-sync$' "$good" || fail "$good: no '.B \\-\\-sync' to break"
breakages=(
  's/^\.B \\-\\-sync$/.B \\-\\-synk/'
  '/^\.SH OPTIONS$/a .TP\n.B \\-\\-bogus\nNot an option.'
  's/^\.BI \\-\\-to " DEST"$/.BI \\-\\-to " DESTINATION"/'
  's/^\.B \\-\\-sync$/.B \\-\\-sync\n.XYZ/'
  's/^Flush$/Flush \\fX/'
  's/^\.TH P2V-SEND 1 \([^ ]*\) "p2vkit [^"]*"/.TH P2V-SEND 1 \1 "p2vkit 0.0.0"/'
)
for b in "${breakages[@]}"; do
  sed "$b" "$good" >broken.1
  ! cmp -s "$good" broken.1 || fail "sed '$b' changed nothing"
  if check_page p2v-send broken.1 2>broken.err; then
    fail "a broken p2v-send.1 passed (sed '$b')"
  fi
  echo "sed '$b': rejected: $(head -1 broken.err)"
done

# make install: each program in BINDIR, each page in MANDIR/man1, where
# man finds it.  `-o all`: the programs as they are in bin/, not rebuilt
# here (make check has just built them; a test does not build).
make_install ()
{
  make -s --no-print-directory -o all -C "$top" "$@" >make.out 2>&1 \
    || { cat make.out >&2; fail "make $*"; }
}
dest=$scratch/dest
make_install install DESTDIR="$dest"
for prog in "${programs[@]}"; do
  [[ -x $dest/usr/local/bin/$prog ]] \
    || fail "make install: no $dest/usr/local/bin/$prog"
  cmp "$bin/$prog" "$dest/usr/local/bin/$prog"
  cmp "$mandir/$prog.1" "$dest/usr/local/share/man/man1/$prog.1"
  found=$(man -M "$dest/usr/local/share/man" -w "$prog")
  [[ $found == "$dest/usr/local/share/man/man1/$prog.1" ]] \
    || fail "man -M $dest/usr/local/share/man -w $prog: '$found'"
  MANWIDTH=80 man -M "$dest/usr/local/share/man" "$prog" >page.txt 2>&1
  grep -Eq "^ +$prog +- " page.txt || fail "man $prog: $(head -5 page.txt)"
done
make_install uninstall DESTDIR="$dest"
left=$(find "$dest" -type f)
[[ -z $left ]] || fail "make uninstall left: $left"

make_install install DESTDIR="$dest" PREFIX=/opt/p2vkit BINDIR=/opt/bin \
  MANDIR=/opt/man
for prog in "${programs[@]}"; do
  [[ -x $dest/opt/bin/$prog && -f $dest/opt/man/man1/$prog.1 ]] \
    || fail "make install BINDIR=/opt/bin MANDIR=/opt/man: no $prog or its page"
done
make_install uninstall DESTDIR="$dest" PREFIX=/opt/p2vkit BINDIR=/opt/bin \
  MANDIR=/opt/man
make_install install DESTDIR="$dest" PREFIX=/opt/p2vkit
for prog in "${programs[@]}"; do
  [[ -x $dest/opt/p2vkit/bin/$prog \
     && -f $dest/opt/p2vkit/share/man/man1/$prog.1 ]] \
    || fail "make install PREFIX=/opt/p2vkit: no $prog or its page"
done
make_install uninstall DESTDIR="$dest" PREFIX=/opt/p2vkit
left=$(find "$dest" -type f)
[[ -z $left ]] || fail "make uninstall left: $left"
