# markers: NON-STANDARD for tshark 4.0. MPA markers negotiated in both directions, queue depth 4,
# eight 4 KiB one-shot writes, so several FPDUs share one TCP segment. tshark assumes one FPDU per
# segment when markers are on (WIRE.md §5.5 (b)) and decodes none of the FPDUs. See markers.txt.
seed 20
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
conn c1 h1:49152 -> h2:3260 iwarp markers both depth 4
repeat 8 {
    write 4K flow oneshot
}
