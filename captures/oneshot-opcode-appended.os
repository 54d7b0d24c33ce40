# oneshot-opcode-appended: an 8 KiB one-shot write then an 8 KiB one-shot read, encoding opcode
# (0x8 advertise, 0xC close) with placement appended: the STag is a 4-octet field after the
# 18-octet untagged DDP header and RsvdULP stays zero. Decode with placement appended.
# See oneshot-opcode-appended.txt.
seed 17
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
profile encoding opcode placement appended
conn c1 h1:49152 -> h2:3260 iwarp
write 8K flow oneshot
read 8K flow oneshot
