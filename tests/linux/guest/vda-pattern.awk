# vda-pattern.awk: the data of the virtio-blk test's disk (linux:vda).
#
#   awk -v tag=TAG -v first=FIRST -v count=COUNT -f vda-pattern.awk
#
# prints COUNT 512-byte sectors, FIRST to FIRST+COUNT-1.  Each sector is 16
# lines of 32 bytes that name the tag, the sector and the line:
#
#   khyve sector 00000100 line 07 .
#
# so a sector read from the wrong place, or a sector that was written when
# it should not have been, shows what it holds.  The host makes the disk
# with tag "khyve" and the guest writes sectors with tag "WROTE"; both run
# this program with busybox awk (the host the fetched busybox).
BEGIN {
	fill = " ................................"
	for (s = first; s < first + count; s++)
		for (l = 0; l < 16; l++)
			printf "%-31.31s\n", sprintf("%s sector %08d line %02d", \
			    tag, s, l) fill
}
