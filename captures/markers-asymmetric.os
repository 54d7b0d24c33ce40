# markers-asymmetric: NON-STANDARD for tshark 4.0. MPA markers in one direction only, as
# negotiated: the Request has M=0 and the Reply M=1, so the initiator (h1) puts markers in what
# it sends and the target (h2) does not. Queue depth 2 puts two FPDUs in one segment both ways
# (with markers from h1: the two advertises; without from h2: the two Read Requests, and a last
# Write with its close). tshark assumes markers both ways when either side asks (WIRE.md §5.5
# (a)) and one FPDU per marked segment ((b)). See markers-asymmetric.txt.
seed 31
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
conn c1 h1:49152 -> h2:3260 iwarp markers to-target depth 2
write 4K flow oneshot
write 4K flow oneshot
read 4K flow oneshot
read 4K flow oneshot
