# no-handshake: NON-STANDARD for tshark 4.0. A capture started mid-connection: "capture from 20"
# leaves out the TCP and MPA handshakes of three iWARP connections, one with CRCs (c1), one
# without (c2), one with markers both ways (c3), and cuts c1 inside a Read Response FPDU that
# "fault split 700" spread over two segments. tshark needs the MPA Request/Reply and decodes
# nothing; oneshot-dissect finds c1 and c3 by the heuristic (CRC, marker phase) and c2 with
# -d tcp.port==3261,mpa,crc=off. See no-handshake.txt.
seed 30
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
conn c1 h1:49152 -> h2:3260 iwarp
conn c2 h1:49153 -> h2:3261 iwarp crc off
conn c3 h1:49154 -> h2:3262 iwarp markers both
write 4K flow oneshot on c1 fault split 700
write 4K flow oneshot on c2
write 4K flow oneshot on c3
read 4K flow oneshot on c1
read 4K flow oneshot on c2
read 4K flow oneshot on c3
capture from 20
