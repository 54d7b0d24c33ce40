# oneshot-read: one 16 KiB one-shot read (ONESHOT.md §4), default profile (encoding opcode,
# placement rsvdulp): H1 advertise(S) + SCSI Command, H2 RDMA Write segments into S,
# H2 close(S) + SCSI Response. See oneshot-read.txt.
seed 12
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
conn c1 h1:49152 -> h2:3260 iwarp
read 16K flow oneshot
