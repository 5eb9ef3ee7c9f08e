#!/bin/bash
# The documentation against the code.  Needs no root and starts nothing:
# it reads the tree, the sources of the config loader, tests/run.sh and
# the output of `sipdlgctl --help` / `sipdlgd --help`, and compares them
# with README.md, config/sipdlg.yaml and the man pages in man/.  Every
# failure names what is missing, and where.
#
#  - README tables: no table is broken by a line that is not a row.
#  - Layout: every top-level folder and every direct subfolder of user/,
#    bpf/, tools/, tests/ and config/ (folders holding tracked files) has
#    a row of the README's Layout table, or is named as `NAME/` in the
#    row of its parent; every path the table names exists.
#  - CLI: the verbs of `sipdlgctl --help` and the README's CLI table are
#    the same set, and so are those of sipdlgctl.8's VERBS section; every
#    long option of each --help is in its man page.
#  - Config: the keys the loader accepts are its struct cfg_key tables
#    (user/**.c: top_keys is the top level, NAME_keys the section NAME,
#    cfg_dialog_keys dialog:).  config/sipdlg.yaml is the reference: every
#    key is in it under its section (commented out where it has no
#    default worth writing), every alias is named in it, and every key it
#    holds is one the loader knows.  The README's config table has one
#    row per top-level key and its rows name each key of their section
#    (dialog: excepted: its ~80 keys are in sipdlg.yaml and sipdlg.yaml.5);
#    sipdlg.yaml.5 has a subsection per top-level key and names every key,
#    and its EXAMPLE passes `sipdlgd --check`.
#  - Tests: every tier of tests/run.sh has a `make test-TIER` target and
#    the README's Tests section names it.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
README="$ROOT/README.md"
YAML="$ROOT/config/sipdlg.yaml"
MAN="$ROOT/man"
CTL="$ROOT/build/sipdlgctl"
DAEMON="$ROOT/build/sipdlgd"
N=0 FAILED=0
TMP=$(mktemp -d /tmp/sipdlg-docs.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT

ok() { N=$((N + 1)); echo "ok $N - $1"; }
# not_ok NAME FILE: the lines of FILE become diagnostics.
not_ok() {
	N=$((N + 1)); FAILED=$((FAILED + 1))
	echo "not ok $N - $1"
	sed 's/^/# /' "$2"
}
# verdict NAME FILE: ok when FILE (the list of problems) is empty.
verdict() { if [ -s "$2" ]; then not_ok "$1" "$2"; else ok "$1"; fi; }

# section_table HEADING: the rows (not header, not separator) of the first
# table in the README section "## HEADING", up to the first line that is
# not a row.
section_table() {
	awk -v h="## $1" '
		$0 == h { in_s = 1; next }
		in_s && /^## / { exit }
		in_s && /^\|/ { t++; if (t > 2) print; seen = 1; next }
		in_s && seen { exit }' "$README"
}

# section_text HEADING: the whole README section "## HEADING".
section_text() {
	awk -v h="## $1" '$0 == h { s = 1; next } s && /^## / { exit } s' "$README"
}

# first_cell: the first cell of each table row on stdin.
first_cell() { awk -F'|' '{ print $2 }'; }

# ticked: every `...` span on stdin, one a line.
ticked() { grep -o '`[^`]*`' | tr -d '`'; }

# --- README tables are whole ------------------------------------------------
# A row that follows a non-row line must start a table: a header row
# followed by a |---| separator; every row has as many cells as its
# header (a "|" inside a cell, even in `code`, splits it unless written
# "\|").  Code blocks are skipped.
awk '
	function cells(l,    t) { t = l; gsub(/\\\|/, "", t); return gsub(/\|/, "", t) }
	/^```/ { code = !code; prev = ""; next }
	code { next }
	/^\|/ {
		if (prev !~ /^\|/) {
			want = cells($0)
			if ((getline nxt) > 0 && nxt !~ /^\|[ :|-]+\|?$/)
				printf "README.md:%d: table row outside a table " \
				       "(a line that is not a row came before it): %s\n", NR - 1, $0
			prev = nxt; next
		}
		if (cells($0) != want)
			printf "README.md:%d: %d cells, its table has %d: %s\n",
			       NR, cells($0) - 1, want - 1, $0
	}
	{ prev = $0 }' "$README" >"$TMP/tables"
verdict "README.md: every table is unbroken" "$TMP/tables"

# --- layout -------------------------------------------------------------------
section_table Layout >"$TMP/layout"
first_cell <"$TMP/layout" | ticked | sed 's|/*$|/|' | sort -u >"$TMP/layout.paths"

if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$ROOT" ls-files | sed -n 's|/[^/]*$||p' | grep -v '^\.' |
		sort -u >"$TMP/alldirs"
else
	(cd "$ROOT" && find . -mindepth 1 -type d ! -path './.*' ! -path './build*' |
		sed 's|^\./||') | sort -u >"$TMP/alldirs"
fi
{
	awk -F/ '{ print $1 }' "$TMP/alldirs"
	grep -E '^(user|bpf|tools|tests|config)/[^/]+' "$TMP/alldirs" |
		awk -F/ '{ print $1 "/" $2 }'
} | sort -u >"$TMP/dirs"

# One awk: the rows (first cell -> whole row), then each folder.
awk -F'|' '
	FNR == NR { c = $2; gsub(/[` ]/, "", c); sub(/\/*$/, "/", c)
		    row[c] = $0; next }
	{
		d = $0
		if ((d "/") in row) next
		if (index(d, "/")) {
			parent = d; sub(/\/[^\/]*$/, "", parent)
			name = substr(d, length(parent) + 2)
			# named as `NAME/...` in the row of its parent
			if ((parent "/") in row && index(row[parent "/"], "`" name "/"))
				next
			printf "README.md, ## Layout: no row for %s/ (add a row `%s/`, or name `%s/` in the row of %s/)\n", d, d, name, parent
		} else {
			printf "README.md, ## Layout: no row for %s/ (add a row `%s/`)\n", d, d
		}
	}' "$TMP/layout" "$TMP/dirs" >"$TMP/missing"
verdict "README layout: every folder of the tree has a row" "$TMP/missing"

# Paths the table names: first cells, and `NAME/` inside a parent's row.
awk -F'|' '
	{
		c = $2; gsub(/[` ]/, "", c)
		print c
		if (c !~ /\/$/) next
		t = $3
		while (match(t, /`[A-Za-z0-9_.\/-]*\/`/)) {
			print c substr(t, RSTART + 1, RLENGTH - 2) "\t" c
			t = substr(t, RSTART + RLENGTH)
		}
	}' "$TMP/layout" >"$TMP/named"
while IFS=$'\t' read -r p parent; do
	[ "$p" = build/ ] && continue	# generated, not in git
	[ -e "$ROOT/$p" ] && continue
	if [ -n "$parent" ]; then
		echo "README.md, ## Layout: the row of $parent names ${p#"$parent"}, which is not $p"
	else
		echo "README.md, ## Layout: row $p names no folder or file of the tree"
	fi
done <"$TMP/named" >"$TMP/stale"
verdict "README layout: every path the table names exists" "$TMP/stale"

# --- CLI ------------------------------------------------------------------------
# verbs from --help: the lines under "verbs:" up to the blank line.
help_verbs() {
	"$1" --help 2>&1 | awk '/^verbs:/ { v = 1; next } v && /^$/ { exit }
		v && /^  [a-z]/ { print $1 }' | sort -u
}
# man_verbs FILE: the first word of each .TP tag in the VERBS section.
man_verbs() {
	awk '/^\.SH/ { v = ($2 == "VERBS" || $2 == "\"VERBS\""); next }
		v && /^\.TP/ { getline; sub(/^\.[BIR]+ +/, ""); gsub(/"/, "");
			       gsub(/\\f[BIRP]/, ""); gsub(/\\-/, "-"); print $1 }' "$1" |
		sort -u
}
# long_options CMD: every --name in CMD --help.
long_options() { "$1" --help 2>&1 | grep -oE -- '--[a-z][a-z-]*' | sort -u; }
# man_text FILE: the man source with font escapes and \- undone.
man_text() { sed -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\-/-/g' -e 's/\\(em/--/g' "$1"; }

# compare NAME A_LABEL A_FILE B_LABEL B_FILE: each side's lines missing
# from the other.
compare() {
	local name=$1 al=$2 a=$3 bl=$4 b=$5
	{
		comm -23 "$a" "$b" | sed "s|^|in $al, not in $bl: |"
		comm -13 "$a" "$b" | sed "s|^|in $bl, not in $al: |"
	} >"$TMP/cmp"
	verdict "$name" "$TMP/cmp"
}

if [ -x "$CTL" ]; then
	help_verbs "$CTL" >"$TMP/verbs.help"
	if [ -s "$TMP/verbs.help" ]; then
		ok "sipdlgctl --help lists verbs"
	else
		echo "sipdlgctl --help printed no 'verbs:' list" >"$TMP/x"
		not_ok "sipdlgctl --help lists verbs" "$TMP/x"
	fi
	section_table "CLI: sipdlgctl" | first_cell | ticked |
		awk '{ print $1 }' | sort -u >"$TMP/verbs.readme"
	compare "README CLI table: the verbs of sipdlgctl --help, no more" \
		"sipdlgctl --help" "$TMP/verbs.help" \
		"the README's CLI table" "$TMP/verbs.readme"
	if [ -f "$MAN/sipdlgctl.8" ]; then
		man_verbs "$MAN/sipdlgctl.8" >"$TMP/verbs.man"
		compare "sipdlgctl.8 VERBS: the verbs of sipdlgctl --help, no more" \
			"sipdlgctl --help" "$TMP/verbs.help" \
			"man/sipdlgctl.8 VERBS" "$TMP/verbs.man"
	else
		echo "man/sipdlgctl.8 does not exist" >"$TMP/x"
		not_ok "sipdlgctl.8 VERBS: the verbs of sipdlgctl --help, no more" "$TMP/x"
	fi
else
	echo "ok $((N += 1)) - the CLI checks # SKIP build/sipdlgctl is not built (make all)"
fi

for prog in sipdlgd sipdlgctl; do
	bin="$ROOT/build/$prog" page="$MAN/$prog.8"
	if [ ! -x "$bin" ]; then
		echo "ok $((N += 1)) - $prog.8 options # SKIP build/$prog is not built"
		continue
	fi
	: >"$TMP/opts"
	for o in $(long_options "$bin"); do
		[ -f "$page" ] && man_text "$page" | grep -qe "$o" && continue
		echo "$prog --help has $o; man/$prog.8 does not name it"
	done >"$TMP/opts"
	verdict "$prog.8 names every option of $prog --help" "$TMP/opts"
done

# --- configuration ---------------------------------------------------------------
# The loader's tables: "SECTION KEY" lines, SECTION "top" for the top
# level; "alias" lines for aliases.
find "$ROOT/user" -name '*.c' -exec awk '
	match($0, /struct cfg_key [a-z_0-9]+\[\] = \{/) {
		t = $0; sub(/.*struct cfg_key /, "", t); sub(/\[.*/, "", t)
		sub(/^cfg_/, "", t); sub(/_keys$/, "", t)
		if (t == "top") t = "top"
		next
	}
	t != "" && /^};/ { t = ""; next }
	t != "" && /^\t[{A-Z]/ {
		line = $0
		alias = (line ~ /^\tALIAS_KEY\(/)
		if (match(line, /^\t\{ *"[a-z_0-9]+"/) || match(line, /^\t[A-Z_]+\("?[a-z_0-9]+/)) {
			k = substr(line, RSTART, RLENGTH)
			sub(/"$/, "", k); sub(/^.*[("]/, "", k)
			print (alias ? "alias" : "key"), t, k
		}
	}' {} + | sort -u >"$TMP/loader"

awk '$1 == "key" { print $2, $3 }' "$TMP/loader" >"$TMP/keys"
if [ -s "$TMP/keys" ] && grep -q '^top ' "$TMP/keys"; then
	ok "the config loader's key tables are found ($(wc -l <"$TMP/keys") keys)"
else
	echo "no struct cfg_key table named top_keys under user/" >"$TMP/x"
	not_ok "the config loader's key tables are found" "$TMP/x"
fi

# Every key path of sipdlg.yaml ("a.b.c"), commented-out keys ("# key:"
# right after the indentation) included; "{ a: 1 }" flow maps opened.
awk '
	function emit(p) { print p }
	/^ *(#|$)/ && !/^ *# [a-z_][a-z0-9_]*:( |$)/ { next }
	{
		line = $0
		sub(/# /, "", line)		# a commented-out key
		gsub(/- /, "  ", line)		# list items: keys one level in
		match(line, /^ */); ind = RLENGTH
		rest = substr(line, ind + 1)
		if (!match(rest, /^[a-z_][a-z0-9_]*:( |$)/)) next
		key = substr(rest, 1, RLENGTH); sub(/: ?$/, "", key)
		while (depth > 0 && indent[depth] >= ind) depth--
		depth++; indent[depth] = ind; name[depth] = key
		path = name[1]
		for (i = 2; i <= depth; i++) path = path "." name[i]
		emit(path)
		val = substr(rest, RLENGTH + 1)
		if (val ~ /^\{/) {
			sub(/\}.*/, "", val)
			while (match(val, /[a-z_][a-z0-9_]*:/)) {
				emit(path "." substr(val, RSTART, RLENGTH - 1))
				val = substr(val, RSTART + RLENGTH)
			}
		}
	}' "$YAML" | grep -v '^routes\.' | sort -u >"$TMP/yaml"

# match(S, PARENT): the section name S names the dotted PARENT path of
# sipdlg.yaml, as S itself or as its last components joined by "_"
# (xdp.cookie_mac is cookie_mac or xdp_cookie_mac).
MATCH_FN='
function under(s, par,    u) {
	u = par; gsub(/\./, "_", u)
	return u == s || substr(u, length(u) - length(s)) == "_" s
}'
awk "$MATCH_FN"'
	FNR == NR { n = split($0, p, "."); last[$0] = p[n]
		    par[$0] = n > 1 ? substr($0, 1, length($0) - length(p[n]) - 1) : ""
		    next }
	$1 == "alias" { next }
	{
		s = $2; k = $3; f = 0
		for (q in last)
			if (last[q] == k && (s == "top" ? par[q] == "" : under(s, par[q]))) { f = 1; break }
		if (!f)
			printf "config/sipdlg.yaml does not document %s (write it with its default, or as \"# %s: ...\" under %s:)\n", (s == "top" ? k : s "." k), k, s
	}' "$TMP/yaml" "$TMP/loader" >"$TMP/missing"
# Aliases: named anywhere in the file (as "# alias NAME" comments).
awk 'FNR == NR { n = split($0, w, /[^a-z0-9_]+/); for (i = 1; i <= n; i++) word[w[i]] = 1; next }
	$1 == "alias" && !($3 in word) { printf "config/sipdlg.yaml does not name the alias %s.%s\n", $2, $3 }' \
	"$YAML" "$TMP/loader" >>"$TMP/missing"
verdict "config/sipdlg.yaml documents every key the loader accepts" "$TMP/missing"

# Reverse: every key written in sipdlg.yaml is one the loader knows.
awk "$MATCH_FN"'
	FNR == NR { sec[NR] = $1; key[NR] = $2; nk = NR; next }
	{
		n = split($0, p, "."); k = p[n]
		parent = n > 1 ? substr($0, 1, length($0) - length(k) - 1) : ""
		f = 0
		for (i = 1; i <= nk; i++)
			if (key[i] == k && (parent == "" ? sec[i] == "top" : sec[i] != "top" && under(sec[i], parent))) { f = 1; break }
		if (!f)
			printf "config/sipdlg.yaml has %s, which the loader does not accept\n", $0
	}' "$TMP/keys" "$TMP/yaml" >"$TMP/unknown"
verdict "config/sipdlg.yaml holds no key the loader refuses" "$TMP/unknown"

# The README's configuration table: one row per top-level key.
section_table Configuration >"$TMP/cfgtable"
first_cell <"$TMP/cfgtable" | ticked | sort -u >"$TMP/cfg.rows"
awk '$1 == "top" { print $2 }' "$TMP/keys" | sort -u >"$TMP/cfg.top"
compare "README config table: one row per top-level key of the loader" \
	"the loader's top_keys" "$TMP/cfg.top" \
	"the README's config table" "$TMP/cfg.rows"

awk -F'|' '
	FNR == NR {
		c = $2; gsub(/[` ]/, "", c)
		# every `...` span of the row, by row, and of the whole table
		t = $0; spans = " "
		while (match(t, /`[^`]*`/)) {
			w = substr(t, RSTART + 1, RLENGTH - 2); spans = spans w " "
			all[w] = 1; t = substr(t, RSTART + RLENGTH)
		}
		row[c] = spans; next
	}
	{
		split($0, sk, " "); s = sk[1]; k = sk[2]
		if (s == "top" || s == "dialog") next
		if (s in row) {
			# `KEY`, or `KEY.sub` for a nested section named by its path
			if (index(row[s], " " k " ") || index(row[s], " " k ".")) next
			printf "README.md, ## Configuration: the row of %s does not name `%s` (%s.%s)\n", s, k, s, k
		} else {	# a nested section: its key anywhere in the table
			f = (k in all)
			for (w in all)
				if (w == s "." k || substr(w, length(w) - length(s "." k)) == "." s "." k) f = 1
			if (!f) printf "README.md, ## Configuration: no row names `%s.%s`\n", s, k
		}
	}' "$TMP/cfgtable" "$TMP/keys" >"$TMP/missing"
verdict "README config table: each section's row names its keys (dialog: in sipdlg.yaml)" "$TMP/missing"

# sipdlg.yaml(5): a subsection per top-level key, every key named.
page="$MAN/sipdlg.yaml.5"
: >"$TMP/missing"
if [ -f "$page" ]; then
	man_text "$page" >"$TMP/page5"
	while read -r k; do
		grep -qE "^\.SS \"?$k:?\"?( |$)" "$TMP/page5" ||
			echo "man/sipdlg.yaml.5 has no subsection '.SS $k'"
	done <"$TMP/cfg.top"
	awk 'FNR == NR { n = split($0, w, /[^a-z0-9_]+/); for (i = 1; i <= n; i++) word[w[i]] = 1; next }
		!($3 in word) { printf "man/sipdlg.yaml.5 does not name %s\n", ($2 == "top" ? $3 : $2 "." $3) }' \
		"$TMP/page5" "$TMP/loader"
else
	echo "man/sipdlg.yaml.5 does not exist"
fi >"$TMP/missing"
verdict "sipdlg.yaml.5 names every section and every key of the loader" "$TMP/missing"

# The EXAMPLE of sipdlg.yaml.5, as man prints it, is a valid config.
if [ -f "$page" ] && [ -x "$DAEMON" ] && command -v man >/dev/null; then
	MANWIDTH=80 man -l "$page" 2>/dev/null |
		awk '/^EXAMPLE/ { e = 1; next } e && /^[A-Z]/ { exit } e' |
		sed 's/^       //' >"$TMP/example.yaml"
	if [ -s "$TMP/example.yaml" ] &&
		"$DAEMON" -c "$TMP/example.yaml" --check >"$TMP/x" 2>&1; then
		ok "the EXAMPLE of sipdlg.yaml.5 passes sipdlgd --check"
	else
		{ echo "man/sipdlg.yaml.5 EXAMPLE:"; cat "$TMP/example.yaml"; cat "$TMP/x"; } >"$TMP/y"
		not_ok "the EXAMPLE of sipdlg.yaml.5 passes sipdlgd --check" "$TMP/y"
	fi
else
	echo "ok $((N += 1)) - the EXAMPLE of sipdlg.yaml.5 # SKIP no man page, sipdlgd or man"
fi

# --- test tiers --------------------------------------------------------------------
awk '/case "\$tier" in/ { c = 1; next } c && /^\tesac/ { exit }
	c && /^\t[a-z0-9]+\)/ { t = $1; sub(/\).*/, "", t); print t }' \
	"$ROOT/tests/run.sh" | sort -u >"$TMP/tiers"
section_text Tests >"$TMP/tests.md"
: >"$TMP/missing"
while read -r t; do
	grep -qE "^test-$t:" "$ROOT/Makefile" ||
		echo "Makefile has no target test-$t for the tier $t of tests/run.sh"
	grep -qF "make test-$t" "$TMP/tests.md" ||
		echo "README.md, ## Tests: does not name 'make test-$t' (tier $t of tests/run.sh)"
done <"$TMP/tiers" >"$TMP/missing"
[ -s "$TMP/tiers" ] || echo "tests/run.sh: no tier found in its case" >"$TMP/missing"
verdict "README tests: every tier of tests/run.sh ($(tr '\n' ' ' <"$TMP/tiers"| sed 's/ $//'))" "$TMP/missing"

echo "1..$N"
[ "$FAILED" -eq 0 ]
