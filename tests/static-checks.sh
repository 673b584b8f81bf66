#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Rules the reviewers would otherwise enforce by hand:
#  - kernel code must not panic on input: no unwrap/expect/panic!/todo!/
#    unimplemented! outside tests (a proven-safe line says "// ok-panic: why");
#  - `unsafe` only in the bindings/wrapper layers (src/bindings, src/vfs);
#  - every unsafe block there has a SAFETY comment;
#  - an SPDX line at the top of every source file under src/ and tests/host/;
#  - rustfmt-clean.
set -u
cd "$(dirname "$0")/.."
bad=0
src=$(find src -name '*.rs' | grep -v '/tests\?/' | sort)
hits=$(grep -nE '\.unwrap\(\)|\.expect\(|panic!\(|todo!\(|unimplemented!\(' $src |
	grep -v '// ok-panic' | awk -F: '{print $1":"$2}' |
	while IFS=: read -r f l; do
		# skip lines inside #[cfg(test)] modules: everything after the marker
		first=$(grep -n '#\[cfg(test)\]' "$f" | head -1 | cut -d: -f1)
		[ -n "$first" ] && [ "$l" -gt "$first" ] && continue
		echo "$f:$l: $(sed -n "${l}p" "$f")"
	done)
[ -z "$hits" ] || { echo "can panic:"; echo "$hits"; bad=1; }
hits=$(grep -lE '^[^/]*\bunsafe (\{|fn|impl|extern)' $src | grep -vE '^src/(bindings|vfs)/')
[ -z "$hits" ] || { echo "unsafe outside src/bindings and src/vfs:"; echo "$hits"; bad=1; }
# The comment block right above an unsafe block (or its own line) must say SAFETY.
for f in $(grep -lE 'unsafe \{' $src); do
	awk -v f="$f" '
		{ line[NR] = $0 }
		/unsafe \{/ && $0 !~ /SAFETY/ {
			ok = 0
			for (i = NR - 1; i > 0 && line[i] ~ /^[ \t]*\/\//; i--)
				if (line[i] ~ /SAFETY/) ok = 1
			if (!ok) { print f":"NR": unsafe block without a SAFETY comment"; n++ }
		}
		END { exit n > 0 }' "$f" || bad=1
done
# Every source file says its license first (after a shebang).
for f in $(find src tests/host -name '*.rs' -o -name '*.c' -o -name '*.h' | sort); do
	head -n 3 "$f" | grep -q 'SPDX-License-Identifier' || { echo "$f: no SPDX line"; bad=1; }
done
if command -v rustfmt >/dev/null; then
	roots=$(ls src/rext4_main.rs src/host_lib.rs 2>/dev/null)
	out=$(rustfmt --edition 2021 --check $roots 2>&1) || { echo "rustfmt:"; echo "$out" | head -n 40; bad=1; }
fi
exit $bad
