#!/bin/sh
# Fails when the shared library exports a symbol without the closs_ prefix.
nm="$1"; lib="$2"
bad=$("$nm" -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | grep -v '^closs_')
if [ -n "$bad" ]; then
    echo "symbols exported without the closs_ prefix:"; echo "$bad"; exit 1
fi
count=$("$nm" -D --defined-only "$lib" | grep -c ' closs_')
echo "$count closs_ symbols exported, nothing else"
[ "$count" -gt 0 ]
