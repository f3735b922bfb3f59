#!/bin/sh
# A plain script for --exec: the event on stdin, logs on stdout/stderr, the
# exit code says whether it worked. It writes the log lines that are hard to
# read: a 3 MB line, invalid UTF-8, a last line without newline.
printf 'first\n'
head -c 3000000 /dev/zero | tr '\0' x
printf '\nmiddle\n'
printf 'bad \377\376 utf8\n'
echo "stderr line" >&2
printf 'event: '
cat
printf '\n'
case "${SCRIPT_MODE:-}" in
fail) printf 'failing-no-newline'; exit 4 ;;
slow) sleep 10 ;;
esac
printf 'last-no-newline'
