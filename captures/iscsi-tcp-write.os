# iscsi-tcp-write: the same 16 KiB write over plain iSCSI/TCP (ONESHOT.md §4, FIG. 2), no RDMA:
# SCSI Command, R2T, Data-Out, SCSI Response. See iscsi-tcp-write.txt.
seed 15
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
conn c1 h1:49152 -> h2:3260 iscsi
write 16K flow iscsi-tcp
