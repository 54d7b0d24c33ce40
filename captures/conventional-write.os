# conventional-write: the same 16 KiB write the conventional iSER way (ONESHOT.md §4, FIG. 3):
# Send with SE (iSER header with the STag + SCSI Command), RDMA Read, Send with SE (iSER + SCSI
# Response). No one-shot qualifier anywhere. See conventional-write.txt.
seed 13
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
conn c1 h1:49152 -> h2:3260 iwarp
write 16K flow conventional
