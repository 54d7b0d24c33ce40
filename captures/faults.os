# faults: NON-STANDARD on purpose. Eight 8 KiB one-shot writes, one fault each (the built-in
# "faults" scenario with a fixed seed): bad CRC, lost segment, reordering, an FPDU split inside a
# segment, close with a wrong STag, close with a wrong ITT, no close at all, both DDP bits.
# tshark 4.0 loses MPA framing at the split and decodes nothing after it. See faults.txt.
seed 21
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
conn c1 h1:49152 -> h2:3260 iwarp
write 8K fault crc
write 8K fault loss
write 8K fault reorder
write 8K fault split 1
write 8K fault close-wrong-stag
write 8K fault close-wrong-itt
write 8K fault never-close
write 8K fault both-bits
