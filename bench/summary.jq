# One summary line for a siobench -json result; $s is the server name.
def r3: . * 1000 | round / 1000;
"  \($s) \(.scenario): \(.rate_per_s | round) \(.unit)/s"
+ ", p50 \(.latency_ms.p50 | r3) ms, p99 \(.latency_ms.p99 | r3) ms"
+ (if .server then ", server cpu \(.server.cpu_us_per_op | r3) µs/op (\(.server.cpu_util * 100 | round)% of a core)" else "" end)
+ (if .server.mem_per_conn_bytes then ", \(.server.mem_per_conn_bytes / 1024 | r3) KiB/conn" else "" end)
+ ", client cpu \(.client.cpu_util * 100 | round)%"
+ (if .ok then "" else ", FAILED" end)
