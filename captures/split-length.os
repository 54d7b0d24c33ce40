# split-length: NON-STANDARD for tshark 4.0. An FPDU whose 2-octet ULPDU_Length is split across
# two TCP segments (1 octet, then the rest), on a connection without markers (c1) and on one
# with markers both ways (c2): the first Read Response of each 2 KiB one-shot write, made by
# "fault split 1". tshark does not claim a 1-octet segment as MPA and loses the framing of that
# direction from there on. See split-length.txt.
seed 32
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
conn c1 h1:49152 -> h2:3260 iwarp
conn c2 h1:49153 -> h2:3261 iwarp markers both
write 2K flow oneshot on c1 fault split 1
write 2K flow oneshot on c2 fault split 1
