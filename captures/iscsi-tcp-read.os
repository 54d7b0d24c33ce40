# iscsi-tcp-read: a 16 KiB read over plain iSCSI/TCP (ONESHOT.md §4, FIG. 2), no RDMA:
# SCSI Command, Data-In, SCSI Response. See iscsi-tcp-read.txt.
seed 16
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
conn c1 h1:49152 -> h2:3260 iscsi
read 16K flow iscsi-tcp
