# conventional-read: a 16 KiB conventional iSER read (ONESHOT.md §4, FIG. 3): Send with SE
# (iSER + SCSI Command), RDMA Writes, Send with SE (iSER + SCSI Response). See conventional-read.txt.
seed 14
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
conn c1 h1:49152 -> h2:3260 iwarp
read 16K flow conventional
