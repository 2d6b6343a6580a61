#!/usr/bin/env bash
# Every symbol libcloak exports is in its one namespace, ck_ / CK_ (it links jansson, OpenSSL and
# libevent into programs that may have their own http_, json_ or tar_ functions).
# Usage: check_symbols.sh LIBCLOAK_ARCHIVE
set -u
bad=$(nm -g --defined-only "$1" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | grep -v '^ck_\|^CK_' | sort -u)
total=$(nm -g --defined-only "$1" | awk '$2 ~ /^[TDBRVW]$/' | wc -l)
if [ -n "$bad" ]; then
	echo "symbols outside ck_/CK_:" $bad >&2
	echo "0 passed, 1 failed"
	exit 1
fi
echo "$total exported symbols, all ck_ or CK_"
echo "1 passed, 0 failed"
