#!/bin/sh
# One heavy line, then many small ones, then exit: the small ones sit in the
# pipe while the log sink is still busy with the heavy one.
printf 'first\n'
head -c 300000 /dev/zero | tr '\0' x
printf '\n'
# The reader is now busy with the heavy line.
sleep 0.2
i=1
while [ "$i" -le 500 ]; do
	echo "after $i"
	i=$((i + 1))
done
