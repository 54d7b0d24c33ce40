# oneshot-ddp-flags-appended: an 8 KiB one-shot write then an 8 KiB one-shot read, encoding
# ddp-flags (plain Send with SE, DDP reserved bit 0x10 advertise / 0x20 close) with placement
# appended (a 4-octet STag after the untagged DDP header). Decode with placement appended.
# See oneshot-ddp-flags-appended.txt.
seed 19
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
profile encoding ddp-flags placement appended
conn c1 h1:49152 -> h2:3260 iwarp
write 8K flow oneshot
read 8K flow oneshot
