#!/usr/bin/env bash
# cloak package / unpack / fingerprint / keygen as scripts use them, and an independent check
# of determinism: GNU tar, told to normalise the same way, must produce the very same bytes.
# Usage: test_package_cli.sh CLOAK_BINARY
set -u
CLOAK=$1
. "$(dirname "$0")/lib.sh"
export CLOAK_CONFIG_DIR=$T/config

mkdir -p "$T/app/src/lib" "$T/app/.git" "$T/app/empty"
printf 'print("hello")\n' >"$T/app/src/main.py"
printf '#!/bin/sh\nexec python3 src/main.py\n' >"$T/app/run.sh"
chmod 755 "$T/app/run.sh"
ln -s src/main.py "$T/app/main"
echo secret >"$T/app/.git/HEAD"
printf '.git/\n*.log\n' >"$T/app/.cloakignore"
echo noise >"$T/app/debug.log"
long="$T/app/src/lib/a-directory-name-that-is-rather-long-on-purpose/and-another-one-just-as-long-as-the-first"
mkdir -p "$long"
echo deep >"$long/file-with-a-name-long-enough-to-need-the-ustar-prefix-field.txt"
find "$T/app" -type d -exec chmod 755 {} +
find "$T/app" -type f ! -name run.sh -exec chmod 644 {} +

# --- fingerprint, and GNU tar as an independent oracle ------------------------------------
expect 0 "fingerprint" -- "$CLOAK" fingerprint "$T/app" --json
fp=$(jget "$T/out" "d['fingerprint']")
[ ${#fp} = 64 ] && ok || bad "fingerprint is 64 hex digits"
(
	cd "$T/app"
	find . -mindepth 1 \( -path ./.git -o -name '*.log' \) -prune -o -print | sed 's|^\./||' |
		while read -r p; do [ -d "$p" ] && echo "$p/" || echo "$p"; done | LC_ALL=C sort >"$T/list"
	tar --format=ustar -b 1 --owner=0 --group=0 --numeric-owner --mtime=@0 --no-recursion \
		-cf "$T/gnu.tar" -T "$T/list"
)
[ "$(sha256sum <"$T/gnu.tar" | cut -c1-64)" = "$fp" ] && ok || bad "GNU tar reproduces the fingerprint"

# the same tree written again under another umask, in reverse order, with other times (and, as
# root, another owner) has the same fingerprint
(
	umask 077
	mkdir -p "$T/copy"
	cd "$T/app" && find . -mindepth 1 | LC_ALL=C sort -r | while read -r p; do
		if [ -L "$p" ]; then mkdir -p "$T/copy/$(dirname "$p")"; ln -s "$(readlink "$p")" "$T/copy/$p"
		elif [ -d "$p" ]; then mkdir -p "$T/copy/$p"
		else mkdir -p "$T/copy/$(dirname "$p")"; cat "$p" >"$T/copy/$p"; [ -x "$p" ] && chmod u+x "$T/copy/$p"
		fi
	done
	find "$T/copy" -exec touch -h -d 2001-02-03 {} +
	[ "$(id -u)" = 0 ] && chown -R -h 4242:4242 "$T/copy"
	true
)
expect 0 "fingerprint of the copy" -- "$CLOAK" fingerprint "$T/copy"
[ "$(cat "$T/out")" = "$fp" ] && ok || bad "umask, order, times and owner do not change the fingerprint"
echo x >>"$T/copy/src/main.py"
expect 0 "fingerprint after a one-byte change" -- "$CLOAK" fingerprint "$T/copy"
[ "$(cat "$T/out")" != "$fp" ] && ok || bad "a changed byte changes the fingerprint"

# --- package ---------------------------------------------------------------------------------
expect 0 "keygen" -- "$CLOAK" keygen --json
owner=$(jget "$T/out" "d['owner_key']")
[ "${owner:0:8}" = "ed25519:" ] && ok || bad "keygen prints ed25519:..."
[ "$(stat -c %a "$CLOAK_CONFIG_DIR/owner.key")" = 600 ] && ok || bad "owner key is 0600"
expect 0 "package with manifest" -- "$CLOAK" package "$T/app" -o "$T/app.pkg" --json \
	--manifest-out "$T/app.manifest" --name shop --run ./run.sh --health /healthz
[ "$(jget "$T/out" "d['fingerprint']")" = "$fp" ] && ok || bad "package fingerprint = fingerprint"
[ "$(stat -c %a "$T/app.pkg.key")" = 600 ] && ok || bad "package key is 0600"
grep -q "\"owner_key\":\"$owner\"" "$T/app.manifest" && ok || bad "manifest names the owner key"
grep -q "\"fingerprint\":\"$fp\"" "$T/app.manifest" && ok || bad "manifest names the fingerprint"
! grep -q secret "$T/app.pkg" && ok || bad "no plaintext in the package"
expect 0 "unpack checked against the manifest" -- "$CLOAK" unpack "$T/app.pkg" --key "$T/app.pkg.key" \
	--manifest "$T/app.manifest" -o "$T/out-dir" --json
[ ! -e "$T/out-dir/.git" ] && [ ! -e "$T/out-dir/debug.log" ] && ok || bad ".cloakignore applied"
[ "$(readlink "$T/out-dir/main")" = src/main.py ] && ok || bad "symlink kept"
expect 0 "fingerprint of the unpacked tree" -- "$CLOAK" fingerprint "$T/out-dir"
[ "$(cat "$T/out")" = "$fp" ] && ok || bad "unpacked tree has the same fingerprint"

# --- refusals ----------------------------------------------------------------------------------
expect 2 "package without args" -- "$CLOAK" package
expect 2 "manifest options without --manifest-out" -- "$CLOAK" package "$T/app" --name shop
expect 2 "bad app name" -- "$CLOAK" package "$T/app" -o "$T/x.pkg" --manifest-out "$T/x.m" \
	--name 'Bad Name' --run ./run.sh --health /healthz
grep -q "Bad Name" "$T/err" && ok || bad "bad name quoted"
[ ! -e "$T/x.pkg" ] && ok || bad "nothing written on a bad manifest"
mkfifo "$T/app/pipe"
expect 1 "fifo in the tree" -- "$CLOAK" fingerprint "$T/app"
grep -q pipe "$T/err" && ok || bad "the fifo is named"
expect 2 "fifo in the tree (package)" -- "$CLOAK" package "$T/app" -o "$T/y.pkg"
[ ! -e "$T/y.pkg" ] && [ ! -e "$T/y.pkg.key" ] && ok || bad "nothing written for a hostile tree"
rm "$T/app/pipe"
expect 2 "unpack over an existing dir" -- "$CLOAK" unpack "$T/app.pkg" --key "$T/app.pkg.key" -o "$T/out-dir"
cp "$T/app.pkg" "$T/tampered.pkg"
# flip byte 100 (writing a fixed value would change nothing when the ciphertext has it already)
python3 -c "f = open('$T/tampered.pkg', 'r+b'); f.seek(100); b = f.read(1); f.seek(100); f.write(bytes([b[0] ^ 0xff]))"
expect 1 "tampered package" -- "$CLOAK" unpack "$T/tampered.pkg" --key "$T/app.pkg.key" -o "$T/t-out"
grep -q package.auth "$T/err" && ok || bad "package.auth"
[ ! -e "$T/t-out" ] && ok || bad "nothing left behind"
expect 1 "wrong fingerprint" -- "$CLOAK" unpack "$T/app.pkg" --key "$T/app.pkg.key" \
	--fingerprint 0000000000000000000000000000000000000000000000000000000000000000 -o "$T/f-out"
[ ! -e "$T/f-out" ] && ok || bad "nothing left behind"
chmod 644 "$T/app.pkg.key"
expect 2 "world-readable key" -- "$CLOAK" unpack "$T/app.pkg" --key "$T/app.pkg.key"
grep -q "chmod 600" "$T/err" && ok || bad "key mode refused with advice"
chmod 600 "$T/app.pkg.key"
expect 0 "inspect package" -- "$CLOAK" inspect "$T/app.pkg" --json
[ "$(jget "$T/out" "d['kind']")" = package ] && ok || bad "inspect kind package"
expect 0 "inspect manifest" -- "$CLOAK" inspect "$T/app.manifest" --json
[ "$(jget "$T/out" "d['name']")" = shop ] && ok || bad "inspect manifest name"

# --- a signal while writing: what was written is removed, the signal then ends cloak ---------
mkdir -p "$T/big"
head -c $((96 << 20)) /dev/zero >"$T/big/blob"
expect 0 "package a large tree" -- "$CLOAK" package "$T/big" -o "$T/big.pkg"
for sig in INT TERM; do
	rm -rf "$T/big-out"
	# (a background job of a script ignores SIGINT: started with every signal at its default)
	python3 -c 'import os, signal, sys
for s in (signal.SIGINT, signal.SIGTERM): signal.signal(s, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$CLOAK" unpack "$T/big.pkg" --key "$T/big.pkg.key" \
		-o "$T/big-out" >/dev/null 2>"$T/sig.err" &
	upid=$!
	for _ in $(seq 1 5000); do # until the writing pass has begun (its staging directory)
		compgen -G "$T/big-out.cloak-unpack-*/blob" >/dev/null && break
		sleep 0.001
	done
	kill -"$sig" "$upid"
	wait "$upid"
	st=$?
	if [ -e "$T/big-out" ]; then
		echo "note: unpack finished before SIG$sig arrived" >&2
	else
		[ "$st" -gt 128 ] && ok || bad "SIG$sig ended unpack with status $st"
		grep -q interrupted "$T/sig.err" && ok || bad "SIG$sig named: $(cat "$T/sig.err")"
	fi
	compgen -G "$T/big-out.cloak-unpack-*" >/dev/null && bad "SIG$sig left plaintext behind: $(ls -d "$T"/big-out.cloak-unpack-*)" || ok
done

finish
